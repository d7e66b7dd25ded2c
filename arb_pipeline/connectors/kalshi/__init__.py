"""Kalshi Trade API v2 connector: signed, rate-limited, retrying REST client and pure wire parsers.

Import `KalshiClient` (or `get_shared_client`) for I/O; import `models` for parsing recorded
responses without any HTTP stack.
"""

from .client import KalshiClient, close_shared_client, get_shared_client
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
from .http import Backoff, Timeouts
from .orders import CancelOrderResult, CreateOrderResult, Order, yes_leg_order
from .portfolio import Balance, EventPosition, Fill, MarketPosition, Positions, Settlement
from .ratelimit import RateLimiter, TokenBucket
from .signing import KalshiAuth, KalshiSigner
from .stats import RequestStats, RequestStatsSnapshot

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
