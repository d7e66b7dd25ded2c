"""The Odds API v4 (the-odds-api.com): live odds over HTTP, normalized into `SportsbookQuote`s.

Why it looks the way it does:
- errors are classified on the body's `error_code` first (401 means both "bad key" and "out of
  credits"), and only transient ones (429, 5xx, timeouts) are retried, with exponential backoff;
- every billed call is checked against the quota floor *before* it is sent (`quota.py`); when the
  balance is not known yet (fresh process) a free `/v4/sports` call learns it first;
- the api key travels as the `apiKey` query parameter (the API has no header auth), so every URL put
  in an error or a log line is redacted, including httpx's own request log.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import SecretStr
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from arb_pipeline.connectors.sportsbooks.base import NormalizeResult, split_names
from arb_pipeline.connectors.sportsbooks.errors import (
    OddsApiError,
    OddsAuthError,
    OddsPayloadError,
    OddsQuotaExhausted,
    OddsRateLimited,
    OddsRequestError,
    OddsServerError,
    OddsTransientError,
    redact_url,
)
from arb_pipeline.connectors.sportsbooks.jsonio import loads_exact
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response
from arb_pipeline.connectors.sportsbooks.prices import OddsFormat
from arb_pipeline.connectors.sportsbooks.quota import AlertHook, QuotaState, QuotaTracker, estimate_cost
from arb_pipeline.connectors.tls import default_ssl_context

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

PROVIDER_NAME = "the_odds_api"
DEFAULT_BASE_URL = "https://api.the-odds-api.com"
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)
COMMENCE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SPORT_KEY_RE = re.compile(r"^[a-z0-9_]+$")
_AUTH_CODES = {"MISSING_KEY", "INVALID_KEY", "DEACTIVATED_KEY"}


def parse_json_exact(text: str, where: str) -> Any:
    """JSON with every fractional number as an exact `Decimal`; errors name `where` and line/column."""
    try:
        return loads_exact(text)
    except json.JSONDecodeError as exc:
        raise OddsPayloadError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise OddsPayloadError(f"{where}: invalid JSON: {exc}") from None


class _RedactApiKey(logging.Filter):
    """Rewrites httpx's `HTTP Request: GET <url>` log records so the url's apiKey never reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_url(a) if isinstance(a, httpx.URL | str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def _install_log_redaction() -> None:
    for name in ("httpx", "httpcore"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactApiKey) for f in target.filters):
            target.addFilter(_RedactApiKey())


@dataclass(frozen=True, slots=True)
class SportInfo:
    """One entry of `GET /v4/sports`."""

    key: str
    group: str
    title: str
    description: str
    active: bool
    has_outrights: bool


@dataclass(frozen=True, slots=True)
class OddsResponse:
    """One `/odds` response as received (JSON numbers already exact), kept so it can be recorded."""

    sport_key: str
    payload: Any
    fetched_at: datetime
    odds_format: OddsFormat
    quota: QuotaState | None
    text: str | None = None  # the body exactly as received: what a recorded snapshot stores


@dataclass(frozen=True, slots=True)
class _Received:
    payload: Any
    fetched_at: datetime
    text: str


