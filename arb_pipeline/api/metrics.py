"""Prometheus `/metrics`: the pipeline's state and history read from the application database at
scrape time, plus this API process's own request metrics.

Cross-process design (see `storage/repositories/metrics.py`): the scan runs write stage durations
and counts into the `metric_series` table of the application database; orders, fills, the breaker,
positions, hedges and scan records are already there. The collector below turns all of it into
Prometheus families on each scrape, so whatever process or container ran the scan, the API's
`/metrics` reports it — with no shared directory and no Pushgateway.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.services import desk
from arb_pipeline.services.scans import OPPORTUNITIES_FOUND, SCAN_STAGE_SECONDS, SCANS_RECORDED, STAGE_BUCKETS
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.breaker import BreakerRepository
from arb_pipeline.storage.repositories.desk import DeskQueries
from arb_pipeline.storage.repositories.metrics import COUNTER, GAUGE, INF, SUM, MetricRepository, bucket_text
from arb_pipeline.storage.repositories.scans import ScanRepository

log = logging.getLogger(__name__)
BREAKER_STATES = ("closed", "open", "half_open")
MODES = ("paper", "live")


def _family_name(name: str) -> str:
    return name[: -len("_total")] if name.endswith("_total") else name


class DatabaseCollector(Collector):
    """Every pipeline metric, computed from the application database when Prometheus scrapes."""

    def __init__(self, sessions: sessionmaker[Session], *, breaker_name: str = "kalshi",
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.breaker_name = breaker_name
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("arb_desk_database_up", "1 when the application database answered this scrape")
        try:
            with session_scope(self.sessions) as session:
                families = list(self._families(session))
        except Exception as exc:  # noqa: BLE001 - a scrape reports the outage instead of failing
            log.error("metrics: the application database did not answer (%s: %s)", type(exc).__name__,
                      str(exc).splitlines()[0][:200] if str(exc) else "")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, session: Session) -> Iterator[Metric]:
        series = MetricRepository(session).all("arb_")
        yield self._stage_histogram(series)
        yield from self._counters(series)
        yield from self._ledger(session)
        yield from self._breaker(session)
        yield from self._latest_scan(session)
        yield from self._worker(series)

    @staticmethod
    def _stage_histogram(series: list[Any]) -> Metric:
        family = HistogramMetricFamily(SCAN_STAGE_SECONDS, "Wall time of each scan stage (capture, resolve, "
                                       "price, detect, execute), seconds", labels=["stage"])
        by_stage: dict[str, dict[str, float]] = defaultdict(dict)
        for s in series:
            if s.name == SCAN_STAGE_SECONDS:
                by_stage[s.labels.get("stage", "")][s.le] = s.value
        for stage, values in sorted(by_stage.items()):
            bounds = [bucket_text(b) for b in STAGE_BUCKETS] + [INF]
            buckets = [(b, values.get(b, 0.0)) for b in bounds]
            family.add_metric([stage], buckets=buckets, sum_value=values.get(SUM, 0.0))
        return family

    @staticmethod
    def _counters(series: list[Any]) -> Iterator[Metric]:
        docs = {OPPORTUNITIES_FOUND: ("kind", "Opportunities found by the live scan, by kind (each snapshot once)"),
                SCANS_RECORDED: ("source", "Scans recorded, by market-data source")}
        for name, (label, doc) in docs.items():
            family = CounterMetricFamily(_family_name(name), doc, labels=[label])
            for s in series:
                if s.name == name and s.le == COUNTER:
                    family.add_metric([s.labels.get(label, "")], s.value)
            yield family

    def _ledger(self, session: Session) -> Iterator[Metric]:
        queries = DeskQueries(session)
        orders = GaugeMetricFamily("arb_orders", "Kalshi orders by mode and current status", labels=["mode", "status"])
        for mode, status, count in queries.order_counts():
            orders.add_metric([mode, status], count)
        yield orders
        fills = CounterMetricFamily("arb_fills", "Fills recorded, by mode", labels=["mode"])
        contracts = CounterMetricFamily("arb_filled_contracts", "Contracts filled, by mode", labels=["mode"])
        for mode, count, filled in queries.fill_totals():
            fills.add_metric([mode], count)
            contracts.add_metric([mode], float(filled))
        yield fills
        yield contracts
        exposure = GaugeMetricFamily("arb_open_exposure_dollars", "Open exposure, both legs: open Kalshi positions "
                                     "at cost + placed sportsbook stakes not settled (display float of an exact "
                                     "sum)", labels=["mode"])
        unhedged = GaugeMetricFamily("arb_unhedged_exposure_dollars", "Cost of filled Kalshi legs whose "
                                     "sportsbook hedge is still to place", labels=["mode"])
        from arb_pipeline.services.ledger import risk

        for mode in MODES:
            exposure.add_metric([mode], float(risk(session, mode, self.clock()).open_exposure))
            unhedged.add_metric([mode], float(desk.unhedged_exposure(session, mode)))
        yield exposure
        yield unhedged
        pending = GaugeMetricFamily("arb_hedges_pending", "Hedge instructions waiting to be placed by a person")
        pending.add_metric([], len(queries.hedges(statuses=["pending"], limit=100_000)))
        yield pending

    def _breaker(self, session: Session) -> Iterator[Metric]:
        row = BreakerRepository(session).read(self.breaker_name)
        state = row.state if row is not None else "closed"
        family = GaugeMetricFamily("arb_breaker_state", "1 for the circuit breaker's current state",
                                   labels=["breaker", "state"])
        for name in BREAKER_STATES:
            family.add_metric([self.breaker_name, name], 1 if name == state else 0)
        yield family
        manual = GaugeMetricFamily("arb_breaker_manual", "1 when the kill switch holds the breaker open",
                                   labels=["breaker"])
        manual.add_metric([self.breaker_name], 1 if row is not None and row.manual and state == "open" else 0)
        yield manual

    def _worker(self, series: list[Any]) -> Iterator[Metric]:
        return _worker_families(series, self.clock())

    def _latest_scan(self, session: Session) -> Iterator[Metric]:
        repo = ScanRepository(session)
        latest = repo.latest()
        age = GaugeMetricFamily("arb_latest_scan_age_seconds", "Seconds since the latest scan's capture")
        quotes = GaugeMetricFamily("arb_quote_age_seconds", "Quote ages in the latest scan", labels=["venue", "stat"])
        credits = GaugeMetricFamily("arb_odds_api_credits_remaining", "The Odds API credits left (latest capture "
                                    "that reported them)")
        if latest is not None:
            age.add_metric([], max(0.0, (self.clock() - latest.captured_at).total_seconds()))
            for venue, stat, value in (("kalshi", "book", latest.kalshi_book_age_s),
                                       ("sportsbook", "median", latest.book_quote_age_median_s),
                                       ("sportsbook", "max", latest.book_quote_age_max_s)):
                if value is not None:
                    quotes.add_metric([venue, stat], value)
            quota = next((r.odds_quota_remaining for r in repo.recent(50) if r.odds_quota_remaining is not None), None)
            if quota is not None:
                credits.add_metric([], quota)
        yield age
        yield quotes
        yield credits


def _worker_families(series: list[Any], now: datetime) -> Iterator[Metric]:
    """The websocket worker's health (services/worker.py writes these gauges and counters)."""
    from arb_pipeline.services.worker import (
        WORKER_BOOKS,
        WORKER_DECISIONS,
        WORKER_FEED_AGE,
        WORKER_HEARTBEAT,
        WORKER_LAG_P99,
        WORKER_WS_EVENTS,
    )

    gauges = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in series if s.le == GAUGE}
    alive = GaugeMetricFamily("arb_worker_heartbeat_age_seconds", "Seconds since the websocket worker last "
                              "reported (absent: it never did)")
    beat = gauges.get((WORKER_HEARTBEAT, ()))
    if beat is not None:
        alive.add_metric([], max(0.0, now.timestamp() - beat))
    yield alive
    books = GaugeMetricFamily(WORKER_BOOKS, "Kalshi books the worker holds from the websocket, and how many are "
                              "stale", labels=["state"])
    for state in ("held", "stale"):
        value = gauges.get((WORKER_BOOKS, (("state", state),)))
        if value is not None:
            books.add_metric([state], value)
    yield books
    for name, doc in ((WORKER_FEED_AGE, "Seconds since the worker's last websocket message (-1: none yet)"),
                      (WORKER_LAG_P99, "Book update to order decision, p99 over the worker's last second")):
        family = GaugeMetricFamily(name, doc)
        value = gauges.get((name, ()))
        if value is not None:
            family.add_metric([], value)
        yield family
    for name, label, doc in ((WORKER_DECISIONS, "outcome", "Games the worker re-evaluated, by outcome"),
                             (WORKER_WS_EVENTS, "event", "Websocket sequence gaps re-snapshotted and reconnects")):
        family = CounterMetricFamily(_family_name(name), doc, labels=[label])
        for s in series:
            if s.name == name and s.le == COUNTER:
                family.add_metric([s.labels.get(label, "")], s.value)
        yield family


class RequestMetrics:
    """This API process's own request latency (in-process: only this process serves it)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram("arb_api_request_duration_seconds", "API request latency by route",
                                 ["method", "route", "status"], registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.latency.labels(method, route, str(status)).observe(time.perf_counter() - started)


def build_registry(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> tuple[CollectorRegistry,
                                                                                          RequestMetrics]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(sessions, clock=clock))
    return registry, RequestMetrics(registry)


__all__ = ["DatabaseCollector", "RequestMetrics", "build_registry"]
