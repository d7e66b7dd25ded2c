"""The Odds API v4 `/odds` response → `SportsbookQuote`s; pure, so it runs on live and recorded data alike.

The unit of rejection is one bookmaker's market: if any outcome in it is malformed the whole market is
reported as a problem and skipped (a market with an outcome missing would mislead de-vigging), while
every other market, bookmaker and event of the response is kept. Only a response that is not a list of
events at all is an error (`OddsPayloadError`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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
from arb_pipeline.domain import (
    SUPPORTED_MARKETS,
    Outcome,
    QuoteColumns,
    SportsbookQuote,
    new_quote,
    odds_mirror,
    update_mirror,
)

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


def _text(value: object, path: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{path}.{key}", f"expected a non-empty string, got {value!r}")
    return value


def _not_object(value: object, path: str) -> _Bad:
    return _Bad(path, f"expected an object, got {type(value).__name__}")


def _list(value: object, path: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


class _Absent:
    """A member missing from its object (`event.sport_key` means "the response's sport" only then)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class Shape:
    """How the normalizer reads each level of a response, so one walk (one set of rules) serves both the
    parsed JSON (dicts, `DICTS`) and `odds_msgspec`'s decoded Structs. Each reader returns the fields the
    rules use, in a fixed order, or None when the node is not an object (a problem at its path). A member
    missing from its object reads as None, like `dict.get` - except `sport_key`, which reads `ABSENT`.

    event: (id, sport_key, home_team, away_team, commence_time, bookmakers)
    bookmaker: (key, title, last_update, markets)
    market: (key, last_update, outcomes)
    outcome: (name, price, point)
    """

    event: Callable[[object], tuple | None]
    bookmaker: Callable[[object], tuple | None]
    market: Callable[[object], tuple | None]
    outcome: Callable[[object], tuple | None]


def _dict_event(raw: object) -> tuple | None:
    if not isinstance(raw, dict):
        return None
    get = raw.get
    return (get("id"), get("sport_key", ABSENT), get("home_team"), get("away_team"), get("commence_time"),
            get("bookmakers"))


def _dict_bookmaker(raw: object) -> tuple | None:
    if not isinstance(raw, dict):
        return None
    get = raw.get
    return get("key"), get("title"), get("last_update"), get("markets")


def _dict_market(raw: object) -> tuple | None:
    if not isinstance(raw, dict):
        return None
    get = raw.get
    return get("key"), get("last_update"), get("outcomes")


def _dict_outcome(raw: object) -> tuple | None:
    if not isinstance(raw, dict):
        return None
    get = raw.get
    return get("name"), get("price"), get("point")


DICTS = Shape(_dict_event, _dict_bookmaker, _dict_market, _dict_outcome)  # the parsed JSON itself


def iter_prices(events: Iterable[object], shape: Shape = DICTS) -> Iterator[object]:
    """Every modelled outcome's raw price, tolerating any shape (shape errors are reported later)."""
    for event in events:
        event_fields = shape.event(event)
        books = event_fields[5] if event_fields is not None else None
        for book in books if isinstance(books, list) else ():
            book_fields = shape.bookmaker(book)
            markets = book_fields[3] if book_fields is not None else None
            for market in markets if isinstance(markets, list) else ():
                market_fields = shape.market(market)
                if market_fields is None or market_fields[0] not in SUPPORTED_MARKETS:
                    continue
                outcomes = market_fields[2]
                for outcome in outcomes if isinstance(outcomes, list) else ():
                    outcome_fields = shape.outcome(outcome)
                    if outcome_fields is not None:
                        yield outcome_fields[1]


