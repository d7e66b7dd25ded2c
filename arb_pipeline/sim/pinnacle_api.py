"""Pinnacle Lines API routes of the simulator (`/v1/fixtures`, `/v2/odds`): the second odds provider.

The wire shape is the one sportsbook-odds.md §2.1 describes (from the vendor's own OpenAPI file):
HTTP Basic auth; fixtures keyed `league` (singular) with events `{id, parentId, starts, home, away,
rotNum, liveStatus, status, …}`; odds keyed `leagues` with events `{id, periods: [{lineId, number,
cutoff, status, maxSpread, maxMoneyline, maxTotal, moneylineUpdatedAt, moneyline, spreads, totals}]}`,
`hdp` the home handicap, `oddsFormat` American by default or Decimal. The two are joined by event id;
team names live only in fixtures. What the reference leaves open is the simulator's own choice,
marked UNVERIFIED in `docs/odds-providers.md`: the sport and league ids (`SIM_LEAGUES`), the
`spreadUpdatedAt`/`totalUpdatedAt` names (the reference elides them with "…"), the error body, and
the decimal precision (3 places here).

Prices are the simulator's "pinnacle" bookmaker, the same quotes The Odds API routes serve for it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.pricing import decimal_from_american
from arb_pipeline.sim.scenario import GameState, ScenarioEngine
from arb_pipeline.sim.slate import sim_sport_key

BOOKMAKER = "pinnacle"
DEFAULT_USERNAME = "sim-pinnacle"
DEFAULT_PASSWORD = "sim-pinnacle-demo-password"  # a fixed demo credential, like the Odds API demo key
# sim sport key -> (sportId, leagueId). The simulator's own ids (UNVERIFIED against Pinnacle's real ones):
# the client maps sport keys to ids through PINNACLE_LEAGUES, so a real deployment configures its own.
SIM_LEAGUES: dict[str, tuple[int, int]] = {
    "americanfootball_nfl": (15, 889), "americanfootball_ncaaf": (15, 880), "basketball_nba": (4, 487),
    "basketball_ncaab": (4, 493), "basketball_wnba": (4, 578), "icehockey_nhl": (19, 1456), "baseball_mlb": (3, 246),
    "soccer_epl": (29, 1980), "soccer_usa_mls": (29, 2663), "soccer_uefa_champs_league": (29, 2627),
    "soccer_uefa_europa_league": (29, 2630), "soccer_spain_la_liga": (29, 2196), "soccer_italy_serie_a": (29, 2436),
    "soccer_germany_bundesliga": (29, 1842), "soccer_france_ligue_one": (29, 2036),
    "tennis_atp_finals": (33, 9001), "tennis_wta_finals": (33, 9002), "mma_mixed_martial_arts": (22, 1624),
}
THOUSANDTH = Decimal("0.001")

router = APIRouter()


@dataclass
class PinnacleContext:
    engine: ScenarioEngine
    username: str
    password: str


class PinnacleError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}  # UNVERIFIED: the reference does not show Pinnacle's error body


def _ctx(request: Request) -> PinnacleContext:
    return request.app.state.pinnacle


def _check_auth(ctx: PinnacleContext, request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user = password = ""
    ok = scheme.lower() == "basic" and secrets.compare_digest(user.encode(), ctx.username.encode()) and \
        secrets.compare_digest(password.encode(), ctx.password.encode())
    if not ok:
        raise PinnacleError(401, "UNAUTHORIZED", "Invalid credentials")


def _int(request: Request, name: str, required: bool = True) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise PinnacleError(400, "INVALID_REQUEST", f"{name} is required")
        return None
    try:
        return int(raw)
    except ValueError:
        raise PinnacleError(400, "INVALID_REQUEST", f"{name} must be an integer") from None


def _states(ctx: PinnacleContext, request: Request) -> tuple[int, list[tuple[int, list[GameState]]]]:
    """The requested sport and, per requested league, its games still on the board."""
    sport_id = _int(request, "sportId")
    leagues_raw = request.query_params.get("leagueIds") or ""
    try:
        wanted = {int(x) for x in leagues_raw.split(",") if x.strip()}
    except ValueError:
        raise PinnacleError(400, "INVALID_REQUEST", "leagueIds must be integers") from None
    by_league: dict[int, list[GameState]] = {}
    engine = ctx.engine
    with engine.lock:
        engine.sync()
        for state in engine.states.values():
            ids = SIM_LEAGUES.get(sim_sport_key(state.game.league))
            if ids is None or ids[0] != sport_id or (wanted and ids[1] not in wanted):
                continue
            if state.phase in ("scheduled", "live"):
                by_league.setdefault(ids[1], []).append(state)
    return sport_id, [(lid, sorted(states, key=lambda s: (s.game.commence, s.game.odds_id)))
                      for lid, states in sorted(by_league.items())]


def event_id(state: GameState) -> int:
    """A stable integer id per game (Pinnacle's ids are integers)."""
    return int(state.game.odds_id[:12], 16)


@router.get("/v1/fixtures")
def fixtures(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    _check_auth(ctx, request)
    sport_id, leagues = _states(ctx, request)
    body = {"sportId": sport_id, "last": int(ctx.engine.now().timestamp()), "league": [
        {"id": lid, "name": states[0].game.league.code, "events": [_fixture(s) for s in states]}
        for lid, states in leagues]}
    return JSONResponse(body)


def _fixture(state: GameState) -> dict[str, object]:
    game = state.game
    home, away = (game.book_name(o) for o in game.book_home_away())
    return {"id": event_id(state), "parentId": None, "starts": rfc3339(game.commence), "home": home, "away": away,
            "rotNum": str(1000 + event_id(state) % 8000), "liveStatus": 1 if state.phase == "live" else 0,
            "status": "O", "parlayRestriction": 0, "altTeaser": False, "resultingUnit": "Regular", "version": 1}


@router.get("/v2/odds")
def odds(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    _check_auth(ctx, request)
    fmt = (request.query_params.get("oddsFormat") or "American").lower()
    if fmt not in ("american", "decimal"):
        raise PinnacleError(400, "INVALID_REQUEST", "oddsFormat must be American or Decimal here")
    sport_id, leagues = _states(ctx, request)
    body = {"sportId": sport_id, "last": int(ctx.engine.now().timestamp()), "leagues": [
        {"id": lid, "events": [{"id": event_id(s), "periods": [_period(s, fmt)]} for s in states
                               if BOOKMAKER in s.quotes]} for lid, states in leagues]}
    return JSONResponse(body)


def _price(native: int | Decimal, fmt: str) -> int | float:
    if fmt == "american":
        if isinstance(native, int):
            return native
        from arb_pipeline.sim.pricing import american_from_decimal

        return american_from_decimal(native)
    value = decimal_from_american(native) if isinstance(native, int) else native
    return float(value.quantize(THOUSANDTH))


def _period(state: GameState, fmt: str) -> dict[str, object]:
    """Period 0 (full game) of the simulator's Pinnacle quote, in the listed home/away order."""
    game, quote = state.game, state.quotes[BOOKMAKER]
    listed_home, listed_away = game.book_home_away()
    stamp = rfc3339(quote.updated)
    moneyline: dict[str, object] = {"home": _price(quote.h2h[listed_home], fmt),
                                    "away": _price(quote.h2h[listed_away], fmt)}
    if "draw" in quote.h2h:
        moneyline["draw"] = _price(quote.h2h["draw"], fmt)
    point, home_price, away_price = quote.spread  # in Kalshi's home team's terms
    hdp, prices = (point, (home_price, away_price)) if listed_home == "home" else (-point, (away_price, home_price))
    total, over, under = quote.total
    return {"lineId": event_id(state) % 10_000_000, "number": 0, "cutoff": rfc3339(game.commence),
            "status": 1, "maxSpread": 5000.0, "maxMoneyline": 3000.0, "maxTotal": 2000.0,
            "moneylineUpdatedAt": stamp, "spreadUpdatedAt": stamp, "totalUpdatedAt": stamp,
            "moneyline": moneyline,
            "spreads": [{"hdp": float(hdp), "home": _price(prices[0], fmt), "away": _price(prices[1], fmt)}],
            "totals": [{"points": float(total), "over": _price(over, fmt), "under": _price(under, fmt)}]}
