"""Typed Kalshi errors, and the mapping from an HTTP error response to one of them.

Callers branch on the *type* (retry or not, alert or not, reconcile or not) and on Kalshi's
stable `code` string, never on message text. Pure: no httpx import, so the replay and the pure
layers can catch these without pulling the HTTP stack in.

Every error carries only the endpoint label (``"POST /portfolio/events/orders"``), the status,
Kalshi's code and a truncated message from the venue's body. Never request headers, the key id,
the private key or the signature: exceptions end up in logs, alerts and Dagster metadata.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_MESSAGE = 300


class KalshiError(Exception):
    """Base of every Kalshi connector error."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
    ) -> None:
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.details = details
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.endpoint] if self.endpoint else []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        head = " ".join(parts)
        text = self.message if not self.details else f"{self.message} ({self.details})"
        return f"{head}: {text}" if head else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class KalshiConfigError(KalshiError, ValueError):
    """Bad local configuration (key file unreadable, key id without key, bad tier...)."""


class KalshiAuthError(KalshiError):
    """401: wrong key id, wrong key, stale timestamp or a badly signed path."""


class KalshiForbidden(KalshiError):
    """403: the key lacks the scope or permission for this call."""


class KalshiNotFound(KalshiError):
    """404: no such market, order, series..."""


class KalshiBadRequest(KalshiError):
    """400/409/422 on a non-order endpoint: our request is wrong; retrying cannot help."""


class KalshiOrderRejected(KalshiError):
    """400/409 on an order endpoint; `code` is Kalshi's (INSUFFICIENT_BALANCE, MARKET_INACTIVE...)."""


class KalshiOrderStateUnknown(KalshiError):
    """The venue may hold an order we cannot see yet: reconcile by client_order_id, never resend."""

    def __init__(self, message: str, *, client_order_id: str, **kwargs: object) -> None:
        self.client_order_id = client_order_id
        super().__init__(f"{message} [client_order_id={client_order_id}]", **kwargs)  # type: ignore[arg-type]


class KalshiRateLimited(KalshiError):
    """429: the venue's token bucket is empty. Retried with backoff; raised once retries run out."""

    retryable = True


class KalshiServerError(KalshiError):
    """5xx: the venue failed. Retried with backoff; raised once retries run out."""

    retryable = True


class KalshiTimeout(KalshiError):
    """Connect/read/write/pool timeout. Retried; raised once retries run out."""

    retryable = True


class KalshiConnectionError(KalshiError):
    """The connection failed or dropped before a response arrived. Retried."""

    retryable = True


class KalshiResponseError(KalshiError):
    """The venue answered 2xx with a body we cannot trust: malformed JSON, a missing or bad field."""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def parse_error_body(body: bytes | str | None) -> tuple[str | None, str, str | None]:
    """Return (code, message, details) from any of the error-body shapes Kalshi is seen to send.

    Shapes: nested ``{"error": {"code", "message", "details"}}`` (seen by third parties), flat
    ``{"code", "message", "details"}`` (the spec's ErrorResponse), the 429 body
    ``{"error": "too many requests"}``, and anything else (HTML from a proxy, empty), which
    becomes the clipped text.
    """
    if body is None:
        return None, "", None
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        doc: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return None, _clip(raw), None
    if isinstance(doc, dict):
        inner = doc.get("error")
        if isinstance(inner, dict):
            doc = inner
        elif isinstance(inner, str) and "code" not in doc and "message" not in doc:
            return None, _clip(inner), None
        code = doc.get("code")
        message = doc.get("message")
        details = doc.get("details")
        return (
            str(code) if code not in (None, "") else None,
            _clip(str(message)) if message is not None else _clip(raw),
            _clip(str(details)) if details not in (None, "") else None,
        )
    return None, _clip(raw), None


def error_for_status(status: int, body: bytes | str | None, *, endpoint: str, order_endpoint: bool) -> KalshiError:
    """Map a non-2xx response to the typed error a caller should see."""
    code, message, details = parse_error_body(body)
    message = message or f"HTTP {status}"
    kwargs = {"endpoint": endpoint, "status": status, "code": code, "details": details}
    if status == 401:
        return KalshiAuthError(message, **kwargs)
    if status == 403:
        return KalshiForbidden(message, **kwargs)
    if status == 404:
        return KalshiNotFound(message, **kwargs)
    if status == 429:
        return KalshiRateLimited(message, **kwargs)
    if status >= 500:
        return KalshiServerError(message, **kwargs)
    if order_endpoint and status in (400, 409, 422):
        return KalshiOrderRejected(message, **kwargs)
    return KalshiBadRequest(message, **kwargs)
