"""The jobs: the scan (one in-process run per sensor tick), reconciliation, and the history replay."""

from __future__ import annotations

import dagster as dg

from arb_pipeline.defs.execution.assets import EXECUTED_ORDERS, RECONCILIATION
from arb_pipeline.defs.history.assets import (
    HISTORY_IMPLIED_PROBABILITIES,
    HISTORY_OPPORTUNITIES,
    HISTORY_RESOLVED_EVENTS,
)
from arb_pipeline.defs.ingest.assets import KALSHI_MARKETS, SPORTSBOOK_ODDS
from arb_pipeline.defs.opportunities.assets import ARB_OPPORTUNITIES
from arb_pipeline.defs.positions.assets import PNL, POSITIONS
from arb_pipeline.defs.pricing.assets import IMPLIED_PROBABILITIES
from arb_pipeline.defs.resolve.assets import RESOLVED_EVENTS
from arb_pipeline.defs.shared.io import IN_MEMORY, IO_MANAGER_TAG

SCAN_JOB = "scan_job"
RECONCILE_JOB = "reconcile_job"
HISTORY_JOB = "history_replay_job"

SCAN_ASSETS = (KALSHI_MARKETS, SPORTSBOOK_ODDS, RESOLVED_EVENTS, IMPLIED_PROBABILITIES, ARB_OPPORTUNITIES,
               EXECUTED_ORDERS)
HISTORY_ASSETS = (HISTORY_RESOLVED_EVENTS, HISTORY_IMPLIED_PROBABILITIES, HISTORY_OPPORTUNITIES)

scan_job = dg.define_asset_job(
    SCAN_JOB,
    selection=dg.AssetSelection.assets(*SCAN_ASSETS),
    executor_def=dg.in_process_executor,
    tags={"arb/job": "scan", IO_MANAGER_TAG: IN_MEMORY},  # one process: values stay in memory
    description="Capture -> resolve -> price -> detect -> (conditionally) execute, in one process. "
                "Launched by scan_sensor every ARB_SCAN_INTERVAL_S seconds.",
)

reconcile_job = dg.define_asset_job(
    RECONCILE_JOB,
    selection=dg.AssetSelection.assets(RECONCILIATION, POSITIONS, PNL),
    executor_def=dg.in_process_executor,
    tags={"arb/job": "reconcile", IO_MANAGER_TAG: IN_MEMORY},
    description="Reconcile positions, fills and P&L (both legs: hedges expire, bets settle); then the positions "
                "and pnl assets; a mismatch trips the circuit breaker.",
)

history_job = dg.define_asset_job(
    HISTORY_JOB,
    selection=dg.AssetSelection.assets(*HISTORY_ASSETS),
    tags={"arb/job": "history"},  # multiprocess: values pickled under ARB_IO_DIR (defs/shared/io.py)
    description="Replay a day of stored snapshots with today's rules. Never places orders.",
)

JOBS = [scan_job, reconcile_job, history_job]
