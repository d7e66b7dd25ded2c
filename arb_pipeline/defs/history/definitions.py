"""History domain: daily-partitioned replays of stored snapshots (backfills never trade)."""

import dagster as dg

from arb_pipeline.defs.history.assets import replay_market_history
from arb_pipeline.defs.history.checks import CHECKS
from arb_pipeline.defs.history.quality import CHECKS as QUALITY_CHECKS
from arb_pipeline.defs.jobs import history_job
from arb_pipeline.defs.shared.io import IO_MANAGER_KEY, io_manager
from arb_pipeline.defs.shared.resources import SCAN_CONFIG_KEY, scan_config, snapshot_store

defs = dg.Definitions(
    assets=[replay_market_history],
    asset_checks=[*CHECKS, *QUALITY_CHECKS],
    jobs=[history_job],
    resources={IO_MANAGER_KEY: io_manager, "snapshot_store": snapshot_store, SCAN_CONFIG_KEY: scan_config},
)
