"""Positions and P&L of both legs, materialized after each reconciliation (the reconcile schedule).

* `positions`: open exposure by game (Kalshi positions at cost + placed sportsbook stakes), what is
  unhedged, hedges pending/expired; also marks the latest stored scan's games (start, Kalshi market per
  outcome, de-vigged consensus) so the closing line is kept even when a scan found nothing to trade.
* `pnl`: realized P&L today / per day / in total (the two-leg ledger), each arbitrage as a unit, CLV.

Thin: `services.ledger` computes everything; these attach it as metadata a trader reads at a glance.
"""

from datetime import UTC, datetime

import dagster as dg

from arb_pipeline.defs.execution.assets import RECONCILIATION
from arb_pipeline.defs.execution.resources import CircuitBreakerResource, ExecutionResource
from arb_pipeline.defs.shared.resources import ScanConfigResource, SnapshotStoreResource

GROUP = "positions"
POSITIONS = dg.AssetKey("positions")
PNL = dg.AssetKey("pnl")


def _money(text: str | None) -> str:
    from decimal import Decimal

    from arb_pipeline.services.positions import _money as money

    return money(Decimal(text)) if text is not None else "-"


def _table(header: list[str], rows: list[list[str]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines) if rows else "_none_")


@dg.asset(
    key=POSITIONS,
    group_name=GROUP,
    kinds={"sqlalchemy"},
    deps=[RECONCILIATION],
    description="Open exposure by game, both legs (Kalshi at cost + placed sportsbook stakes), the unhedged "
                "part, hedges pending or expired. Checks fail on unreconciled exposure or an expired unhedged leg.",
)
def positions(
    context: dg.AssetExecutionContext,
    execution: ExecutionResource,
    circuit_breaker: CircuitBreakerResource,
    snapshot_store: SnapshotStoreResource,
    scan_config: ScanConfigResource,
) -> dg.MaterializeResult:
    from arb_pipeline.services.ledger import expired_unhedged, open_exposure_by_game, risk
    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.repositories.hedges import HedgeRepository
    from arb_pipeline.storage.repositories.scans import ScanRepository

    sessions = circuit_breaker.sessions()
    with session_scope(sessions) as session:
        latest = ScanRepository(session).latest()
        snapshot_id = latest.snapshot_id if latest is not None else None
    if snapshot_id is not None:
        from arb_pipeline.services.scans import record_safely

        snapshot = record_safely("latest snapshot for game marks", lambda: snapshot_store.load(snapshot_id))
        if snapshot is not None:
            from arb_pipeline.services.positions import mark_snapshot_games

            record_safely("game marks", lambda: mark_snapshot_games(sessions, snapshot, scan_config.to_scan_config()))
    now = datetime.now(UTC)
    mode = execution.mode
    with session_scope(sessions) as session:
        games = open_exposure_by_game(session, mode)
        r = risk(session, mode, now)
        pending = len(HedgeRepository(session).pending(mode))
        stranded = expired_unhedged(session, mode)
    context.log.info(f"positions ({mode}): open exposure {r.open_exposure} over {len(games)} game(s), unhedged "
                     f"{r.unhedged_exposure}, {pending} hedge(s) pending, {len(stranded)} expired/abandoned")
    return dg.MaterializeResult(metadata={
        "mode": mode,
        "open_exposure": _money(str(r.open_exposure)),
        "kalshi_exposure": _money(str(r.kalshi_exposure)),
        "book_exposure": _money(str(r.book_exposure)),
        "unhedged_exposure": _money(str(r.unhedged_exposure)),
        "games_open": len(games),
        "hedges_pending": pending,
        "hedges_expired_or_abandoned_open": len(stranded),
        "exposure_by_game": _table(["game", "Kalshi", "sportsbook", "open", "unhedged"], [
            [g["event"], _money(g["kalshi_exposure"]), _money(g["book_exposure"]), _money(g["open_exposure"]),
             _money(g["unhedged_exposure"])] for g in games[:30]]),
    })


@dg.asset(
    key=PNL,
    group_name=GROUP,
    kinds={"sqlalchemy"},
    deps=[POSITIONS],
    description="Realized P&L today, per day and in total (both legs: Kalshi fills, fees and settlements, "
                "sportsbook stakes and payouts net of commission), each arbitrage as a unit, and CLV.",
)
def pnl(context: dg.AssetExecutionContext, execution: ExecutionResource,
        circuit_breaker: CircuitBreakerResource) -> dg.MaterializeResult:
    from arb_pipeline.services.ledger import pnl_report
    from arb_pipeline.storage.db import session_scope

    with session_scope(circuit_breaker.sessions()) as session:
        report = pnl_report(session, execution.mode, datetime.now(UTC))
    arbs = report["arbitrages"]
    settled = [a for a in arbs if a["status"] == "settled"]
    context.log.info(f"pnl ({report['mode']}): today {report['today_realized']}, total {report['total_realized']}, "
                     f"{len(settled)} arbitrage(s) settled of {len(arbs)}")
    clv = report["clv_bps_average"]
    return dg.MaterializeResult(metadata={
        "mode": report["mode"],
        "today_realized": _money(report["today_realized"]),
        "total_realized": _money(report["total_realized"]),
        "unrealized": _money(report["unrealized"]),
        "clv_bps_average": dg.MetadataValue.float(float(clv)) if clv is not None else "n/a",
        "arbitrages": len(arbs),
        "settled": len(settled),
        "per_day": _table(["day (UTC)", "realized", "cumulative"], [
            [d["day"], _money(d["realized"]), _money(d["cumulative"])] for d in report["days"][-14:]]),
        "by_arbitrage": _table(["game", "status", "locked", "realized", "unrealized", "CLV $", "CLV bps"], [
            [a["event"], a["status"], _money(a["locked_profit"]), _money(a["realized"]), _money(a["unrealized"]),
             _money(a["clv"]["clv_dollars"]),
             f"{a['clv']['clv_bps']:+.0f}" if a["clv"]["clv_bps"] is not None else "-"] for a in arbs[:30]]),
        "report": dg.MetadataValue.json({k: v for k, v in report.items() if k != "arbitrages"}),
    })
