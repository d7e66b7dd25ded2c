"""The websocket worker (`arb-pipeline worker`, `services/worker.py`) in Dagster.

The worker runs outside Dagster (a Dagster run per book change would cost seconds before any work
starts); Dagster stays the control plane and the audit trail:

* `kalshi_ws_worker` is an external asset standing for the worker process: its records land here;
* `worker_records` (sensor) ingests the worker's decision and fill records (JSON lines under
  ARB_DATA_DIR/worker, cursor = byte offset) and records each as an `AssetObservation` of
  `executed_orders` (what it traded, refused or skipped, with the book-update-to-decision lag), so
  the worker's trades show in the asset's timeline beside the scan job's; and evaluates
* `kalshi_ws_worker_alive` (WARN, non-blocking): the freshness check - the worker's heartbeat within
  ARB_WORKER_HEARTBEAT_MAX_AGE_S, its websocket feed within KALSHI_WS_STALE_S, no stale books. The
  sensor evaluates it only while ARB_TRADER=worker (otherwise no worker is expected), and it can be
  run by hand from the UI. A failed evaluation is alerted by `check_failure_alerts`.
"""

from datetime import UTC, datetime

import dagster as dg

from arb_pipeline.defs.execution.assets import EXECUTED_ORDERS
from arb_pipeline.defs.shared.resources import DATABASE_KEY, AppDatabaseResource, current_settings, database

WORKER_ASSET = dg.AssetKey("kalshi_ws_worker")
WORKER_ALIVE_CHECK = "kalshi_ws_worker_alive"
WORKER_RECORDS_SENSOR = "worker_records"
MAX_RECORDS_PER_TICK = 200

kalshi_ws_worker = dg.AssetSpec(
    WORKER_ASSET,
    group_name="execution",
    kinds={"kalshi", "websocket"},
    description="The long-running websocket worker (`arb-pipeline worker`): trades on Kalshi book changes "
                "when ARB_TRADER=worker, through the same execution service, breaker and ledger as the scan "
                "job. Its decisions appear as observations of executed_orders; its health is the "
                "kalshi_ws_worker_alive check.",
)


def _evaluate(db: AppDatabaseResource) -> tuple[bool, str, dict[str, object]]:
    from arb_pipeline.services.worker import read_health

    settings = current_settings()
    with db.session() as session:
        health = read_health(session, datetime.now(UTC))
    problem = health.problem(settings.worker_heartbeat_max_age_s, settings.kalshi_ws_stale_s)
    metadata: dict[str, object] = {
        "heartbeat_age_s": health.heartbeat_age_s if health.heartbeat_age_s is not None else -1.0,
        "books_held": health.books_held or 0.0,
        "stale_books": health.stale_books or 0.0,
        "feed_age_s": health.feed_age_s if health.feed_age_s is not None else -1.0,
        "decision_lag_p99_ms": (health.lag_p99_s or 0.0) * 1000,
        "trader": settings.trader,
    }
    return problem is None, problem or "worker alive, feed fresh, no stale book", metadata


@dg.asset_check(
    asset=WORKER_ASSET,
    name=WORKER_ALIVE_CHECK,
    blocking=False,
    metadata={"severity": "WARN"},
    description="Freshness of the websocket worker: heartbeat within ARB_WORKER_HEARTBEAT_MAX_AGE_S, websocket "
                "feed within KALSHI_WS_STALE_S, no stale book.",
)
def kalshi_ws_worker_alive(database: AppDatabaseResource) -> dg.AssetCheckResult:
    passed, description, metadata = _evaluate(database)
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, description=description,
                               metadata=metadata)


def _observation(record: dict) -> dg.AssetObservation:
    orders = record.get("orders") or []
    return dg.AssetObservation(
        asset_key=EXECUTED_ORDERS,
        description=f"worker: {record.get('outcome')} on {record.get('event')}",
        metadata={
            "trader": "worker",
            "at": str(record.get("at", "")),
            "event": str(record.get("event", "")),
            "outcome": str(record.get("outcome", "")),
            "opportunities_found": int(record.get("found") or 0),
            "kinds": dg.MetadataValue.json(list(record.get("kinds") or [])),
            "book_update_to_decision_ms": float(record.get("lag_ms") or 0.0),
            "orders_sent": sum(1 for o in orders if o.get("status") != "not_sent"),
            "orders": dg.MetadataValue.json(orders[:20]),
            "reason": str(record.get("reason", ""))[:500],
        },
    )


def _fill_observation(record: dict) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=EXECUTED_ORDERS,
        description=f"worker: fill on {record.get('market_ticker')}",
        metadata={"trader": "worker", "record": "fill",
                  **{k: str(record.get(k, "")) for k in ("at", "trade_id", "order_id", "client_order_id",
                                                         "market_ticker", "outcome_side", "yes_price_dollars",
                                                         "count_fp", "fee_cost")}},
    )


@dg.sensor(
    name=WORKER_RECORDS_SENSOR,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingests the websocket worker's decision records as observations of executed_orders and "
                "evaluates the kalshi_ws_worker_alive freshness check while ARB_TRADER=worker.",
)
def worker_records(context: dg.SensorEvaluationContext, database: AppDatabaseResource):
    from arb_pipeline.services.worker import WorkerRecords, records_dir

    settings = current_settings()
    offset = int(context.cursor) if context.cursor else 0
    records, new_offset = WorkerRecords(records_dir(settings)).read_after(offset, limit=MAX_RECORDS_PER_TICK)
    events: list = [_observation(r) if r.get("type") == "decision" else _fill_observation(r)
                    for r in records if r.get("type") in ("decision", "fill")]
    if settings.trader == "worker":
        passed, description, metadata = _evaluate(database)
        events.append(dg.AssetCheckEvaluation(
            asset_key=WORKER_ASSET, check_name=WORKER_ALIVE_CHECK, passed=passed,
            severity=dg.AssetCheckSeverity.WARN, description=description,
            metadata={k: dg.MetadataValue.float(v) if isinstance(v, float) else v for k, v in metadata.items()}))
    if new_offset != offset:
        context.update_cursor(str(new_offset))
    if not events:
        return dg.SkipReason(f"no worker record since byte {offset} (ARB_TRADER={settings.trader})")
    return dg.SensorResult(asset_events=events)


defs = dg.Definitions(
    assets=[kalshi_ws_worker],
    asset_checks=[kalshi_ws_worker_alive],
    sensors=[worker_records],
    resources={DATABASE_KEY: database},
)
