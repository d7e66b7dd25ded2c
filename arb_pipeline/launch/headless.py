"""Headless mode: run the scan job N times without the UI (`arb-pipeline run --cycles N`).

The same Dagster `scan_job` the sensor launches, executed in process on an ephemeral Dagster
instance (nothing is written to DAGSTER_HOME), against the application database named by the
settings. Bounded on purpose: N cycles, then it returns a report per cycle. Orders follow the
same rules as the live scan (paper unless ARB_MODE=live with credentials; breaker before every
order; no order is ever placed twice). Before every cycle (and after the last) it reconciles, as the
deployment's reconcile schedule does: orders left in flight are completed or closed.

This module never imports Dagster itself; the Dagster work is in `arb_pipeline.defs.runner`. It is a
launcher (above `defs/`), not a service: nothing in `services/` imports it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from arb_pipeline.services import market_data
from arb_pipeline.settings import Settings, get_settings

SOURCES = ("simulator", "sample", "recorded", "live")


@dataclass(frozen=True)
class CycleReport:
    cycle: int
    run_id: str
    success: bool
    duration_s: float
    snapshot_id: int | None
    markets: int
    opportunities: int
    best_edge_bps: float | None
    orders_sent: int
    orders_not_sent: int
    failed_checks: tuple[str, ...]
    execution_note: str | None  # why executed_orders did not act (refused / skipped), when it did not
    error: str | None
    reconciled: str | None = None  # what reconciliation before this cycle did with orders left in flight

    def line(self) -> str:
        status = "ok" if self.success else "FAILED"
        parts = [f"cycle {self.cycle}: {status} in {self.duration_s:.1f}s", f"snapshot {self.snapshot_id}",
                 f"{self.markets} markets", f"{self.opportunities} opportunities"]
        if self.best_edge_bps is not None:
            parts.append(f"best edge {self.best_edge_bps:.0f} bps")
        parts.append(f"{self.orders_sent} orders sent, {self.orders_not_sent} not sent")
        if self.execution_note:
            parts.append(f"execution: {self.execution_note}")
        if self.failed_checks:
            parts.append("failed checks: " + ", ".join(self.failed_checks))
        if self.error:
            parts.append(f"error: {self.error}")
        if self.reconciled:
            parts.append(self.reconciled)
        return "; ".join(parts)


def _source_args(source: str, settings: Settings, sim_handle: Any, snapshot_dir: Path | str | None) -> dict[str, Any]:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source == market_data.SAMPLE:
        return {"source": market_data.RECORDED, "snapshot_dir": market_data.sample_config().snapshot_dir}
    if source == "recorded":
        if snapshot_dir is None:
            raise ValueError("source 'recorded' needs snapshot_dir")
        return {"source": "recorded", "snapshot_dir": str(snapshot_dir)}
    if source == "simulator" and sim_handle is not None:
        return {"source": "simulator", "kalshi_base_url": sim_handle.kalshi_base_url,
                "odds_api_base_url": sim_handle.odds_base_url}
    if source == "simulator":
        return {"source": "simulator", "kalshi_base_url": settings.kalshi_base_url,
                "odds_api_base_url": settings.odds_api_base_url}
    return {"source": "live"}


@contextmanager
def _simulator_credentials(sim_handle: Any) -> Iterator[None]:
    """Point the connectors at an in-process simulator: its URLs and its demo (not secret) credentials,
    through the environment the settings are read from; restored afterwards."""
    if sim_handle is None:
        yield
        return
    env = {
        "KALSHI_BASE_URL": sim_handle.kalshi_base_url,
        "ODDS_API_BASE_URL": sim_handle.odds_base_url,
        "ODDS_API_KEY": sim_handle.odds_api_key,
        "KALSHI_API_KEY_ID": sim_handle.key_id,
    }
    if sim_handle.private_key_pem:
        env["KALSHI_PRIVATE_KEY_PEM"] = sim_handle.private_key_pem.decode("ascii")
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def _reconcile(resources: dict[str, Any], instance: Any) -> str:
    """Run `reconcile_job` once - the reconciliation the Dagster deployment schedules - so orders left in
    flight (a crash, a lost response, a `kill -9`) are completed from the venue, or closed, and a
    half-open breaker's probe is not blocked by them forever."""
    from arb_pipeline.defs.jobs import RECONCILE_JOB
    from arb_pipeline.defs.runner import run_scan_job

    run = run_scan_job({k: resources[k] for k in ("execution", "circuit_breaker")}, instance=instance,
                       job_name=RECONCILE_JOB)
    if not run.success:
        return f"reconciliation FAILED: {run.error}"
    meta = run.metadata.get("reconciliation", {})
    mismatches = meta.get("mismatches") or []
    unfinished = meta.get("unfinished_executions") or []
    return (f"reconciled: {meta.get('completed', 0)} in-flight order(s) completed, {meta.get('pending', 0)} pending"
            + (f", {len(unfinished)} unfinished execution(s) hedged/flagged" if unfinished else "")
            + (f", MISMATCHES {mismatches}" if mismatches else ""))


