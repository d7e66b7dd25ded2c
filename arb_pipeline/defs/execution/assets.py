"""Execution: place the Kalshi legs of fresh opportunities (paper by default), behind the breaker.

`executed_orders` is the conditional last step of the scan job. It materializes only when it acted:

* it refuses (and records an observation saying why) in a backfill, a partitioned run, a
  re-execution, or any run not launched by the live scan (`gate.refusal_reason`);
* it does nothing when the opportunities frame is empty;
* otherwise it hands the opportunities to `services.execute.execute_opportunities`, which checks
  the DB-backed circuit breaker before every order, drops opportunities older than the TTL, and
  writes each order intent (deterministic client_order_id) before sending it.

Its check (`executed_orders_schema`) is evaluated in the step, on the order frame; when the step
produces no frame (refused, nothing to do, or failed) it still reports it, as "nothing to check", so
the evaluation is never left PLANNED (which would hold `check_failure_alerts` back).

It runs in the concurrency pool `EXECUTION_POOL` (limit 1 in deploy/dagster*.yaml), so two scan runs
never place orders at the same time.
"""

from collections.abc import Collection, Iterator
from datetime import UTC, datetime

import dagster as dg

from arb_pipeline.defs.execution import gate
from arb_pipeline.defs.execution.checks import EXECUTED_ORDERS_CHECKS
from arb_pipeline.defs.execution.resources import CircuitBreakerResource, ExecutionResource
from arb_pipeline.defs.ingest.resources import MarketDataResource
from arb_pipeline.defs.opportunities.assets import ARB_OPPORTUNITIES
from arb_pipeline.defs.shared.metadata import frame_metadata, preview
from arb_pipeline.defs.shared.observe import timed_stage
from arb_pipeline.defs.shared.resources import AppDatabaseResource, current_settings
from arb_pipeline.defs.shared.types import column_schema, frame_type
from arb_pipeline.services.stages import DetectedStage

GROUP = "execution"
EXECUTED_ORDERS = dg.AssetKey("executed_orders")
RECONCILIATION = dg.AssetKey("reconciliation")
EXECUTION_POOL = "kalshi_orders"


def _observe(context: dg.AssetExecutionContext, **metadata: object) -> None:
    context.log_event(dg.AssetObservation(asset_key=EXECUTED_ORDERS, metadata=metadata))


def _nothing_placed(context: dg.AssetExecutionContext, why: str, **metadata: object) -> str:
    """Record why no order frame was produced (an observation on the asset) and return it."""
    _observe(context, **metadata)
    return why


def mark_games(database: AppDatabaseResource, detected: DetectedStage, *, events: Collection[str] = (),
               others: bool = False) -> None:
    """Record the scan's games (Kalshi market per outcome, start, de-vigged consensus) for hedge expiry,
    settlement of the sportsbook legs and closing-line value. Bookkeeping: never fails the scan.

    The games of `events` (`others=False`), or every other game of the scan (`others=True`): the orders
    read the marks of their own games only (hedge expiry, the ledger), so those are written before the
    orders and the rest (~2,200 outcomes at 1,000 games) after them, off the path to the first order."""
    from arb_pipeline.services.positions import record_marks
    from arb_pipeline.services.scans import record_safely
    from arb_pipeline.storage.db import session_factory

    def mark() -> int:
        assert detected.assembly is not None
        games = [g for g in detected.assembly.games if (g.event_ticker in events) != others]
        return record_marks(session_factory(database.engine()), games, detected.fair,
                            at=detected.snapshot.captured_at)

    record_safely("game marks", mark)


