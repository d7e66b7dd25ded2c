"""Execution domain: executed_orders (conditional, pool of 1), reconciliation, the breaker and mode."""

import logging
import os

import dagster as dg

from arb_pipeline.defs.execution.assets import executed_orders, reconciliation
from arb_pipeline.defs.execution.resources import (
    CIRCUIT_BREAKER_KEY,
    EXECUTION_KEY,
    circuit_breaker,
    execution,
)
from arb_pipeline.defs.ingest.resources import MARKET_DATA_KEY, market_data
from arb_pipeline.defs.shared.resources import DATABASE_KEY, database

if os.environ.get("ARB_MODE", "paper").strip().lower() == "live":
    logging.getLogger("arb_pipeline").warning(
        "!!! ARB_MODE=live: this code location places REAL Kalshi orders when the scan sensor runs !!!")

defs = dg.Definitions(
    assets=[executed_orders, reconciliation],
    resources={
        EXECUTION_KEY: execution,
        CIRCUIT_BREAKER_KEY: circuit_breaker,
        MARKET_DATA_KEY: market_data,
        DATABASE_KEY: database,
    },
)