class TheOddsApiProvider:
    """`OddsProvider` for The Odds API v4. Synchronous; one instance per poller (it tracks the quota)."""

    name = PROVIDER_NAME

    def __init__(
        self,
        *,
        api_key: str | SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        regions: Sequence[str] = ("us",),
        bookmakers: Sequence[str] = (),
        odds_format: OddsFormat = "decimal",
        date_format: Literal["iso", "unix"] = "iso",
        quota_floor: int = 50,
        on_alert: AlertHook | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 16.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not key.get_secret_value().strip():
            raise OddsAuthError("The Odds API key is empty (set ODDS_API_KEY)")
        if not split_names(regions) and not split_names(bookmakers):
            raise ValueError("regions or bookmakers is required")
        if odds_format not in ("decimal", "american") or date_format not in ("iso", "unix"):
            raise ValueError(f"unsupported odds_format/date_format {odds_format!r}/{date_format!r}")
        self._key = key
        base = base_url.rstrip("/")
        self.base_url = base[: -len("/v4")] if base.endswith("/v4") else base  # paths add /v4 themselves
        self.regions, self.bookmakers = split_names(regions), split_names(bookmakers)
        self.odds_format: OddsFormat = odds_format
        self.date_format = date_format
        self.quota = QuotaTracker(floor=quota_floor, on_alert=on_alert, provider=PROVIDER_NAME)
        self._retry = dict(max_attempts=max_attempts, initial=backoff_initial_s, max=backoff_max_s)
        self._clock, self._sleep = clock, sleep
        self._client = httpx.Client(timeout=timeout, headers={"Accept": "application/json"},
                                    verify=default_ssl_context())
        self.attempts = self.failed_attempts = 0  # HTTP attempts (a retried call is several)
        self._count_lock = threading.Lock()  # one capture fetches its sports on several threads
        _install_log_redaction()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, on_alert: AlertHook | None = None, **overrides: Any
    ) -> TheOddsApiProvider:
        """Built from the ODDS_* settings; `overrides` (e.g. timeout, max_attempts) win over them."""
        if settings.odds_api_key is None:
            raise OddsAuthError("ODDS_API_KEY is not set")
        options: dict[str, Any] = dict(
            api_key=settings.odds_api_key,
            base_url=settings.odds_api_base_url,
            regions=split_names(settings.odds_api_regions),
            bookmakers=split_names(settings.odds_api_bookmakers),
            odds_format=settings.odds_api_format,
            quota_floor=settings.odds_api_quota_floor,
            on_alert=on_alert,
        )
        options.update(overrides)
        return cls(**options)

    def __repr__(self) -> str:
        return f"TheOddsApiProvider(base_url={self.base_url!r}, regions={self.regions}, bookmakers={self.bookmakers})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TheOddsApiProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public calls ----------------------------------------------------------------------------

    def estimate_cost(self, markets: Sequence[str]) -> int:
        """Credits one `/odds` call for `markets` costs with this provider's regions/bookmakers."""
        return estimate_cost(markets, regions=self.regions, bookmakers=self.bookmakers)

    def list_sports(self, *, all_sports: bool = False) -> list[SportInfo]:
        """`GET /v4/sports` (free). Also refreshes the quota state, e.g. after a monthly reset."""
        payload = self._get("/v4/sports", {"all": "true"} if all_sports else {}, cost=0).payload
        if not isinstance(payload, list):
            raise OddsPayloadError(f"GET /v4/sports: expected a JSON array, got {type(payload).__name__}")
        sports = []
        for i, item in enumerate(payload):
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise OddsPayloadError(f"GET /v4/sports: $[{i}] is not a sport object with a string key")
            sports.append(SportInfo(
                key=item["key"], group=str(item.get("group", "")), title=str(item.get("title", "")),
                description=str(item.get("description", "")), active=bool(item.get("active", False)),
                has_outrights=bool(item.get("has_outrights", False)),
            ))
        return sports

    def fetch_odds(
        self,
        sport_key: str,
        *,
        markets: Sequence[str] = ("h2h",),
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
        event_ids: Sequence[str] = (),
    ) -> OddsResponse:
        """`GET /v4/sports/{sport}/odds` as received: the raw payload, for recording and normalizing."""
        if not _SPORT_KEY_RE.match(sport_key):
            raise ValueError(f"invalid sport key {sport_key!r}")
        markets, event_ids = split_names(markets), split_names(event_ids)
        params: dict[str, str] = {
            "markets": ",".join(markets),
            "oddsFormat": self.odds_format,
            "dateFormat": self.date_format,
        }
        if self.bookmakers:  # priority over regions, and billed per group of 10
            params["bookmakers"] = ",".join(self.bookmakers)
        else:
            params["regions"] = ",".join(self.regions)
        if commence_time_from and commence_time_to and commence_time_to <= commence_time_from:
            raise ValueError("commence_time_to must be later than commence_time_from")
        for name, value in (("commenceTimeFrom", commence_time_from), ("commenceTimeTo", commence_time_to)):
            if value is not None:
                if value.tzinfo is None:
                    raise ValueError(f"{name} must be timezone-aware")
                params[name] = value.astimezone(UTC).strftime(COMMENCE_TIME_FORMAT)
        if event_ids:
            params["eventIds"] = ",".join(event_ids)
        cost = self.estimate_cost(markets)
        if self.quota.state is None or self.quota.state.remaining is None:
            self.list_sports()  # free: learn the balance first, so even a fresh process honours the floor
        received = self._get(f"/v4/sports/{sport_key}/odds", params, cost=cost)
        return OddsResponse(sport_key, received.payload, received.fetched_at, self.odds_format, self.quota.state,
                            received.text)

    def fetch_quotes(
        self,
        sport_key: str,
        *,
        markets: Sequence[str] = ("h2h",),
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
    ) -> NormalizeResult:
        response = self.fetch_odds(sport_key, markets=markets, commence_time_from=commence_time_from,
                                   commence_time_to=commence_time_to)
        return normalize_odds_response(
            response.payload, sport_key=sport_key, fetched_at=response.fetched_at, provider=PROVIDER_NAME,
            odds_format=response.odds_format, source=f"GET /v4/sports/{sport_key}/odds",
        )

    # --- transport -------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str], *, cost: int) -> _Received:
        retrying = Retrying(
            stop=stop_after_attempt(self._retry["max_attempts"]),
            wait=wait_exponential_jitter(multiplier=self._retry["initial"], max=self._retry["max"],
                                         jitter=self._retry["initial"]),
            retry=retry_if_exception_type(OddsTransientError),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._get_once, path, params, cost)

    def _get_once(self, path: str, params: dict[str, str], cost: int) -> _Received:
        """One HTTP attempt, counted: `attempts` / `failed_attempts` feed the circuit breaker's API
        error rate (a 5xx burst, a 429 storm or timeouts on the odds feed are an unhealthy venue too)."""
        # before every attempt: a retry must not spend below the floor either; the credits stay held
        # while the call is in flight, so overlapping calls (services.ingest) are checked together
        with self.quota.reserve(cost):
            with self._count_lock:
                self.attempts += 1
            try:
                return self._attempt(path, params)
            except (OddsApiError, OddsPayloadError):  # a malformed body is a failed attempt too
                with self._count_lock:
                    self.failed_attempts += 1
                raise

    def _attempt(self, path: str, params: dict[str, str]) -> _Received:
        url = self.base_url + path
        shown = f"{url}?{httpx.QueryParams(params)}&apiKey=***"  # what an error may show
        try:
            response = self._client.get(url, params={**params, "apiKey": self._key.get_secret_value()})
        except httpx.TimeoutException as exc:
            raise OddsServerError(f"GET {path} timed out ({type(exc).__name__})", url=shown) from None
        except httpx.TransportError as exc:
            raise OddsServerError(f"GET {path} failed: {type(exc).__name__}: {redact_url(exc)}", url=shown) from None
        fetched_at = self._clock()
        self.quota.observe(response.headers, fetched_at)
        if response.status_code >= 400:
            raise self._error(response, path, shown)
        return _Received(parse_json_exact(response.text, f"GET {path}"), fetched_at, response.text)

    def _error(self, response: httpx.Response, path: str, shown: str) -> OddsApiError:
        status = response.status_code
        code = message = None
        try:
            body = response.json()
            if isinstance(body, dict):
                code = body.get("error_code") if isinstance(body.get("error_code"), str) else None
                message = body.get("message") if isinstance(body.get("message"), str) else None
        except (ValueError, RecursionError):
            pass
        text = f"GET {path}: {(message or response.text or response.reason_phrase)[:300]}"
        kwargs = dict(status=status, error_code=code, url=shown)
        if code == "OUT_OF_USAGE_CREDITS":
            error = OddsQuotaExhausted(text, **kwargs)
            self.quota.mark_exhausted(self._clock())
            self.quota.alert("critical", f"{PROVIDER_NAME}: usage credits exhausted, polling stopped: {error}")
            return error
        if code in _AUTH_CODES:
            return OddsAuthError(text, **kwargs)
        if code == "EXCEEDED_FREQ_LIMIT" or status == 429:
            return OddsRateLimited(text, **kwargs)
        if status >= 500:
            return OddsServerError(text, **kwargs)
        if status in (401, 403) and not (code or "").startswith("HISTORICAL_"):
            return OddsAuthError(text, **kwargs)
        return OddsRequestError(text, **kwargs)
