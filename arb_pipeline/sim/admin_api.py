"""Operator endpoints under /_sim for curl and demos: state, faults, clock advance, injections.

Never subject to faults or rate limits, and never part of a venue's wire format.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.money import dollars

router = APIRouter(prefix="/_sim")


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _body(request: Request) -> dict[str, object]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = await request.json()
    except ValueError:
        return {"__invalid__": True}
    return data if isinstance(data, dict) else {"__invalid__": True}


@router.get("/state")
def state(request: Request) -> dict[str, object]:
    sim = request.app.state.sim
    engine = sim.engine
    engine.sync()
    with engine.lock:
        games = [{"event_ticker": s.game.event_ticker, "league": s.game.code, "odds_event_id": s.game.odds_id,
                  "home": s.game.home.id, "away": s.game.away.id, "commence_time": rfc3339(s.game.commence),
                  "phase": s.phase, "result": s.result,
                  "true_probabilities": {o: f"{p:.4f}" for o, p in zip(s.game.outcomes, s.probs(), strict=True)}}
                 for s in engine.states.values()]
        return {"now": rfc3339(engine.now()), "seed": engine.config.seed, "start": rfc3339(engine.start),
                "games": games, "windows": [engine.window_json(w) for w in engine.windows.values()],
                "expired_windows": len(engine.expired), "traps": engine.traps, "faults": sim.faults.active(),
                "balance_dollars": dollars(engine.exchange.account.balance),
                "odds_quota": {"used": request.app.state.odds.used, "quota": request.app.state.odds.quota}}


@router.post("/faults")
async def faults(request: Request) -> JSONResponse:
    controller = request.app.state.sim.faults
    body = await _body(request)
    if body.get("__invalid__"):
        return _bad("body must be a JSON object")
    if body.get("clear"):
        kind = body.get("fault")
        removed = controller.clear(str(kind) if kind else None)
        return JSONResponse({"cleared": removed, "faults": controller.active()})
    params = {k: v for k, v in body.items() if k != "fault"}
    try:
        controller.set(str(body.get("fault")), **params)
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return JSONResponse({"faults": controller.active()})


@router.post("/advance")
async def advance(request: Request) -> JSONResponse:
    body = await _body(request)
    try:
        seconds = float(body.get("seconds", 0))  # type: ignore[arg-type]
        now = request.app.state.sim.engine.advance(seconds)
    except (TypeError, ValueError) as exc:
        return _bad(f"seconds must be a non-negative number: {exc}")
    return JSONResponse({"now": rfc3339(now)})


@router.post("/inject")
async def inject(request: Request) -> JSONResponse:
    engine = request.app.state.sim.engine
    body = await _body(request)
    kind = body.get("kind", "arbitrage")
    try:
        edge = Decimal(str(body["edge"])) if "edge" in body else None
        args = {"event_ticker": body.get("event_ticker"), "outcome": body.get("outcome"),
                "lifetime_s": float(body["lifetime_s"]) if "lifetime_s" in body else None}  # type: ignore[arg-type]
        if kind == "arbitrage" and body.get("line") is not None:  # a spread/total window (extended slate)
            record = engine.inject_line_arbitrage(str(body["line"]), event_ticker=body.get("event_ticker"),
                                                  edge=edge or Decimal("0.02"), lifetime_s=args["lifetime_s"])
        elif kind == "arbitrage":
            record = engine.inject_arbitrage(edge=edge or Decimal("0.02"), **args)
        elif kind == "value":
            record = engine.inject_value(edge=edge or Decimal("0.02"), **args)
        else:
            return _bad("kind must be arbitrage or value")
    except (InvalidOperation, TypeError, ValueError) as exc:
        return _bad(str(exc))
    return JSONResponse(record)


@router.post("/exchange")
async def exchange(request: Request) -> JSONResponse:
    """Pause or resume trading (`{"trading_active": false}`), as in Kalshi's maintenance window."""
    engine = request.app.state.sim.engine
    body = await _body(request)
    active = body.get("trading_active")
    if not isinstance(active, bool):
        return _bad("trading_active must be true or false")
    with engine.lock:
        engine.exchange.set_trading_active(active)
    return JSONResponse({"trading_active": active})
