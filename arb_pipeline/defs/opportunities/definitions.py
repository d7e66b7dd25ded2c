"""Opportunities domain: its asset, its checks and the resources they use."""

import dagster as dg

from arb_pipeline.defs.opportunities.assets import arb_opportunities
from arb_pipeline.defs.opportunities.checks import CHECKS
from arb_pipeline.defs.shared.resources import SCAN_CONFIG_KEY, scan_config, snapshot_store

defs = dg.Definitions(
    assets=[arb_opportunities],
    asset_checks=CHECKS,
    resources={"snapshot_store": snapshot_store, SCAN_CONFIG_KEY: scan_config},
)
