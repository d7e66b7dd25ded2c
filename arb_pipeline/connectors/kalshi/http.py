"""One HTTP call to Kalshi: rate limit, sign, send, map errors, retry, count.

Retries (tenacity, exponential backoff with jitter) cover exactly the failures where sending the
same request again is safe and may succeed: 429, 5xx, timeouts and dropped connections. Any other
4xx is our fault and is raised at once. Non-idempotent calls are only retried when the caller
says the body carries an idempotency key (the order create's client_order_id) — see
`KalshiClient.create_order` for how a 409 on such a retry is resolved.

Raised errors never chain the httpx exception (`from None`): httpx errors hold the request, and
the request holds the signature header.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from arb_pipeline.connectors.tls import default_ssl_context

from .errors import (
    KalshiConnectionError,
    KalshiError,
    KalshiResponseError,
    KalshiTimeout,
    error_for_status,
)
from .ratelimit import RateLimiter
from .signing import KalshiAuth, KalshiSigner
from .stats import RequestStats

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Explicit per-phase timeouts in seconds (a hung venue must never hang a scan)."""

    connect_s: float = 3.0
    read_s: float = 10.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_s, read=self.read_s, write=self.read_s, pool=self.connect_s)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter between attempts: initial * 2^n (+ jitter), capped."""

    initial_s: float = 0.25
    max_s: float = 8.0
    jitter_s: float = 0.25


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, KalshiError) and exc.retryable


class KalshiHttp:
    """The pooled httpx client plus the cross-cutting policy every endpoint shares."""

    def __init__(
        self,
        base_url: str,
        *,
        signer: KalshiSigner | None,
        limiter: RateLimiter,
        stats: RequestStats,
        timeouts: Timeouts,
        max_retries: int,
        backoff: Backoff,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        if not httpx.URL(self.base_url).path.endswith("/trade-api/v2"):
            # The signed path must include /trade-api/v2 (§2.1); a base URL without it signs wrong paths.
            log.warning("KALSHI_BASE_URL %r does not end in /trade-api/v2: signatures will not verify", self.base_url)
        self.limiter = limiter
        self.stats = stats
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=KalshiAuth(signer) if signer is not None else None,
            timeout=timeouts.to_httpx(),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "arb-pipeline/kalshi"},
            follow_redirects=False,  # a redirect would re-sign a different path; fail loudly instead
            verify=default_ssl_context(),
        )

    def close(self) -> None:
        self._client.close()

    def _send_once(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        order_endpoint: bool,
        raw: bool = False,
    ) -> Any:
        self.limiter.acquire(method, path)
        self.stats.record_request()
        try:
            response = self._client.request(method, path.lstrip("/"), params=params, json=json)
        except httpx.TimeoutException as exc:
            error: KalshiError = KalshiTimeout(f"{type(exc).__name__}: no response in time", endpoint=endpoint)
        except httpx.TransportError as exc:
            error = KalshiConnectionError(f"{type(exc).__name__}: connection failed", endpoint=endpoint)
        except httpx.RequestError as exc:  # e.g. a body that fails to decode mid-stream
            error = KalshiConnectionError(f"{type(exc).__name__}: response not received intact", endpoint=endpoint)
        else:
            if not 200 <= response.status_code < 300:  # 3xx too: redirects are never followed
                error = error_for_status(
                    response.status_code, response.content, endpoint=endpoint, order_endpoint=order_endpoint
                )
            else:
                return (response.content or b"{}") if raw else self._decode(response, endpoint)
        self.stats.record_error(error)
        raise error from None

    def _decode(self, response: httpx.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except (ValueError, RecursionError):  # RecursionError: nested beyond the recursion limit
            error = KalshiResponseError(
                f"malformed JSON in a {response.status_code} response ({len(response.content)} bytes)",
                endpoint=endpoint,
                status=response.status_code,
            )
        self.stats.record_error(error)
        raise error from None

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        order_endpoint: bool = False,
        on_retry: Callable[[int, KalshiError], None] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send with retries; return the decoded JSON body (a dict for every Kalshi endpoint), or with
        `raw` the body's bytes as received (`b"{}"` for an empty one), for a caller that decodes them
        itself (`rawpages`: a capture keeps market data verbatim and parses it once).

        `path` is relative to the API root (``/markets``); `endpoint` is the label errors carry.
        """

        def before_sleep(state: Any) -> None:
            exc = state.outcome.exception()
            self.stats.record_retry()
            log.warning(
                "kalshi %s failed (%s), retry %d/%d", endpoint, type(exc).__name__, state.attempt_number, self.max_retries
            )
            if on_retry is not None:
                on_retry(state.attempt_number, exc)

        retrying_kwargs: dict[str, Any] = {
            "stop": stop_after_attempt(self.max_retries + 1),
            "wait": wait_exponential_jitter(
                multiplier=self.backoff.initial_s, max=self.backoff.max_s, jitter=self.backoff.jitter_s
            ),
            "retry": retry_if_exception(_retryable),
            "before_sleep": before_sleep,
            "reraise": True,
        }
        if self._sleep is not None:
            retrying_kwargs["sleep"] = self._sleep
        for attempt in Retrying(**retrying_kwargs):
            with attempt:
                return self._send_once(
                    method, path, endpoint, params=params, json=json, order_endpoint=order_endpoint, raw=raw
                )
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover
