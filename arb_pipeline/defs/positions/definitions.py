"""Positions domain: `positions` and `pnl` (after reconciliation) and their checks."""

import dagster as dg

from arb_pipeline.defs.execution.resources import (
    CIRCUIT_BREAKER_KEY,
    EXECUTION_KEY,
    circuit_breaker,
    execution,
)
from arb_pipeline.defs.positions.assets import pnl, positions
from arb_pipeline.defs.positions.checks import CHECKS
from arb_pipeline.defs.shared.resources import SCAN_CONFIG_KEY, scan_config, snapshot_store

defs = dg.Definitions(
    assets=[positions, pnl],
    asset_checks=CHECKS,
    resources={EXECUTION_KEY: execution, CIRCUIT_BREAKER_KEY: circuit_breaker, "snapshot_store": snapshot_store,
               SCAN_CONFIG_KEY: scan_config},
)