@dg.asset(
    key=EXECUTED_ORDERS,
    group_name=GROUP,
    kinds={"kalshi", "pandas"},
    dagster_type=frame_type("ExecutedOrdersFrame"),
    metadata=column_schema("ExecutedOrdersFrame"),
    ins={"arb_opportunities": dg.AssetIn(ARB_OPPORTUNITIES)},
    pool=EXECUTION_POOL,
    output_required=False,
    check_specs=EXECUTED_ORDERS_CHECKS.specs(EXECUTED_ORDERS),
    description="Kalshi orders placed for fresh opportunities (paper by default), each checked against the "
                "DB-backed circuit breaker. Refuses in backfills, partitioned runs, re-executions and "
                "any run not launched by the live scan; materializes only when it acted.",
)
def executed_orders(
    context: dg.AssetExecutionContext,
    arb_opportunities: DetectedStage,
    execution: ExecutionResource,
    circuit_breaker: CircuitBreakerResource,
    market_data: MarketDataResource,
    database: AppDatabaseResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    try:
        placed = _place_orders(context, arb_opportunities, execution, circuit_breaker, market_data, database)
    except Exception as error:
        yield from EXECUTED_ORDERS_CHECKS.not_applicable(
            EXECUTED_ORDERS, f"the step failed before an order frame: {type(error).__name__}: {error}")
        raise
    if isinstance(placed, str):
        yield from EXECUTED_ORDERS_CHECKS.not_applicable(EXECUTED_ORDERS, f"no order frame: {placed}")
        return
    yield placed
    yield from EXECUTED_ORDERS_CHECKS.results(EXECUTED_ORDERS, placed.value)


def _place_orders(
    context: dg.AssetExecutionContext,
    arb_opportunities: DetectedStage,
    execution: ExecutionResource,
    circuit_breaker: CircuitBreakerResource,
    market_data: MarketDataResource,
    database: AppDatabaseResource,
) -> dg.Output | str:
    """The orders' Output, or why there is none (refused, nothing to place: recorded as an observation)."""
    refusal = gate.refusal_reason(has_partition_key=context.has_partition_key, tags=context.run.tags)
    if refusal is not None:
        context.log.warning(f"executed_orders: no order placed: {refusal}")
        return _nothing_placed(context, refusal, refused=refusal, orders_placed=0)
    problems = execution.live_problems()
    execution.announce(context.log)
    if execution.mode == "live" and market_data.source != "live":
        problems.append(f"market data source is {market_data.source!r}; live orders need the live source")
    if problems:
        raise dg.Failure(description="execution refused: " + "; ".join(problems))

    opportunities = list(arb_opportunities.detection.opportunities)
    if not opportunities:
        context.log.info("executed_orders: no opportunity to act on")
        return _nothing_placed(context, "no opportunities", skipped="no opportunities", orders_placed=0)

    snapshot = arb_opportunities.snapshot
    traded = frozenset(o.event for o in opportunities)
    if arb_opportunities.assembly is not None:
        mark_games(database, arb_opportunities, events=traded)  # what the orders read: before them
    # "Now" is read afresh for every decision and stamp (the TTL just before each send, sent_at as the
    # request leaves): the wall clock. A recorded replay (paper only: live needs the live source) runs
    # on the replay's clock - its capture time, advancing as real time passes - for the TTL *and* the
    # breaker's data-age rule; the wall clock would call every recorded book stale.
    clock = market_data.clock(snapshot)
    as_of = clock()

    from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
    from arb_pipeline.services.scans import executed_kinds

    breaker = circuit_breaker.breaker(clock=clock)
    book_after = None
    if execution.mode == "paper":  # paper fills on the book after the latency
        from arb_pipeline.services.paper_books import paper_book_after

        book_after = paper_book_after(market_data.connector_settings(), market_data.source,
                                      sessions=circuit_breaker.sessions(), snapshot_source=snapshot.source)
    try:
        with timed_stage(database, "execute"):
            report = execute_opportunities(
                opportunities,
                context=ExecutionContext(mode=execution.mode, allow_orders=True, is_backfill=False, as_of=as_of,
                                         kinds=executed_kinds()),
                snapshot=snapshot,
                sessions=circuit_breaker.sessions(),
                breaker=breaker,
                alert=breaker.alert,
                clock=clock,
                paper_book_after=book_after,
            )
    finally:  # the scan's other games, after the orders (also when execution failed)
        if arb_opportunities.assembly is not None:
            mark_games(database, arb_opportunities, events=traded, others=True)
    status = breaker.status()
    if report.refused:
        context.log.warning(f"executed_orders: execution refused: {report.refused}")
        return _nothing_placed(context, f"execution refused: {report.refused}", refused=report.refused,
                               orders_placed=0, breaker=status.describe())
    from arb_pipeline.services import frames

    frame = frames.executed_orders_frame(report.orders, mode=execution.mode, created_at=as_of)
    skipped = [f"{what}: {why}" for what, why in report.skipped]
    if not len(frame):
        why = "; ".join(skipped) or "no Kalshi leg to place"
        context.log.info(f"executed_orders: no order considered ({why})")
        return _nothing_placed(context, why, skipped=why[:2000], orders_placed=0, breaker=status.describe())
    sent = report.orders_sent
    context.log.info(f"executed_orders ({execution.mode}): {sent} order(s) sent, {len(frame) - sent} not sent; "
                     f"{status.describe()}")
    return dg.Output(
        frame,
        metadata=frame_metadata(
            frame,
            mode=execution.mode,
            orders_sent=sent,
            orders_not_sent=len(frame) - sent,
            hedges_to_place=len(report.hedges),
            one_legged=dg.MetadataValue.json(report.one_legged[:20]),
            breaker=status.describe(),
            as_of=as_of.isoformat(),
            skipped=dg.MetadataValue.json(skipped[:50]),
            preview=preview(frame, ["client_order_id", "ticker", "side", "status", "fill_count", "cost", "reason"]),
        ),
    )


@dg.asset(
    key=RECONCILIATION,
    group_name=GROUP,
    kinds={"kalshi", "sqlalchemy"},
    deps=[EXECUTED_ORDERS],
    description="Positions, fills and P&L reconciled against the venue (paper ledger in paper mode); a "
                "mismatch trips the circuit breaker. Expires hedges past their expiry and settles both legs "
                "from the games' results. Materialized by the reconciliation schedule.",
)
def reconciliation(
    context: dg.AssetExecutionContext,
    execution: ExecutionResource,
    circuit_breaker: CircuitBreakerResource,
    market_data: MarketDataResource,
) -> dg.MaterializeResult:
    from arb_pipeline.services.positions import run_reconcile

    settings = current_settings().model_copy(update={"mode": execution.mode}) if execution.mode in (
        "paper", "live") else current_settings()
    report = run_reconcile(settings, as_of=datetime.now(UTC), sessions=circuit_breaker.sessions(),
                           breaker=circuit_breaker.breaker(), source=market_data.source)
    context.log.info(f"reconciliation ({execution.mode}): {len(report.completed)} completed, "
                     f"{len(report.pending)} pending, {len(report.mismatches)} mismatches, "
                     f"{len(report.hedges_expired)} hedges expired, {len(report.books_settled)} bets settled")
    return dg.MaterializeResult(metadata={
        "mode": execution.mode,
        "completed": len(report.completed),
        "pending": len(report.pending),
        "mismatches": dg.MetadataValue.json(list(report.mismatches)),
        "unfinished_executions": dg.MetadataValue.json(list(report.unfinished)),
        "settled": dg.MetadataValue.json({k: str(v) for k, v in report.settled.items()}),
        "sportsbook_settled": dg.MetadataValue.json({str(k): str(v) for k, v in report.books_settled.items()}),
        "hedges_expired": dg.MetadataValue.json(list(report.hedges_expired)),
        "balance": report.balance or "n/a (paper)",
        "daily_realized_pnl": str(report.daily_realized_pnl),
        "open_exposure": str(report.open_exposure),
        "unhedged_exposure": str(report.unhedged_exposure),
        "breaker": circuit_breaker.status().describe(),
    })
