"""Pinnacle Lines API: the second odds provider behind `OddsProvider` (ODDS_PROVIDER=pinnacle).

Why it looks the way it does (wire notes: docs/odds-providers.md; sportsbook-odds.md §2.1):
- one sport is two calls joined by event id: `GET /v1/fixtures` (teams and start, key `league`,
  singular) and `GET /v2/odds` (prices, key `leagues`); both are kept verbatim and recorded together
  as `pinnacle_<sport_key>.json` = `{"fixtures": <body>, "odds": <body>}` (each body's bytes intact);
- HTTP Basic auth (PINNACLE_USERNAME / PINNACLE_PASSWORD, secrets); `oddsFormat=Decimal` is asked for
  (the API's default is American) and parsed exactly;
- one bookmaker, "pinnacle": its `maxMoneyline` / `maxSpread` / `maxTotal` become each quote's
  `max_stake`; only period `number` 0 (full game) with `status` 1 (open) is read, and only the main
  line of a spread/total (an entry with `altLineId` is an alternate line and is skipped);
- Pinnacle bills no credits (access is by account, closed to the public since 2025-07-23), so
  `estimate_cost` is 0 and quota tracking does not apply.

UNVERIFIED, configurable or reported rather than guessed: the sport and league ids of each of our
sport keys (PINNACLE_LEAGUES, no default: the reference gives none); the `spreadUpdatedAt` /
`totalUpdatedAt` field names (the reference elides them; without an update time a spread/total is
reported as a problem, never given an invented one); the error body; 429/5xx retry semantics
(treated like The Odds API's: retried with backoff).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from arb_pipeline.connectors.sportsbooks.base import NormalizeProblem, NormalizeResult, league_for_sport
from arb_pipeline.connectors.sportsbooks.errors import (
    OddsApiError,
    OddsAuthError,
    OddsPayloadError,
    OddsRateLimited,
    OddsRequestError,
    OddsServerError,
    OddsTransientError,
)
from arb_pipeline.connectors.sportsbooks.jsonio import loads_exact
from arb_pipeline.connectors.sportsbooks.normalize import SUPPORTED_MARKETS, parse_timestamp
from arb_pipeline.connectors.sportsbooks.prices import json_number, to_decimal_odds
from arb_pipeline.connectors.tls import default_ssl_context
from arb_pipeline.domain import SportsbookQuote

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

log = logging.getLogger(__name__)

PROVIDER_NAME = "pinnacle"
BOOKMAKER = "pinnacle"
BOOKMAKER_TITLE = "Pinnacle"
DEFAULT_BASE_URL = "https://api.pinnacle.com"
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)
FILE_PREFIX = "pinnacle_"  # recorded as pinnacle_<sport_key>.json in a snapshot directory
FULL_GAME, OPEN = 0, 1
# market -> (list/object key in the period, its update-time field, its limit field)
_MARKET_FIELDS = {
    "h2h": ("moneyline", "moneylineUpdatedAt", "maxMoneyline"),
    "spreads": ("spreads", "spreadUpdatedAt", "maxSpread"),  # update-time name UNVERIFIED
    "totals": ("totals", "totalUpdatedAt", "maxTotal"),  # update-time name UNVERIFIED
}


def parse_leagues(value: str) -> dict[str, tuple[int, int]]:
    """PINNACLE_LEAGUES: `sport_key:sportId:leagueId,...` (e.g. `basketball_nba:4:487`); clear errors."""
    out: dict[str, tuple[int, int]] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
            raise ValueError(f"PINNACLE_LEAGUES: {item!r} is not sport_key:sportId:leagueId (integers)")
        if parts[0] in out:
            raise ValueError(f"PINNACLE_LEAGUES: sport key {parts[0]!r} is listed twice")
        out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


@dataclass(frozen=True, slots=True)
class PinnacleResponse:
    """One sport's fixtures and odds as received: what a snapshot records (`file_name`, `text`)."""

    sport_key: str
    fixtures_text: str
    odds_text: str
    fetched_at: datetime
    odds_format: str = "decimal"
    quota: None = None  # no credits to track

    @property
    def file_name(self) -> str:
        return f"{FILE_PREFIX}{self.sport_key}.json"

    @property
    def text(self) -> str:
        # the two bodies byte for byte inside one JSON object: a replay parses exactly what was received
        return '{"fixtures":' + self.fixtures_text + ',"odds":' + self.odds_text + "}"

    @property
    def payload(self) -> Any:
        return {"fixtures": loads_exact(self.fixtures_text), "odds": loads_exact(self.odds_text)}


