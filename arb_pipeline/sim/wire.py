"""Request-parsing and pagination helpers shared by the simulated venues' routes.

Kept apart so that both venues reject bad parameters in their own error format rather than
FastAPI's default 422 body, which neither real venue sends.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import TypeVar

from starlette.datastructures import QueryParams

T = TypeVar("T")


class BadParam(ValueError):
    """A query parameter is invalid; the message names it."""


def int_param(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParam(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadParam(f"{name} must be between {low} and {high}")
    return value


def bool_param(params: QueryParams, name: str) -> bool:
    raw = (params.get(name) or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise BadParam(f"{name} must be true or false")
    return raw in ("true", "1")


def list_param(params: QueryParams, name: str) -> list[str]:
    """Values of a parameter given repeated (`?t=A&t=B`) and/or comma-separated (`?t=A,B`)."""
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def _fingerprint(params: QueryParams) -> str:
    kept = sorted((k, v) for k, v in params.multi_items() if k not in ("cursor", "limit"))
    return hashlib.sha1(json.dumps(kept).encode()).hexdigest()[:10]


def paginate(items: Sequence[T], params: QueryParams, limit: int) -> tuple[list[T], str]:
    """One page and the cursor of the next; the last page's cursor is "" (never null)."""
    raw = params.get("cursor") or ""
    offset = 0
    if raw:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
            offset, fingerprint = int(decoded["o"]), str(decoded["f"])
        except (ValueError, KeyError, TypeError):
            raise BadParam("cursor is not valid") from None
        if fingerprint != _fingerprint(params):
            raise BadParam("cursor was issued for different filters; keep every other filter identical")
    page = list(items[offset:offset + limit])
    nxt = offset + limit
    if nxt >= len(items):
        return page, ""
    token = json.dumps({"o": nxt, "f": _fingerprint(params)}).encode()
    return page, base64.urlsafe_b64encode(token).decode().rstrip("=")