def _report(cycle: int, run: Any) -> CycleReport:
    markets = run.metadata.get("kalshi_markets", {})
    opps = run.metadata.get("arb_opportunities", {})
    orders = run.metadata.get("executed_orders", {})
    observed = run.observations.get("executed_orders", {})
    note = observed.get("refused") or observed.get("skipped")
    return CycleReport(
        cycle=cycle,
        run_id=run.run_id,
        success=run.success,
        duration_s=run.duration_s,
        snapshot_id=markets.get("snapshot_id"),
        markets=int(markets.get("dagster/row_count", 0) or 0),
        opportunities=int(opps.get("opportunities", 0) or 0),
        best_edge_bps=opps.get("best_edge_bps"),
        orders_sent=int(orders.get("orders_sent", 0) or 0),
        orders_not_sent=int(orders.get("orders_not_sent", 0) or 0),
        failed_checks=tuple(run.failed_checks),
        execution_note=note,
        error=run.error,
    )


def run_cycles(
    n: int,
    *,
    settings: Settings | None = None,
    source: str = "simulator",
    sim_handle: Any = None,
    snapshot_dir: Path | str | None = None,
    interval_s: float = 0.0,
    instance: Any = None,
) -> list[CycleReport]:
    """Run the scan job `n` times (at most one per `interval_s` seconds); one report per cycle.

    `settings` names the database and the mode; every other knob comes from the environment like
    everywhere else. `sim_handle` (from `sim.server.start_simulator`) points the simulator source at
    that simulator; `instance` defaults to one ephemeral Dagster instance for all cycles.
    """
    if n < 1:
        raise ValueError(f"cycles must be at least 1, got {n}")
    from arb_pipeline.defs.runner import build_resources, ephemeral_instance, run_scan_job

    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    resources = build_resources(database_url=settings.effective_database_url, mode=settings.mode,
                                **_source_args(source, settings, sim_handle, snapshot_dir))
    instance = instance or ephemeral_instance()

    reports: list[CycleReport] = []
    with _simulator_credentials(sim_handle):
        for cycle in range(1, n + 1):
            started = time.monotonic()
            reconciled = _reconcile(resources, instance)  # every cycle, like the deployment's schedule
            run = run_scan_job(resources, instance=instance)
            reports.append(replace(_report(cycle, run), reconciled=reconciled))
            if cycle < n and interval_s > 0:
                time.sleep(max(0.0, interval_s - (time.monotonic() - started)))
        _reconcile(resources, instance)  # what the last cycle left in flight
    return reports


def run_cycles_cli(cycles: int, interval_s: float = 0.0, source: str = "simulator") -> int:
    """`arb-pipeline run --cycles N`: print one line per cycle; exit 1 when any cycle failed."""
    settings = get_settings()
    print(f"headless scan: {cycles} cycle(s), source {source}, {settings.mode} mode")
    reports = run_cycles(cycles, settings=settings, source=source, interval_s=interval_s)
    for report in reports:
        print(report.line())
    return 0 if all(r.success for r in reports) else 1