class _Bad(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _league_events(root: object, key: str, base: str, where: str, source: str,
                   problems: list[NormalizeProblem]) -> Iterator[tuple[str, Any]]:
    """Each event under `root[key][i].events[j]` with its JSON path. Fixtures and odds share the shape:
    a root that is not a list of leagues is an error; a league without events is a problem, skipped."""
    try:
        leagues = _list(root, key, base)
    except _Bad as bad:
        raise OddsPayloadError(f"{where}: {bad.path}: {bad.message}") from None
    for i, league in enumerate(leagues):
        try:
            events = _list(league, "events", f"{base}.{key}[{i}]")
        except _Bad as bad:
            problems.append(NormalizeProblem(source, bad.path, bad.message))
            continue
        for j, event in enumerate(events):
            yield f"{base}.{key}[{i}].events[{j}]", event


def _list(obj: object, key: str, path: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        raise _Bad(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


def _text(obj: dict[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{path}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _id(obj: dict[str, Any], path: str) -> str:
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) == "":
        raise _Bad(f"{path}.id", f"expected an integer id, got {value!r}")
    return str(value)


def normalize_pinnacle_response(payload: object, *, sport_key: str, fetched_at: datetime,
                                markets: Sequence[str] = SUPPORTED_MARKETS, source: str = "") -> NormalizeResult:
    """Quotes from `{"fixtures": <GET /v1/fixtures>, "odds": <GET /v2/odds>}` joined by event id.

    The unit of rejection is one market of one event (as for The Odds API): a malformed one is a
    problem and skipped, the rest kept. Only a payload that is not the two documented objects is an
    error (`OddsPayloadError`). An event with odds but no fixture (no team names) is a problem.
    """
    where = source or "pinnacle response"
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    if not isinstance(payload, dict) or not isinstance(payload.get("fixtures"), dict) \
            or not isinstance(payload.get("odds"), dict):
        raise OddsPayloadError(f"{where}: expected {{\"fixtures\": {{...}}, \"odds\": {{...}}}} at $")
    problems: list[NormalizeProblem] = []
    fixtures: dict[str, dict[str, Any]] = {}
    for path, event in _league_events(payload["fixtures"], "league", "$.fixtures", where, source, problems):
        try:
            if not isinstance(event, dict):
                raise _Bad(path, f"expected an object, got {type(event).__name__}")
            eid = _id(event, path)
            home, away = _text(event, "home", path), _text(event, "away", path)
            if home == away:
                raise _Bad(path, f"home and away are both {home!r}")
            starts = parse_timestamp(event.get("starts"), f"{path}.starts")
        except _Bad as bad:
            problems.append(NormalizeProblem(source, bad.path, bad.message))
            continue
        fixtures[eid] = {"id": eid, "home": home, "away": away, "starts": starts}
    quotes: list[SportsbookQuote] = []
    for path, event in _league_events(payload["odds"], "leagues", "$.odds", where, source, problems):
        try:
            if not isinstance(event, dict):
                raise _Bad(path, f"expected an object, got {type(event).__name__}")
            eid = _id(event, path)
            fixture = fixtures.get(eid)
            if fixture is None:
                raise _Bad(f"{path}.id", f"event {eid} has odds but no fixture (no team names)")
            periods = _list(event, "periods", path)
        except _Bad as bad:
            problems.append(NormalizeProblem(source, bad.path, bad.message, getattr(bad, "event", None)))
            continue
        for k, period in enumerate(periods):
            ppath = f"{path}.periods[{k}]"
            if not isinstance(period, dict) or period.get("number") != FULL_GAME:
                continue  # halves, quarters, ...: not the game the Kalshi markets settle on
            if period.get("status") != OPEN:
                problems.append(NormalizeProblem(source, f"{ppath}.status",
                                                 f"period status {period.get('status')!r} is not open (1)", eid,
                                                 BOOKMAKER))
                continue
            for market in markets:
                try:
                    quotes.extend(_market(period, market, fixture, sport_key, fetched_at, ppath))
                except _Bad as bad:
                    problems.append(NormalizeProblem(source, bad.path, bad.message, eid, BOOKMAKER))
    return NormalizeResult(tuple(quotes), tuple(problems), {}, "decimal")


def _market(period: dict[str, Any], market: str, fixture: dict[str, Any], sport_key: str, fetched_at: datetime,
            path: str) -> list[SportsbookQuote]:
    key, updated_key, limit_key = _MARKET_FIELDS[market]
    if period.get(key) in (None, [], {}):
        return []  # not offered
    raw_updated = period.get(updated_key)
    if raw_updated is None:
        raise _Bad(f"{path}.{updated_key}", f"no {updated_key}: the {market} prices' age is unknown")
    updated = parse_timestamp(raw_updated, f"{path}.{updated_key}")
    limit = None
    if period.get(limit_key) is not None:
        try:
            limit = json_number(period[limit_key], limit_key)
        except ValueError as exc:
            raise _Bad(f"{path}.{limit_key}", str(exc)) from None

    def quote(outcome: str, name: str, price: object, point: Decimal | None, where: str) -> SportsbookQuote:
        try:
            odds, _ = to_decimal_odds(price, "decimal")
        except ValueError as exc:
            raise _Bad(where, str(exc)) from None
        return SportsbookQuote(
            provider=PROVIDER_NAME, bookmaker=BOOKMAKER, bookmaker_title=BOOKMAKER_TITLE, sport_key=sport_key,
            league=league_for_sport(sport_key), event_id=fixture["id"], home_team=fixture["home"],
            away_team=fixture["away"], commence_time=fixture["starts"], market=market, outcome=outcome,
            outcome_name=name, decimal_odds=odds, last_update=updated, fetched_at=fetched_at, point=point,
            max_stake=limit)

    if market == "h2h":
        moneyline = period["moneyline"]
        if not isinstance(moneyline, dict):
            raise _Bad(f"{path}.moneyline", "expected an object")
        names = {"home": fixture["home"], "away": fixture["away"], "draw": "Draw"}
        return [quote(side, names[side], moneyline[side], None, f"{path}.moneyline.{side}")
                for side in ("home", "away", "draw") if moneyline.get(side) is not None]
    lines = period[key]
    if not isinstance(lines, list):
        raise _Bad(f"{path}.{key}", "expected a list")
    main = [(n, line) for n, line in enumerate(lines) if isinstance(line, dict) and line.get("altLineId") is None]
    if len(main) != 1:
        raise _Bad(f"{path}.{key}", f"expected one main line (no altLineId), found {len(main)}")
    n, line = main[0]
    lpath = f"{path}.{key}[{n}]"
    try:
        if market == "spreads":
            hdp = json_number(line.get("hdp"), "hdp")  # the home handicap: away is quoted at -hdp
            return [quote("home", fixture["home"], line.get("home"), hdp, f"{lpath}.home"),
                    quote("away", fixture["away"], line.get("away"), -hdp if hdp else hdp, f"{lpath}.away")]
        points = json_number(line.get("points"), "points")
    except ValueError as exc:
        raise _Bad(lpath, str(exc)) from None
    return [quote("over", "Over", line.get("over"), points, f"{lpath}.over"),
            quote("under", "Under", line.get("under"), points, f"{lpath}.under")]


class PinnacleProvider:
    """`OddsProvider` for the Pinnacle Lines API. Synchronous; one instance per poller."""

    name = PROVIDER_NAME

    def __init__(
        self,
        *,
        username: str,
        password: str | SecretStr,
        leagues: Mapping[str, tuple[int, int]],
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 16.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        secret = password if isinstance(password, SecretStr) else SecretStr(password)
        if not username.strip() or not secret.get_secret_value():
            raise OddsAuthError("Pinnacle credentials are empty (set PINNACLE_USERNAME and PINNACLE_PASSWORD)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.leagues = dict(leagues)
        self._retry = dict(max_attempts=max_attempts, initial=backoff_initial_s, max=backoff_max_s)
        self._clock, self._sleep = clock, sleep
        # the credentials live in the client's auth only: never in a repr, a URL or an error message
        self._client = httpx.Client(timeout=timeout, headers={"Accept": "application/json"}, verify=default_ssl_context(),
                                    auth=httpx.BasicAuth(username, secret.get_secret_value()))
        self.attempts = self.failed_attempts = 0
        self._count_lock = threading.Lock()  # one capture fetches its sports on several threads

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> PinnacleProvider:
        overrides.pop("on_alert", None)  # no credits, so no quota alerts
        if settings.pinnacle_username is None or settings.pinnacle_password is None:
            raise OddsAuthError("ODDS_PROVIDER=pinnacle needs PINNACLE_USERNAME and PINNACLE_PASSWORD")
        options: dict[str, Any] = dict(username=settings.pinnacle_username.get_secret_value(),
                                       password=settings.pinnacle_password,
                                       leagues=parse_leagues(settings.pinnacle_leagues),
                                       base_url=settings.pinnacle_base_url)
        options.update(overrides)
        return cls(**options)

    def __repr__(self) -> str:
        return f"PinnacleProvider(base_url={self.base_url!r}, sports={sorted(self.leagues)})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PinnacleProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def estimate_cost(self, markets: Sequence[str]) -> int:
        return 0  # Pinnacle bills no credits per call

    def ids_for(self, sport_key: str) -> tuple[int, int]:
        try:
            return self.leagues[sport_key]
        except KeyError:
            raise OddsRequestError(f"sport key {sport_key!r} has no Pinnacle sportId:leagueId in PINNACLE_LEAGUES "
                                   f"(configured: {', '.join(sorted(self.leagues)) or 'none'})") from None

    def fetch_odds(self, sport_key: str, *, markets: Sequence[str] = ("h2h",)) -> PinnacleResponse:
        """Fixtures and odds of one sport (all markets: Pinnacle sends them together), as received."""
        sport_id, league_id = self.ids_for(sport_key)
        params = {"sportId": str(sport_id), "leagueIds": str(league_id)}
        fixtures = self._get("/v1/fixtures", params)
        odds = self._get("/v2/odds", {**params, "oddsFormat": "Decimal"})
        return PinnacleResponse(sport_key, fixtures, odds, self._clock())

    def fetch_quotes(self, sport_key: str, *, markets: Sequence[str] = ("h2h",),
                     commence_time_from: datetime | None = None,
                     commence_time_to: datetime | None = None) -> NormalizeResult:
        response = self.fetch_odds(sport_key, markets=markets)
        try:
            payload = response.payload
        except ValueError as exc:
            raise OddsPayloadError(f"pinnacle {sport_key}: invalid JSON: {exc}") from None
        result = normalize_pinnacle_response(payload, sport_key=sport_key, fetched_at=response.fetched_at,
                                             markets=[m for m in markets if m in SUPPORTED_MARKETS],
                                             source=f"pinnacle {sport_key}")
        kept = tuple(q for q in result.quotes
                     if (commence_time_from is None or q.commence_time >= commence_time_from)
                     and (commence_time_to is None or q.commence_time <= commence_time_to))
        return NormalizeResult(kept, result.problems, result.ignored_markets, result.odds_format)

    # --- transport -------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str]) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self._retry["max_attempts"]),
            wait=wait_exponential_jitter(multiplier=self._retry["initial"], max=self._retry["max"],
                                         jitter=self._retry["initial"]),
            retry=retry_if_exception_type(OddsTransientError), sleep=self._sleep, reraise=True)
        return retrying(self._get_once, path, params)

    def _get_once(self, path: str, params: dict[str, str]) -> str:
        with self._count_lock:
            self.attempts += 1
        url = self.base_url + path
        shown = f"{url}?{httpx.QueryParams(params)}"
        try:
            try:
                response = self._client.get(url, params=params)
            except httpx.TimeoutException as exc:
                raise OddsServerError(f"GET {path} timed out ({type(exc).__name__})", url=shown) from None
            except httpx.TransportError as exc:
                raise OddsServerError(f"GET {path} failed: {type(exc).__name__}", url=shown) from None
            status = response.status_code
            if status >= 400:
                text = f"GET {path}: {(response.text or response.reason_phrase)[:300]}"
                if status in (401, 403):
                    raise OddsAuthError(text, status=status, url=shown)
                if status == 429:
                    raise OddsRateLimited(text, status=status, url=shown)
                if status >= 500:
                    raise OddsServerError(text, status=status, url=shown)
                raise OddsRequestError(text, status=status, url=shown)
            try:
                loads_exact(response.text)
            except ValueError as exc:
                raise OddsPayloadError(f"GET {path}: invalid JSON: {exc}") from None
            return response.text
        except (OddsApiError, OddsPayloadError):
            with self._count_lock:
                self.failed_attempts += 1
            raise
