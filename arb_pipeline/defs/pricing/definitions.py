"""Pricing domain: its asset, its checks and the resources they use."""

import dagster as dg

from arb_pipeline.defs.pricing.assets import implied_probabilities
from arb_pipeline.defs.pricing.checks import CHECKS
from arb_pipeline.defs.shared.resources import SCAN_CONFIG_KEY, scan_config, snapshot_store

defs = dg.Definitions(
    assets=[implied_probabilities],
    asset_checks=CHECKS,
    resources={"snapshot_store": snapshot_store, SCAN_CONFIG_KEY: scan_config},
)
