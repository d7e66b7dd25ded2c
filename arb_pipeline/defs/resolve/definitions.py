"""Resolve domain: its asset, its checks and the resources they use."""

import dagster as dg

from arb_pipeline.defs.resolve.assets import resolved_events
from arb_pipeline.defs.resolve.checks import CHECKS
from arb_pipeline.defs.shared.resources import SCAN_CONFIG_KEY, scan_config, snapshot_store

defs = dg.Definitions(
    assets=[resolved_events],
    asset_checks=CHECKS,
    resources={"snapshot_store": snapshot_store, SCAN_CONFIG_KEY: scan_config},
)
