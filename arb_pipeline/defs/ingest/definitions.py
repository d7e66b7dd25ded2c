"""Ingest domain: capture (two assets), their checks, the scan job and its sensor, and resources."""

import dagster as dg

from arb_pipeline.defs.ingest.assets import capture_market_snapshot
from arb_pipeline.defs.ingest.resources import MARKET_DATA_KEY, market_data
from arb_pipeline.defs.ingest.sensors import (
    build_scan_sensor,
    default_sensor_status,
    max_in_flight,
    scan_interval_s,
)
from arb_pipeline.defs.jobs import scan_job
from arb_pipeline.defs.shared.io import IO_MANAGER_KEY, io_manager
from arb_pipeline.defs.shared.resources import snapshot_store

scan_sensor = build_scan_sensor(scan_job, interval_s=scan_interval_s(), default_status=default_sensor_status(),
                                in_flight_limit=max_in_flight())

defs = dg.Definitions(
    assets=[capture_market_snapshot],
    jobs=[scan_job],
    sensors=[scan_sensor],
    resources={IO_MANAGER_KEY: io_manager, MARKET_DATA_KEY: market_data, "snapshot_store": snapshot_store},
)
