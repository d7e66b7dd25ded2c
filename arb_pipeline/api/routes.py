"""The routes: read (GET) and act (POST, token-guarded). Each one is a thin call into a service.

Reads go to `services.desk`, the breaker to `services.operations`, mapping decisions to
`services.mappings` — the same functions `arb-pipeline …` and the Dagster assets use.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from arb_pipeline.api import schemas
from arb_pipeline.api.security import require_operator
from arb_pipeline.services import desk, ledger, mappings, operations
from arb_pipeline.services import hedges as hedge_service
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.desk import ORDER_STATUSES
from arb_pipeline.storage.repositories.hedges import STATUSES as HEDGE_STATUSES

read = APIRouter(prefix="/api", tags=["read"])
act = APIRouter(prefix="/api", tags=["act"], dependencies=[Depends(require_operator)],
                responses={401: {"model": schemas.ErrorOut, "description": "missing or wrong operator token"},
                           403: {"model": schemas.ErrorOut,
                                 "description": "no operator token configured: the API is read-only"},
                           413: {"model": schemas.ErrorOut, "description": "request body too large"}})
REFUSED = {409: {"model": schemas.ErrorOut, "description": "well-formed, but the decision was refused (why)"}}

Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many rows")]
OrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]
HedgeStatus = Literal[HEDGE_STATUSES]  # type: ignore[valid-type]
Word = Annotated[str, Query(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Since = Annotated[datetime | None, Query(description="only rows at or after this time (ISO 8601; naive = UTC)")]
MarketPath = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                 description="Kalshi market ticker")]


def session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.sessions) as db:
        yield db


DB = Annotated[Session, Depends(session)]


def now(request: Request) -> datetime:
    return request.app.state.clock()


def utc(value: datetime | None) -> datetime | None:
    """A `since` in UTC: naive means UTC; one that UTC cannot represent (0001-01-01T00:00+18:00) is the
    earliest (or latest) representable moment rather than an error deep in the date library."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)


# --- read ----------------------------------------------------------------------------------------------


@read.get("/health", response_model=schemas.HealthOut, summary="Is the API up, and how fresh is the latest scan")
def health(request: Request, db: DB) -> dict[str, Any]:
    latest = desk.latest_scan(db, now(request))
    return {"status": "ok", "mode": request.app.state.settings.mode, "database": "ok",
            "act_routes_enabled": request.app.state.token.configured,
            "latest_scan_at": latest["captured_at"] if latest else None,
            "latest_scan_age_s": latest["age_s"] if latest else None}


@read.get("/opportunities", response_model=schemas.OpportunitiesOut,
          summary="The latest scan's opportunities (executable first) or the history (newest first)")
def opportunities(request: Request, db: DB,
                  scope: Annotated[Literal["latest", "history"], Query()] = "latest",
                  kind: Annotated[list[Literal["arbitrage", "value"]] | None, Query()] = None,
                  league: Word | None = None,
                  executable: bool | None = None, since: Since = None, limit: Limit = 100) -> dict[str, Any]:
    return desk.opportunities(db, now=now(request), scope=scope, kinds=kind, league=league, executable=executable,
                              since=utc(since), limit=limit)


@read.get("/scans", response_model=list[schemas.ScanOut], summary="The last scans, oldest first")
def scans(request: Request, db: DB, limit: Limit = 100) -> list[dict[str, Any]]:
    return desk.recent_scans(db, now(request), limit)


@read.get("/orders", response_model=list[schemas.OrderOut], summary="Kalshi orders, newest first")
def orders(db: DB, status_: Annotated[list[OrderStatus] | None, Query(alias="status")] = None,
           mode: schemas.Mode | None = None, since: Since = None, limit: Limit = 100) -> list[dict[str, Any]]:
    return desk.orders(db, statuses=status_, mode=mode, since=utc(since), limit=limit)


@read.get("/fills", response_model=list[schemas.FillOut], summary="Fills, newest first")
def fills(db: DB, since: Since = None, ticker: Word | None = None,
          mode: schemas.Mode | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    return desk.fills(db, since=utc(since), ticker=ticker, mode=mode, limit=limit)


@read.get("/positions", response_model=list[schemas.GameOut],
          summary="Open Kalshi positions grouped by game, the most money at risk first")
def positions(request: Request, db: DB, mode: schemas.Mode | None = None,
              include_settled: bool = False) -> list[dict[str, Any]]:
    return desk.positions_by_game(db, mode or request.app.state.settings.mode, include_settled=include_settled)


@read.get("/hedges", response_model=list[schemas.HedgeOut],
          summary="Sportsbook legs to place by hand: pending first (mark them with POST .../placed|abandon)")
def hedges(db: DB, status_: Annotated[list[HedgeStatus] | None, Query(alias="status")] = None,
           limit: Limit = 100) -> list[dict[str, Any]]:
    return desk.hedges(db, statuses=status_, limit=limit)


@read.get("/pnl", response_model=schemas.PnlOut,
          summary="Realized P&L per day and in total (both legs), every arbitrage as a unit, CLV")
def pnl(request: Request, db: DB, mode: schemas.Mode | None = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="at most this many arbitrages")] = 200
        ) -> dict[str, Any]:
    return ledger.pnl_report(db, mode or request.app.state.settings.mode, now(request), limit=limit)


@read.get("/exposure", response_model=list[schemas.GameExposureOut],
          summary="Open exposure by game, both legs (Kalshi at cost + placed stakes), and what is unhedged")