def normalize_odds_response(
    payload: object,
    *,
    sport_key: str,
    fetched_at: datetime,
    provider: str = "the_odds_api",
    odds_format: OddsFormat | None = None,
    source: str = "",
    shape: Shape = DICTS,
) -> NormalizeResult:
    """Quotes for every (event, bookmaker, market, outcome) of a `/v4/sports/{sport}/odds` response.

    `sport_key` is the sport requested; events claiming another sport are reported, not mixed in
    (with `sport_key="upcoming"` each event's own key is used). `odds_format=None` detects it from all
    prices together (see `prices.detect_odds_format`). `source` (a file or URL path) labels problems.
    `shape`: how the events are held (`DICTS`: parsed JSON; `odds_msgspec` passes its Structs' reader).
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
            odds_format = detect_odds_format(iter_prices(payload, shape))
        except ValueError as exc:
            raise OddsPayloadError(f"{where}: {exc}") from exc
    return _normalize(payload, _State(provider, sport_key, fetched_at.astimezone(UTC), odds_format or "decimal",
                                      source, shape), odds_format)


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
    return _normalize(events, _State(provider, sport_key, fetched_at.astimezone(UTC), odds_format, source, DICTS),
                      odds_format)


def _normalize(events: Iterable[object], state: _State, odds_format: OddsFormat | None) -> NormalizeResult:
    seen_events: set[str] = set()
    read_event = state.shape.event
    for i, raw in enumerate(events):
        path = f"$[{i}]"
        fields = read_event(raw)
        event_id = fields[0] if fields is not None and isinstance(fields[0], str) else None
        try:
            if fields is None:
                raise _not_object(raw, path)
            event = state.event(fields, path)
            if event["id"] in seen_events:
                raise _Bad(f"{path}.id", "duplicate event id in the same response; first one kept")
            seen_events.add(event["id"])
            books = _list(fields[5], path, "bookmakers")
        except _Bad as bad:
            state.problem(bad, event_id, None)
            continue
        state.bookmakers(event, books, path)
    return NormalizeResult(
        quotes=tuple(state.quotes),
        problems=tuple(state.problems),
        ignored_markets=dict(state.ignored),
        odds_format=odds_format,
        columns=QuoteColumns.from_quotes(state.quotes),  # the same quotes column-wise, for detection
    )


class _State:
    """Accumulates quotes and problems while walking one response (read through `shape`)."""

    inline = True  # `_books`' one loop per event; False: `bookmaker` / `market` one by one (tests hold them equal)

    def __init__(self, provider: str, sport_key: str, fetched_at: datetime, fmt: OddsFormat, source: str,
                 shape: Shape):
        self.provider, self.sport_key, self.fetched_at, self.fmt, self.source, self.shape = (
            provider, sport_key, fetched_at, fmt, source, shape)
        self.quotes: list[SportsbookQuote] = []
        self.problems: list[NormalizeProblem] = []
        self.ignored: Counter[str] = Counter()
        # American price → (its exact decimal odds, the price int kept for every quote of it, the odds'
        # float mirror): prices repeat
        self.american: dict[int, tuple[Decimal, int, float]] = {}
        self.odds_floats: dict[Decimal, float] = {}  # exact decimal odds → `odds_mirror` (per distinct value)
        # bookmaker keys and titles, outcome names: one str each for the whole response (every quote keeps
        # them, and the parsed JSON has a fresh copy per occurrence; ~20 MiB at 5,000 games)
        self.strings: dict[str, str] = {}
        self.times: dict[str | int, datetime] = {}  # timestamp text or Unix seconds → its datetime
        self.seconds: dict[datetime, float] = {}  # an update time → `update_mirror` (per distinct value)
        self.points: dict[int, Decimal] = {}  # a whole-number line point → one shared Decimal
        self.decimal_ok: dict[Decimal, float] = {}  # a valid decimal price (by value) → `odds_mirror` of it
        self.finite_points: set[Decimal] = set()  # Decimal line points known finite (by value)

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

    def event(self, fields: tuple, path: str) -> dict[str, Any]:
        raw_id, raw_sport, raw_home, raw_away, raw_commence, _ = fields
        event_id = _text(raw_id, path, "id")
        own_sport = self.sport_key if raw_sport is ABSENT else raw_sport
        if self.sport_key == "upcoming":
            own_sport = _text(None if raw_sport is ABSENT else raw_sport, path, "sport_key")
        elif own_sport != self.sport_key:
            raise _Bad(f"{path}.sport_key", f"event is {own_sport!r} but the response is for {self.sport_key!r}")
        home, away = _text(raw_home, path, "home_team"), _text(raw_away, path, "away_team")
        if home == away:
            raise _Bad(path, f"home_team and away_team are both {home!r}")
        commence = self.timestamp(raw_commence, path, "commence_time")
        # outcome name → (side, the one str kept for that name) per market, in `_side`'s order of precedence
        # (home, then away, then Draw): a well-formed outcome is one lookup
        share = self.strings.setdefault
        named = {name: share(name, name) for name in (home, away, "Draw", *_TOTALS_SIDES)}
        teams = {away: (Outcome.AWAY.value, named[away]), home: (Outcome.HOME.value, named[home])}
        sides = {"h2h": {"Draw": (Outcome.DRAW.value, named["Draw"]), **teams}, "spreads": teams,
                 "totals": {name: (side, named[name]) for name, side in _TOTALS_SIDES.items()}}
        return {"id": event_id, "sport_key": own_sport, "home": home, "away": away, "commence": commence,
                "league": league_for_sport(own_sport), "sides": sides}

    def bookmakers(self, event: dict[str, Any], books: list[Any], path: str) -> None:
        """Every bookmaker of one event (`path`: the event's), its quotes appended to `self.quotes`
        (problems reported): `_books` when `inline`, else `bookmaker` per bookmaker and `market` per market
        (tests hold the two equal)."""
        if self.inline:
            self._books(event, books, path)
            return
        seen_books: set[str] = set()
        for j, book in enumerate(books):
            self.bookmaker(event, book, f"{path}.bookmakers[{j}]", seen_books)

    def bookmaker(self, event: dict[str, Any], raw: object, path: str, seen: set[str]) -> None:
        header = self._book_header(event, raw, path, seen)
        if header is None:
            return
        key, title, book_updated, markets = header
        seen_markets: set[str] = set()
        for k, market in enumerate(markets):
            mpath = f"{path}.markets[{k}]"
            try:
                self.quotes.extend(self.market(event, key, title, book_updated, market, mpath, seen_markets))
            except _Bad as bad:
                self.problem(bad, event["id"], key)

    def _book_header(self, event: dict[str, Any], raw: object, path: str,
                     seen: set[str]) -> tuple[str, str, datetime | None, list[Any]] | None:
        """(key, title, last update, markets) of one bookmaker at `path`, its key added to `seen`; None
        when it cannot be read (the problem reported)."""
        fields = self.shape.bookmaker(raw)
        key = fields[0] if fields is not None and isinstance(fields[0], str) else None
        try:
            if fields is None:
                raise _not_object(raw, path)
            raw_key, title, book_update, markets = fields
            key = _text(raw_key, path, "key")
            if key in seen:
                raise _Bad(f"{path}.key", "duplicate bookmaker in the same event; first one kept")
            seen.add(key)
            title = title if isinstance(title, str) else key  # display only
            key, title = self.strings.setdefault(key, key), self.strings.setdefault(title, title)
            book_updated = None if book_update is None else self.timestamp(book_update, path, "last_update")
            markets = _list(markets, path, "markets")
        except _Bad as bad:
            self.problem(bad, event["id"], key)
            return None
        return key, title, book_updated, markets

    def _books(self, event: dict[str, Any], books: list[Any], path: str) -> None:
        """`bookmaker` of each of one event's bookmakers and `market` of each of their markets, the quotes
        appended to `self.quotes` (problems reported) - the same quotes, problems and state as calling
        them one by one, in one loop per event: ~30,000 bookmakers, ~54,000 markets and ~114,000 quotes at
        5,000 games, where the per-bookmaker and per-market calls, JSON paths, context tuples and
        per-outcome validity checks were most of the parse. A bookmaker is read here only when it is
        plain (an object with a non-blank key not seen yet, its update time absent or already known, a
        list of markets), a market only when it is plain (a modelled key not seen yet, its update time
        already known, a non-empty list of outcomes, each outcome well formed as `_well_formed` accepts
        it); everything else goes to `_book_header` / `market` / `_checked` exactly as before, which name
        the problem. Validity per distinct price and point is remembered (`decimal_ok`, `finite_points`:
        keyed by value, all the rule depends on); the quote keeps the response's own `Decimal` object,
        never the remembered one (1.9 and 1.90 are equal keys)."""
        read_market, read_outcome = self.shape.market, self.shape.outcome
        times, seconds_of, share, sides_of = self.times, self.seconds, self.strings.setdefault, event["sides"]
        provider, fetched_at, american_fmt = self.provider, self.fetched_at, self.fmt == "american"
        american, decimal_ok, points, finite_points = self.american, self.decimal_ok, self.points, self.finite_points
        sport_key, league, event_id = event["sport_key"], event["league"], event["id"]
        home, away, commence = event["home"], event["away"], event["commence"]
        quotes = self.quotes
        append = quotes.append
        read_book = self.shape.bookmaker
        seen_books: set[str] = set()
        for j, raw_book in enumerate(books):
            book_fields = read_book(raw_book)
            plain_book = False
            if book_fields is not None:
                raw_key, raw_title, book_update, markets = book_fields
                if book_update is None:
                    book_updated = None
                    plain_book = True
                elif type(book_update) is str or type(book_update) is int:
                    book_updated = times.get(book_update)
                    plain_book = book_updated is not None
                plain_book = (plain_book and type(raw_key) is str and raw_key not in seen_books
                              and type(markets) is list and raw_key.strip() != "")
            if plain_book:
                seen_books.add(raw_key)
                title = raw_title if isinstance(raw_title, str) else raw_key  # display only
                book_key, book_title = share(raw_key, raw_key), share(title, title)
            else:  # `_book_header` decides: a problem, or the bookmaker read the checked way
                header = self._book_header(event, raw_book, f"{path}.bookmakers[{j}]", seen_books)
                if header is None:
                    continue
                book_key, book_title, book_updated, markets = header
            seen: set[str] = set()  # this bookmaker's market keys
            for k, market in enumerate(markets):
                fields = read_market(market)
                if fields is not None:
                    market_key, raw_update, outcomes = fields
                    if raw_update is None:
                        last_update = book_updated
                    elif type(raw_update) is str or type(raw_update) is int:
                        last_update = times.get(raw_update)
                    else:
                        last_update = None
                    plain = (last_update is not None and type(market_key) is str and market_key in SUPPORTED_MARKETS
                             and market_key not in seen and type(outcomes) is list and outcomes)
                else:
                    plain = False
                if not plain:  # `market` decides: a problem, an ignored market, or its quotes
                    try:
                        quotes.extend(self.market(event, book_key, book_title, book_updated, market,
                                                  f"{path}.bookmakers[{j}].markets[{k}]", seen))
                    except _Bad as bad:
                        self.problem(bad, event_id, book_key)
                    continue
                seen.add(market_key)
                market_key = share(market_key, market_key)
                seconds = seconds_of.get(last_update)
                if seconds is None:
                    seconds = seconds_of[last_update] = update_mirror(last_update)
                sides_by_name = sides_of[market_key]
                h2h = market_key == "h2h"
                start = len(quotes)
                sides: set[str] = set()
                try:
                    for outcome in outcomes:
                        fields = read_outcome(outcome)
                        if fields is None:
                            break
                        name, price, point = fields
                        if type(name) is not str:
                            break
                        found = sides_by_name.get(name)  # a known name is a non-blank one
                        if found is None:
                            break
                        side, name = found
                        if side in sides:
                            break
                        sides.add(side)
                        if american_fmt:
                            if type(price) is not int:
                                break
                            kept = american.get(price)
                            if kept is None:
                                if not 100 <= abs(price) <= _MAX_AMERICAN:
                                    break
                                odds = american_to_decimal_exact(price)
                                kept = american[price] = (odds, price, self._odds_float(odds))
                            odds, american_odds, odds_f = kept  # one int object per price, not per quote
                        else:
                            if type(price) is not Decimal:
                                break
                            odds_f = decimal_ok.get(price)  # a signalling NaN cannot be hashed: TypeError below
                            if odds_f is None:
                                if not price.is_finite() or not 1 < price <= MAX_DECIMAL_ODDS:
                                    break
                                odds_f = decimal_ok[price] = self._odds_float(price)
                            odds, american_odds = price, None
                        if h2h:
                            point = None
                        elif type(point) is int:
                            shared = points.get(point)
                            point = shared if shared is not None else points.setdefault(point, Decimal(point))
                        elif type(point) is not Decimal:
                            break
                        elif point not in finite_points:
                            if not point.is_finite():
                                break
                            finite_points.add(point)
                        append(new_quote(provider, book_key, book_title, sport_key, league, event_id, home, away,
                                         commence, market_key, side, name, odds, last_update, fetched_at, point,
                                         american_odds, None, odds_f, seconds))
                    else:
                        continue  # every outcome well formed
                except TypeError:  # an unhashable price or point (a signalling NaN): the checked loop says what
                    pass
                del quotes[start:]  # the checked loop: names the first problem (or accepts what this one would not)
                context = (provider, book_key, book_title, sport_key, league, event_id, home, away, commence, market_key)
                try:
                    quotes.extend(self._checked(event, context, outcomes, last_update, seconds,
                                                f"{path}.bookmakers[{j}].markets[{k}]"))
                except _Bad as bad:
                    self.problem(bad, event_id, book_key)

    def market(self, event, book_key, book_title, book_updated, raw, path, seen) -> list[SportsbookQuote]:
        fields = self.shape.market(raw)
        if fields is None:
            raise _not_object(raw, path)
        raw_key, raw_update, outcomes = fields
        market_key = _text(raw_key, path, "key")
        if market_key not in SUPPORTED_MARKETS:
            self.ignored[market_key] += 1
            return []
        if market_key in seen:
            raise _Bad(f"{path}.key", f"duplicate {market_key!r} market for this bookmaker; first one kept")
        seen.add(market_key)
        market_key = self.strings.setdefault(market_key, market_key)  # one "spreads" for all its quotes
        if raw_update is not None:
            last_update = self.timestamp(raw_update, path, "last_update")
        elif book_updated is not None:
            last_update = book_updated
        else:
            raise _Bad(f"{path}.last_update", "no last_update at market or bookmaker level")
        outcomes = _list(outcomes, path, "outcomes")
        if not outcomes:
            raise _Bad(f"{path}.outcomes", "market has no outcomes")
        seconds = self.seconds.get(last_update)
        if seconds is None:
            seconds = self.seconds[last_update] = update_mirror(last_update)
        context = (self.provider, book_key, book_title, event["sport_key"], event["league"], event["id"],
                   event["home"], event["away"], event["commence"], market_key)
        quotes = self._well_formed(event, context, outcomes, last_update, seconds)
        if quotes is None:  # the checked loop: names the first problem (or accepts what the fast one would not)
            quotes = self._checked(event, context, outcomes, last_update, seconds, path)
        return quotes

    def _checked(self, event: dict[str, Any], context: tuple, outcomes: list[Any], last_update: datetime,
                 seconds: float, path: str) -> list[SportsbookQuote]:
        """`_well_formed`'s quotes, outcome by outcome with a JSON path each: raises `_Bad` at the first
        outcome that cannot become a quote, and accepts every number `to_decimal_odds` / `json_number` do
        (floats built in memory, "-110.0"-style American prices)."""
        market_key = context[-1]
        quotes, sides = [], set()
        for n, raw_outcome in enumerate(outcomes):
            opath = f"{path}.outcomes[{n}]"
            fields = self.shape.outcome(raw_outcome)
            if fields is None:
                raise _not_object(raw_outcome, opath)
            raw_name, price, raw_point = fields
            name = _text(raw_name, opath, "name")
            side = self._side(market_key, name, event, opath)
            if side in sides:
                raise _Bad(opath, f"outcome {side!r} appears twice in this market")
            sides.add(side)
            try:
                odds, american = to_decimal_odds(price, self.fmt)
                point = None
                if market_key != "h2h":
                    point = json_number(raw_point, "point")
            except ValueError as exc:
                raise _Bad(opath, f"outcome {name!r}: {exc}") from exc
            quotes.append(new_quote(*context, side, self.strings.setdefault(name, name), odds, last_update,
                                    self.fetched_at, point, american, None, self._odds_float(odds), seconds))
        return quotes

    def _odds_float(self, odds: Decimal) -> float:
        found = self.odds_floats.get(odds)
        if found is None:
            found = self.odds_floats[odds] = odds_mirror(odds)
        return found

    def _well_formed(self, event: dict[str, Any], context: tuple, outcomes: list[Any], last_update: datetime,
                     seconds: float) -> list[SportsbookQuote] | None:
        """The market's quotes when every outcome is well formed — the common case, read without building
        a JSON path per outcome; None sends the market through `_checked`, which names the first problem.
        Accepts exactly what that loop accepts from a parsed response (exact Decimals and ints); anything
        else (floats built in memory, "-110.0"-style American prices) takes the checked loop too."""
        (provider, book_key, book_title, sport_key, league, event_id, home, away, commence,
         market_key) = context
        sides_by_name = event["sides"][market_key]
        american_fmt = self.fmt == "american"
        h2h = market_key == "h2h"
        read, fetched_at = self.shape.outcome, self.fetched_at
        quotes, seen = [], set()
        for outcome in outcomes:
            fields = read(outcome)
            if fields is None:
                return None
            name, price, point = fields
            if type(name) is not str:
                return None
            found = sides_by_name.get(name)  # a known name is a non-blank one
            if found is None:
                return None
            side, name = found
            if side in seen:
                return None
            seen.add(side)
            if american_fmt:
                if type(price) is not int or not 100 <= abs(price) <= _MAX_AMERICAN:
                    return None
                kept = self.american.get(price)
                if kept is None:
                    odds = american_to_decimal_exact(price)
                    kept = self.american[price] = (odds, price, self._odds_float(odds))
                odds, american, odds_f = kept  # the first int object of this price: one per price, not per quote
            else:
                if type(price) is not Decimal or not price.is_finite() or not 1 < price <= MAX_DECIMAL_ODDS:
                    return None
                odds, american = price, None
                odds_f = self.odds_floats.get(price)
                if odds_f is None:
                    odds_f = self._odds_float(price)
            if h2h:
                point = None
            elif type(point) is int:
                shared = self.points.get(point)
                point = shared if shared is not None else self.points.setdefault(point, Decimal(point))
            elif type(point) is not Decimal or not point.is_finite():
                return None
            quotes.append(new_quote(provider, book_key, book_title, sport_key, league, event_id, home, away,
                                    commence, market_key, side, name, odds, last_update, fetched_at, point,
                                    american, None, odds_f, seconds))
        return quotes

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
