"""Pricing domain: its asset, its checks and the resources they use."""

import dagster as dg

from arb_pipeline.defs.pricing.assets import implied_probabilities
from arb_pipeline.defs.shared.resources import DATABASE_KEY, SCAN_CONFIG_KEY, database, scan_config

defs = dg.Definitions(
    assets=[implied_probabilities],
    resources={DATABASE_KEY: database, SCAN_CONFIG_KEY: scan_config},
)