def exposure(request: Request, db: DB, mode: schemas.Mode | None = None) -> list[dict[str, Any]]:
    return ledger.open_exposure_by_game(db, mode or request.app.state.settings.mode)


@read.get("/breaker", response_model=schemas.BreakerOut,
          summary="Circuit breaker: state, reason, limits, today's loss, open exposure, transitions")
def breaker(request: Request) -> dict[str, Any]:
    return operations.breaker_overview(request.app.state.breaker, request.app.state.settings, at=now(request))


@read.get("/mappings", response_model=schemas.MappingsOut,
          summary="Mapping decisions and how the latest stored snapshot resolved every Kalshi market")
def mapping_list(request: Request) -> dict[str, Any]:
    return request.app.state.mapping_overview()


@read.get("/alerts", response_model=list[schemas.AlertOut], summary="Recent alerts, newest first")
def alerts(db: DB, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    return desk.alerts(db, limit=limit)


# --- act (token-guarded) ----------------------------------------------------------------------------


def _breaker_action(request: Request, action: str, *, reason: str, who: str) -> dict[str, Any]:
    state = request.app.state
    try:
        operations.act_on_breaker(state.breaker, action, reason=reason.strip(), who=who.strip())
    except ValueError as exc:  # the breaker's own refusal (e.g. no reason): said, never a 500
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    return operations.breaker_overview(state.breaker, state.settings, at=now(request))


@act.post("/breaker/trip", response_model=schemas.BreakerOut, responses=REFUSED,
          summary="Kill switch: open the breaker now; it stays open until a person resets it")
def trip(request: Request, body: schemas.TripIn) -> dict[str, Any]:
    return _breaker_action(request, "trip", reason=body.reason, who=body.who)


@act.post("/breaker/reset", response_model=schemas.BreakerOut, responses=REFUSED,
          summary="Close the breaker (after looking at why)")
def reset(request: Request, body: schemas.ResetIn) -> dict[str, Any]:
    return _breaker_action(request, "reset", reason="", who=body.who)


NOT_FOUND = {404: {"model": schemas.ErrorOut, "description": "no hedge instruction with that id"}}
HedgeId = Annotated[int, Path(ge=1, le=2_147_483_647, description="hedge instruction id")]


def _hedge_action(request: Request, action: Any) -> Any:
    try:
        return action()
    except hedge_service.HedgeNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except ValueError as exc:  # refused (state, odds beyond the worst acceptable) or a bad value: said
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


@act.post("/hedges/{hedge_id}/placed", response_model=schemas.HedgePlacedOut, responses={**REFUSED, **NOT_FOUND},
          summary="Mark a pending hedge placed at the odds and stake actually taken (recomputes the locked profit)")
def hedge_placed(request: Request, hedge_id: HedgeId, body: schemas.HedgePlacedIn) -> dict[str, Any]:
    state = request.app.state
    placed = _hedge_action(request, lambda: hedge_service.mark_placed(
        state.sessions, hedge_id, odds=body.odds, stake=body.stake, who=body.who.strip(), at=now(request),
        force=body.force, alert=state.breaker.alert))
    return {"hedge": placed.hedge, "locked_profit_before": desk.money(placed.locked_before),
            "locked_profit_after": desk.money(placed.locked_after), "forced": placed.forced}


@act.post("/hedges/{hedge_id}/abandon", response_model=schemas.HedgeOut, responses={**REFUSED, **NOT_FOUND},
          summary="Give up on a pending hedge: its Kalshi leg stays open, one-sided (counted and alerted)")
def hedge_abandon(request: Request, hedge_id: HedgeId, body: schemas.HedgeAbandonIn) -> dict[str, Any]:
    state = request.app.state
    return _hedge_action(request, lambda: hedge_service.abandon(
        state.sessions, hedge_id, who=body.who.strip(), why=body.why.strip(), at=now(request),
        alert=state.breaker.alert))


def _decide(request: Request, action: str, market: str, body: schemas.MappingDecisionIn, game: str | None,
            outcome: str | None = None) -> dict[str, Any]:
    try:
        entry = mappings.record_decision(action, market, why=body.why.strip(), who=body.who.strip(),
                                         game=game, outcome=outcome, store=body.store,
                                         settings=request.app.state.settings)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    request.app.state.mapping_overview.invalidate()
    return entry


@act.post("/mappings/{market}/confirm", response_model=schemas.MappingDecisionOut, responses=REFUSED,
          summary="Confirm a proposed mapping to a game so it may trade (next scan)")
def confirm(request: Request, market: MarketPath, body: schemas.ConfirmIn) -> dict[str, Any]:
    return _decide(request, "confirm", market, body, body.game)


@act.post("/mappings/{market}/reject", response_model=schemas.MappingDecisionOut, responses=REFUSED,
          summary="Never map this market (to that game, or at all) from the next scan on")
def reject(request: Request, market: MarketPath, body: schemas.RejectIn) -> dict[str, Any]:
    return _decide(request, "reject", market, body, body.game)


@act.post("/mappings/{market}/override", response_model=schemas.MappingDecisionOut, responses=REFUSED,
          summary="Force a market onto a sportsbook game and outcome from the next scan on")
def override(request: Request, market: MarketPath, body: schemas.OverrideIn) -> dict[str, Any]:
    return _decide(request, "override", market, body, body.game, outcome=body.outcome)
