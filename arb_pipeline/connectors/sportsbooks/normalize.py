"""The Odds API v4 `/odds` response → `SportsbookQuote`s; pure, so it runs on live and recorded data alike.

The unit of rejection is one bookmaker's market: if any outcome in it is malformed the whole market is
reported as a problem and skipped (a market with an outcome missing would mislead de-vigging), while
every other market, bookmaker and event of the response is kept. Only a response that is not a list of
events at all is an error (`OddsPayloadError`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from arb_pipeline.arb.odds import american_to_decimal_exact
from arb_pipeline.connectors.sportsbooks.base import NormalizeProblem, NormalizeResult, league_for_sport
from arb_pipeline.connectors.sportsbooks.errors import OddsPayloadError
from arb_pipeline.connectors.sportsbooks.prices import (
    MAX_DECIMAL_ODDS,
    OddsFormat,
    detect_odds_format,
    json_number,
    to_decimal_odds,
)
from arb_pipeline.domain import SUPPORTED_MARKETS, Outcome, QuoteColumns, SportsbookQuote

_TOTALS_SIDES = {"Over": "over", "Under": "under"}
_MAX_AMERICAN = int((MAX_DECIMAL_ODDS - 1) * 100)  # `to_decimal_odds`' plausibility bound


class _Bad(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def parse_timestamp(value: object, path: str) -> datetime:
    """An ISO 8601 string (`dateFormat=iso`) or Unix seconds (`dateFormat=unix`) as an aware UTC datetime."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _Bad(path, f"timestamp {value!r} is not ISO 8601") from exc
        if parsed.tzinfo is None:
            raise _Bad(path, f"timestamp {value!r} has no timezone")
        return parsed.astimezone(UTC)
    try:
        number = json_number(value, "timestamp")
    except ValueError as exc:
        raise _Bad(path, str(exc)) from exc
    if number != number.to_integral_value():
        raise _Bad(path, f"unix timestamp {value!r} is not whole seconds")
    try:
        return datetime.fromtimestamp(int(number), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _Bad(path, f"unix timestamp {value!r} is out of range") from exc


def _text(obj: dict[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{path}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(path, f"expected an object, got {type(value).__name__}")
    return value


def _list(obj: dict[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise _Bad(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


def _children(obj: object, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _iter_prices(payload: list[Any]) -> Iterator[object]:
    """Every modelled outcome's raw price, tolerating any shape (shape errors are reported later)."""
    for event in payload:
        for book in _children(event, "bookmakers"):
            for market in _children(book, "markets"):
                if isinstance(market, dict) and market.get("key") in SUPPORTED_MARKETS:
                    for outcome in _children(market, "outcomes"):
                        if isinstance(outcome, dict):
                            yield outcome.get("price")


def normalize_odds_response(
    payload: object,
    *,
    sport_key: str,
    fetched_at: datetime,
    provider: str = "the_odds_api",
    odds_format: OddsFormat | None = None,
    source: str = "",
) -> NormalizeResult:
    """Quotes for every (event, bookmaker, market, outcome) of a `/v4/sports/{sport}/odds` response.

    `sport_key` is the sport requested; events claiming another sport are reported, not mixed in
    (with `sport_key="upcoming"` each event's own key is used). `odds_format=None` detects it from all
    prices together (see `prices.detect_odds_format`). `source` (a file or URL path) labels problems.
    """
    where = source or "odds response"
    if odds_format not in (None, "decimal", "american"):
        raise ValueError(f"odds_format must be 'decimal', 'american' or None, got {odds_format!r}")
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    if not isinstance(payload, list):
        raise OddsPayloadError(f"{where}: expected a JSON array of events at $, got {type(payload).__name__}")
    if odds_format is None:
        try:
            odds_format = detect_odds_format(_iter_prices(payload))
        except ValueError as exc:
            raise OddsPayloadError(f"{where}: {exc}") from exc
    return _normalize(payload, _State(provider, sport_key, fetched_at.astimezone(UTC), odds_format or "decimal",
                                      source), odds_format)


def normalize_odds_events(
    events: Iterable[object],
    *,
    sport_key: str,
    fetched_at: datetime,
    odds_format: OddsFormat,
    provider: str = "the_odds_api",
    source: str = "",
) -> NormalizeResult:
    """`normalize_odds_response` of a response given as its events one at a time, in order (e.g. a
    recorded file read item by item, `connectors.jsonstream.stream_array`), so a caller never holds
    the whole response's JSON. The odds format must be known (detection needs every price first): the
    same quotes, problems (same JSON paths) and columns as `normalize_odds_response(list(events), ...)`
    with that format."""
    if odds_format not in ("decimal", "american"):
        raise ValueError(f"odds_format must be 'decimal' or 'american', got {odds_format!r}")
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    return _normalize(events, _State(provider, sport_key, fetched_at.astimezone(UTC), odds_format, source),
                      odds_format)


def _normalize(events: Iterable[object], state: _State, odds_format: OddsFormat | None) -> NormalizeResult:
    seen_events: set[str] = set()
    for i, raw in enumerate(events):
        path = f"$[{i}]"
        event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        try:
            event = state.event(raw, path)
            if event["id"] in seen_events:
                raise _Bad(f"{path}.id", "duplicate event id in the same response; first one kept")
            seen_events.add(event["id"])
            books = _list(raw, "bookmakers", path)
        except _Bad as bad:
            state.problem(bad, event_id, None)
            continue
        seen_books: set[str] = set()
        for j, book in enumerate(books):
            state.bookmaker(event, book, f"{path}.bookmakers[{j}]", seen_books)
    return NormalizeResult(
        quotes=tuple(state.quotes),
        problems=tuple(state.problems),
        ignored_markets=dict(state.ignored),
        odds_format=odds_format,
        columns=QuoteColumns.from_quotes(state.quotes),  # the same quotes column-wise, for detection
    )


class _State:
    """Accumulates quotes and problems while walking one response."""

    def __init__(self, provider: str, sport_key: str, fetched_at: datetime, fmt: OddsFormat, source: str):
        self.provider, self.sport_key, self.fetched_at, self.fmt, self.source = (
            provider, sport_key, fetched_at, fmt, source)
        self.quotes: list[SportsbookQuote] = []
        self.problems: list[NormalizeProblem] = []
        self.ignored: Counter[str] = Counter()
        # American price → (its exact decimal odds, the price int kept for every quote of it): prices repeat
        self.american: dict[int, tuple[Decimal, int]] = {}
        # bookmaker keys and titles, outcome names: one str each for the whole response (every quote keeps
        # them, and the parsed JSON has a fresh copy per occurrence; ~20 MiB at 5,000 games)
        self.strings: dict[str, str] = {}
        self.times: dict[str | int, datetime] = {}  # timestamp text or Unix seconds → its datetime
        self.points: dict[int, Decimal] = {}  # a whole-number line point → one shared Decimal

    def timestamp(self, value: object, path: str, key: str) -> datetime:
        """`parse_timestamp(value, f"{path}.{key}")`, once per distinct text or Unix integer: a response
        repeats a few update times over tens of thousands of markets (and the datetimes are immutable)."""
        if type(value) is str or type(value) is int:
            found = self.times.get(value)
            if found is None:
                found = self.times[value] = parse_timestamp(value, f"{path}.{key}")
            return found
        return parse_timestamp(value, f"{path}.{key}")

    def problem(self, bad: _Bad, event_id: str | None, bookmaker: str | None) -> None:
        self.problems.append(NormalizeProblem(self.source, bad.path, bad.message, event_id, bookmaker))

    def event(self, raw: object, path: str) -> dict[str, Any]:
        obj = _obj(raw, path)
        event_id = _text(obj, "id", path)
        own_sport = obj.get("sport_key", self.sport_key)
        if self.sport_key == "upcoming":
            own_sport = _text(obj, "sport_key", path)
        elif own_sport != self.sport_key:
            raise _Bad(f"{path}.sport_key", f"event is {own_sport!r} but the response is for {self.sport_key!r}")
        home, away = _text(obj, "home_team", path), _text(obj, "away_team", path)
        if home == away:
            raise _Bad(path, f"home_team and away_team are both {home!r}")
        commence = self.timestamp(obj.get("commence_time"), path, "commence_time")
        # outcome name → side per market, in `_side`'s order of precedence (home, then away, then Draw)
        h2h = {"Draw": Outcome.DRAW.value, away: Outcome.AWAY.value, home: Outcome.HOME.value}
        sides = {"h2h": h2h, "spreads": {away: Outcome.AWAY.value, home: Outcome.HOME.value},
                 "totals": dict(_TOTALS_SIDES)}
        return {"id": event_id, "sport_key": own_sport, "home": home, "away": away, "commence": commence,
                "league": league_for_sport(own_sport), "sides": sides}

    def bookmaker(self, event: dict[str, Any], raw: object, path: str, seen: set[str]) -> None:
        key = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else None
        try:
            obj = _obj(raw, path)
            key = _text(obj, "key", path)
            if key in seen:
                raise _Bad(f"{path}.key", "duplicate bookmaker in the same event; first one kept")
            seen.add(key)
            title = obj.get("title") if isinstance(obj.get("title"), str) else key  # display only
            key, title = self.strings.setdefault(key, key), self.strings.setdefault(title, title)
            book_update = obj.get("last_update")
            book_updated = None if book_update is None else self.timestamp(book_update, path, "last_update")
            markets = _list(obj, "markets", path)
        except _Bad as bad:
            self.problem(bad, event["id"], key)
            return
        seen_markets: set[str] = set()
        for k, market in enumerate(markets):
            mpath = f"{path}.markets[{k}]"
            try:
                self.quotes.extend(self.market(event, key, title, book_updated, market, mpath, seen_markets))
            except _Bad as bad:
                self.problem(bad, event["id"], key)

    def market(self, event, book_key, book_title, book_updated, raw, path, seen) -> list[SportsbookQuote]:
        obj = _obj(raw, path)
        market_key = _text(obj, "key", path)
        if market_key not in SUPPORTED_MARKETS:
            self.ignored[market_key] += 1
            return []
        if market_key in seen:
            raise _Bad(f"{path}.key", f"duplicate {market_key!r} market for this bookmaker; first one kept")
        seen.add(market_key)
        market_key = self.strings.setdefault(market_key, market_key)  # one "spreads" for all its quotes
        raw_update = obj.get("last_update")
        if raw_update is not None:
            last_update = self.timestamp(raw_update, path, "last_update")
        elif book_updated is not None:
            last_update = book_updated
        else:
            raise _Bad(f"{path}.last_update", "no last_update at market or bookmaker level")
        outcomes = _list(obj, "outcomes", path)
        if not outcomes:
            raise _Bad(f"{path}.outcomes", "market has no outcomes")
        fast = self._well_formed(event, market_key, outcomes)
        if fast is not None:
            share = self.strings.setdefault
            return [self._quote(event, book_key, book_title, market_key, side, share(name, name), odds, american,
                                point, last_update) for side, name, odds, american, point in fast]
        quotes, sides = [], set()
        for n, raw_outcome in enumerate(outcomes):
            opath = f"{path}.outcomes[{n}]"
            outcome = _obj(raw_outcome, opath)
            name = _text(outcome, "name", opath)
            side = self._side(market_key, name, event, opath)
            if side in sides:
                raise _Bad(opath, f"outcome {side!r} appears twice in this market")
            sides.add(side)
            try:
                odds, american = to_decimal_odds(outcome.get("price"), self.fmt)
                point = None
                if market_key != "h2h":
                    point = json_number(outcome.get("point"), "point")
            except ValueError as exc:
                raise _Bad(opath, f"outcome {name!r}: {exc}") from exc
            quotes.append(self._quote(event, book_key, book_title, market_key, side, name, odds,
                                      american, point, last_update))
        return quotes

    def _well_formed(self, event: dict[str, Any], market_key: str, outcomes: list[Any]) -> list[tuple] | None:
        """The market's outcomes as (side, name, odds, american, point) when every one is well formed —
        the common case, read without building a JSON path per outcome; None sends the market through
        the checked loop of `market`, which names the first problem. Accepts exactly what that loop
        accepts from a parsed response (exact Decimals and ints); anything else (floats built in memory,
        "-110.0"-style American prices) takes the checked loop too."""
        sides_by_name = event["sides"][market_key]
        american_fmt = self.fmt == "american"
        out, seen = [], set()
        for outcome in outcomes:
            if type(outcome) is not dict:
                return None
            name = outcome.get("name")
            if type(name) is not str or not name.strip():
                return None
            side = sides_by_name.get(name)
            if side is None or side in seen:
                return None
            seen.add(side)
            price = outcome.get("price")
            if american_fmt:
                if type(price) is not int or not 100 <= abs(price) <= _MAX_AMERICAN:
                    return None
                kept = self.american.get(price)
                if kept is None:
                    kept = self.american[price] = (american_to_decimal_exact(price), price)
                odds, american = kept  # the first int object of this price: one per price, not per quote
            else:
                if type(price) is not Decimal or not price.is_finite() or not 1 < price <= MAX_DECIMAL_ODDS:
                    return None
                odds, american = price, None
            point = None
            if market_key != "h2h":
                point = outcome.get("point")
                if type(point) is int:
                    shared = self.points.get(point)
                    point = shared if shared is not None else self.points.setdefault(point, Decimal(point))
                elif type(point) is not Decimal or not point.is_finite():
                    return None
            out.append((side, name, odds, american, point))
        return out

    @staticmethod
    def _side(market_key: str, name: str, event: dict[str, Any], path: str) -> str:
        if market_key == "totals":
            side = _TOTALS_SIDES.get(name)
        elif name == event["home"]:
            side = Outcome.HOME.value
        elif name == event["away"]:
            side = Outcome.AWAY.value
        else:
            side = Outcome.DRAW.value if market_key == "h2h" and name == "Draw" else None
        if side is None:
            raise _Bad(f"{path}.name", f"outcome name {name!r} is neither team ({event['home']!r} / "
                                       f"{event['away']!r}) nor a known {market_key} outcome")
        return side

    def _quote(self, event, book_key, book_title, market_key, side, name, odds: Decimal,
               american: int | None, point: Decimal | None, last_update: datetime) -> SportsbookQuote:
        return SportsbookQuote(  # positional (the field order of SportsbookQuote): one per outcome
            self.provider, book_key, book_title, event["sport_key"], event["league"], event["id"], event["home"],
            event["away"], event["commence"], market_key, side, name, odds, last_update, self.fetched_at,
            point, american,
        )
