"""The Odds API v4 routes of the simulator (`/v4/sports`, `/v4/sports/{sport}/odds`).

Behaves like the real service where a client can notice: `apiKey` in the query, quota headers
`x-requests-remaining/used/last` that count down by markets x regions per call (an empty answer is
free), errors as `{"message", "error_code", "details_url"}` with the observed statuses (401 without
quota headers for a bad key, 401 OUT_OF_USAGE_CREDITS, 422 INVALID_MARKET, 429 EXCEEDED_FREQ_LIMIT),
h2h outcome names equal to `home_team`/`away_team` (plus "Draw" in soccer), prices as American
integers or decimal numbers, and `last_update` on both bookmaker and market level.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.faults import FaultController
from arb_pipeline.sim.pricing import BOOKMAKERS, REGIONS, american_from_decimal, display_decimal
from arb_pipeline.sim.ratelimit import CallRateLimiter
from arb_pipeline.sim.scenario import BookQuote, GameState, ScenarioEngine
from arb_pipeline.sim.slate import sim_sport_key

DETAILS_URL = "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html#"
FEATURED = ("h2h", "spreads", "totals", "outrights", "h2h_lay", "outrights_lay")
SERVED = ("h2h", "spreads", "totals")
GROUPS = {"NFL": "American Football", "NBA": "Basketball", "NHL": "Ice Hockey", "MLB": "Baseball", "EPL": "Soccer",
          "NCAAF": "American Football", "NCAAMB": "Basketball", "WNBA": "Basketball", "MLS": "Soccer",
          "UCL": "Soccer", "UEL": "Soccer", "LALIGA": "Soccer", "SERIEA": "Soccer", "BUNDESLIGA": "Soccer",
          "LIGUE1": "Soccer", "ATP": "Tennis", "WTA": "Tennis", "UFC": "Mixed Martial Arts"}
DESCRIPTIONS = {"NFL": "US Football", "NBA": "US Basketball", "NHL": "US Ice Hockey", "MLB": "Major League Baseball",
                "EPL": "Premier League - England", "NCAAF": "US College Football", "NCAAMB": "US College Basketball",
                "WNBA": "US Basketball", "MLS": "Major League Soccer", "UCL": "European Champions League",
                "UEL": "European Europa League", "LALIGA": "Spanish Soccer", "SERIEA": "Italian Soccer",
                "BUNDESLIGA": "German Soccer", "LIGUE1": "French Soccer", "ATP": "Men's Singles",
                "WTA": "Women's Singles", "UFC": "Mixed Martial Arts"}
OUT_OF_SEASON = ({"key": "americanfootball_ncaaf", "group": "American Football", "title": "NCAAF",
                  "description": "US College Football", "active": False, "has_outrights": False},
                 {"key": "basketball_wnba", "group": "Basketball", "title": "WNBA",
                  "description": "US Basketball", "active": False, "has_outrights": False})


@dataclass
class OddsContext:
    engine: ScenarioEngine
    faults: FaultController
    api_key: str
    quota: int
    limiter: CallRateLimiter | None
    used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self, last: int) -> dict[str, str]:
        return {"x-requests-remaining": str(max(self.quota - self.used, 0)), "x-requests-used": str(self.used),
                "x-requests-last": str(last)}


class OddsError(Exception):
    def __init__(self, status: int, code: str, message: str, quota_headers: bool = True) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.quota_headers = status, code, message, quota_headers


def odds_error_body(code: str, message: str) -> dict[str, str]:
    return {"message": message, "error_code": code, "details_url": DETAILS_URL + code.lower()}


router = APIRouter(prefix="/v4")


def _ctx(request: Request) -> OddsContext:
    return request.app.state.odds  # type: ignore[no-any-return]


def _check_key(ctx: OddsContext, request: Request) -> None:
    key = request.query_params.get("apiKey")
    if not key:
        raise OddsError(401, "MISSING_KEY", "API key is missing. Add apiKey to the query string.", False)
    if key != ctx.api_key:
        raise OddsError(401, "INVALID_KEY", "API key is not valid.", False)
    if ctx.limiter is not None and not ctx.limiter.allow():
        raise OddsError(429, "EXCEEDED_FREQ_LIMIT",
                        "Requests are being sent too frequently. Retry after a couple of seconds.")


@router.get("/sports")
def sports(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    _check_key(ctx, request)
    leagues = sorted({s.game.league.code: s.game.league for s in ctx.engine.states.values()}.values(),
                     key=lambda lg: sim_sport_key(lg))
    body: list[dict[str, object]] = [{"key": sim_sport_key(lg), "group": GROUPS.get(lg.code, "Other"), "title": lg.code,
                                      "description": DESCRIPTIONS.get(lg.code, lg.code), "active": True,
                                      "has_outrights": False} for lg in leagues]
    if (request.query_params.get("all") or "").lower() == "true":
        body += [dict(s) for s in OUT_OF_SEASON]
    with ctx.lock:
        return JSONResponse(body, headers=ctx.headers(0))


def _split(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def _parse_time(raw: str | None, code: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise OddsError(422, code, f"Invalid {code.lower()}; use the format YYYY-MM-DDTHH:MM:SSZ.") from None


@router.get("/sports/{sport}/odds")
def odds(sport: str, request: Request) -> JSONResponse:
    ctx = _ctx(request)
    q = request.query_params
    _check_key(ctx, request)
    engine = ctx.engine
    league = engine.catalogue.by_sport_key(sport)
    known_other = sport in {s["key"] for s in OUT_OF_SEASON}
    if league is None and not known_other:
        raise OddsError(404, "UNKNOWN_SPORT", "Unknown sport. Get a list of sports keys from the /sports endpoint.")
    bookmakers = _split(q.get("bookmakers"))
    regions = _split(q.get("regions"))
    if not bookmakers and not regions:
        raise OddsError(422, "MISSING_REGION", "Missing regions parameter.")
    if not bookmakers and any(r not in REGIONS for r in regions):
        raise OddsError(422, "INVALID_REGION", f"Invalid regions: {', '.join(r for r in regions if r not in REGIONS)}")
    markets = _split(q.get("markets")) or ["h2h"]
    bad = [m for m in markets if m not in FEATURED]
    if bad:
        raise OddsError(422, "INVALID_MARKET", f"Markets not supported by this endpoint: {', '.join(bad)}")
    if "outrights" in markets or "outrights_lay" in markets:
        raise OddsError(422, "INVALID_MARKET_COMBO", "Outrights markets are not available for this sport.")
    fmt = q.get("oddsFormat") or "decimal"
    if fmt not in ("decimal", "american"):
        raise OddsError(422, "INVALID_ODDS_FORMAT", "oddsFormat must be decimal or american.")
    date_format = q.get("dateFormat") or "iso"
    if date_format not in ("iso", "unix"):
        raise OddsError(422, "INVALID_DATE_FORMAT", "dateFormat must be iso or unix.")
    low = _parse_time(q.get("commenceTimeFrom"), "INVALID_COMMENCE_TIME_FROM")
    high = _parse_time(q.get("commenceTimeTo"), "INVALID_COMMENCE_TIME_TO")
    if low and high and high <= low:
        raise OddsError(422, "INVALID_COMMENCE_TIME_RANGE", "commenceTimeTo must be later than commenceTimeFrom.")
    event_ids = _split(q.get("eventIds"))
    if any(len(e) != 32 for e in event_ids):
        raise OddsError(422, "INVALID_EVENT_IDS", "Event ids must be 32 characters.")
    books = [b for b in BOOKMAKERS if b in bookmakers] if bookmakers else \
        [b for b, (_t, region, _m, _n) in BOOKMAKERS.items() if region in regions]
    cost = len(markets) * (math.ceil(len(bookmakers) / 10) if bookmakers else len(regions))
    with engine.lock:
        engine.sync()
        states = [] if league is None else [
            s for s in engine.states.values() if s.game.league.code == league.code and s.phase in ("scheduled", "live")
            and (not low or s.game.commence >= low) and (not high or s.game.commence <= high)
            and (not event_ids or s.game.odds_id in event_ids)]
        states.sort(key=lambda s: (s.game.commence, s.game.odds_id))
        body = [_event(ctx, s, books, markets, fmt, date_format) for s in states]
    charge = cost if body else 0
    with ctx.lock:
        if ctx.used + charge > ctx.quota:
            raise OddsError(401, "OUT_OF_USAGE_CREDITS", "Usage quota has been reached. Upgrade your plan.")
        ctx.used += charge
        headers = ctx.headers(charge)
    return JSONResponse(body, headers=headers)


def _stamp(moment: datetime, date_format: str) -> str | int:
    return int(moment.timestamp()) if date_format == "unix" else rfc3339(moment)


def _price(native: int | Decimal, fmt: str) -> int | float:
    if fmt == "american":
        return native if isinstance(native, int) else american_from_decimal(native)
    return float(display_decimal(native) if isinstance(native, int) else native)


def _event(ctx: OddsContext, state: GameState, books: list[str], markets: list[str], fmt: str,
           date_format: str) -> dict[str, object]:
    game = state.game
    home, away = game.book_name("home"), game.book_name("away")  # each price stays with its own team
    listed_home, listed_away = (game.book_name(o) for o in game.book_home_away())  # neutral site: swapped
    bookmakers = []
    for key in books:
        quote = state.quotes[key]
        stale = ctx.faults.stale_since(sim_sport_key(game.league), key)
        stamp = _stamp(stale or quote.updated, date_format)
        entries = [{"key": m, "last_update": stamp, "outcomes": _outcomes(game.outcomes, quote, m, home, away, fmt)}
                   for m in markets if m in SERVED]
        if entries:
            bookmakers.append({"key": key, "title": BOOKMAKERS[key][0], "last_update": stamp, "markets": entries})
    return {"id": game.odds_id, "sport_key": sim_sport_key(game.league), "sport_title": game.league.code,
            "commence_time": _stamp(game.commence, date_format), "home_team": listed_home,
            "away_team": listed_away, "bookmakers": bookmakers}


def _outcomes(outcomes: tuple[str, ...], quote: BookQuote, market: str, home: str, away: str,
              fmt: str) -> list[dict[str, object]]:
    if market == "h2h":
        order = ("home", "away", "draw") if "draw" in outcomes else ("away", "home")
        names = {"home": home, "away": away, "draw": "Draw"}
        return [{"name": names[o], "price": _price(quote.h2h[o], fmt)} for o in order]
    if market == "spreads":
        point, home_price, away_price = quote.spread
        return [{"name": away, "price": _price(away_price, fmt), "point": float(-point)},
                {"name": home, "price": _price(home_price, fmt), "point": float(point)}]
    point, over, under = quote.total
    return [{"name": "Over", "price": _price(over, fmt), "point": float(point)},
            {"name": "Under", "price": _price(under, fmt), "point": float(point)}]
