"""Kalshi Trade API v2 connector: signed, rate-limited, retrying REST client and pure wire parsers.

Import `KalshiClient` (or `get_shared_client`) for I/O; import `models` for parsing recorded
responses without any HTTP stack.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import (
    KalshiAuthError,
    KalshiBadRequest,
    KalshiConfigError,
    KalshiConnectionError,
    KalshiError,
    KalshiForbidden,
    KalshiNotFound,
    KalshiOrderRejected,
    KalshiOrderStateUnknown,
    KalshiRateLimited,
    KalshiResponseError,
    KalshiServerError,
    KalshiTimeout,
)

# The HTTP stack (httpx, asyncio, ssl, the RSA signer) is imported on first use of one of its names, not
# by importing the package: a parser import (`connectors.kalshi.models`, as `scan --snapshot` does) runs
# this file, and the HTTP stack cost it ~16 MiB of memory and ~0.1 s it never uses. The order and
# portfolio records likewise (~7 ms of a scan's imports: a scan places no order and reads no portfolio).
_LAZY = {
    "CancelOrderResult": "orders", "CreateOrderResult": "orders", "Order": "orders", "yes_leg_order": "orders",
    "Balance": "portfolio", "EventPosition": "portfolio", "Fill": "portfolio", "MarketPosition": "portfolio",
    "Positions": "portfolio", "Settlement": "portfolio",
    "KalshiClient": "client", "close_shared_client": "client", "get_shared_client": "client",
    "Backoff": "http", "Timeouts": "http",
    "RateLimiter": "ratelimit", "TokenBucket": "ratelimit",
    "KalshiAuth": "signing", "KalshiSigner": "signing",
    "RequestStats": "stats", "RequestStatsSnapshot": "stats",
}

if TYPE_CHECKING:
    from .client import KalshiClient, close_shared_client, get_shared_client
    from .http import Backoff, Timeouts
    from .orders import CancelOrderResult, CreateOrderResult, Order, yes_leg_order
    from .portfolio import Balance, EventPosition, Fill, MarketPosition, Positions, Settlement
    from .ratelimit import RateLimiter, TokenBucket
    from .signing import KalshiAuth, KalshiSigner
    from .stats import RequestStats, RequestStatsSnapshot


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Backoff",
    "Balance",
    "CancelOrderResult",
    "CreateOrderResult",
    "EventPosition",
    "Fill",
    "KalshiAuth",
    "KalshiAuthError",
    "KalshiBadRequest",
    "KalshiClient",
    "KalshiConfigError",
    "KalshiConnectionError",
    "KalshiError",
    "KalshiForbidden",
    "KalshiNotFound",
    "KalshiOrderRejected",
    "KalshiOrderStateUnknown",
    "KalshiRateLimited",
    "KalshiResponseError",
    "KalshiServerError",
    "KalshiSigner",
    "KalshiTimeout",
    "MarketPosition",
    "Order",
    "Positions",
    "RateLimiter",
    "RequestStats",
    "RequestStatsSnapshot",
    "Settlement",
    "Timeouts",
    "TokenBucket",
    "close_shared_client",
    "get_shared_client",
    "yes_leg_order",
]
