"""Fixtures for the simulator tests: a running simulator with a fixed clock and signing helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from arb_pipeline.sim.auth import signed_headers
from arb_pipeline.sim.scenario import ScenarioConfig
from arb_pipeline.sim.server import SimConfig, SimHandle, start_simulator

START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def quiet_scenario(**overrides: object) -> ScenarioConfig:
    """A scenario without random windows, so tests see only what they inject."""
    values: dict[str, object] = {"seed": 5, "start": START, "games_per_league": 2, "tick_s": 60.0,
                                 "arb_rate_per_hour": 0.0, "value_rate_per_hour": 0.0}
    values.update(overrides)
    return ScenarioConfig(**values)  # type: ignore[arg-type]


class Venue:
    """An httpx client bound to one simulator, signing Kalshi requests like a real client."""

    def __init__(self, handle: SimHandle) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=20)

    def signed(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        full = "/trade-api/v2" + path
        assert self.handle.private_key_pem is not None
        headers = signed_headers(self.handle.private_key_pem, self.handle.key_id, method, full)
        return self.http.request(method, full, headers=headers, **kwargs)  # type: ignore[arg-type]

    def public(self, path: str, **kwargs: object) -> httpx.Response:
        return self.http.get("/trade-api/v2" + path, **kwargs)  # type: ignore[arg-type]

    def odds(self, sport: str, **params: str) -> httpx.Response:
        query = {"apiKey": self.handle.odds_api_key, "regions": "us,eu", **params}
        return self.http.get(f"/v4/sports/{sport}/odds", params=query)

    def order(self, ticker: str, side: str, price: str, count: str, tif: str = "immediate_or_cancel",
              client_order_id: str | None = None, **extra: object) -> httpx.Response:
        body: dict[str, object] = {"ticker": ticker, "side": side, "price": price, "count": count,
                                   "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross", **extra}
        if client_order_id is not None:
            body["client_order_id"] = client_order_id
        return self.signed("POST", "/portfolio/events/orders", json=body)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def make_venue() -> Iterator[object]:
    """Start simulators on demand (each test gets fresh state); all are stopped afterwards."""
    opened: list[tuple[object, Venue]] = []

    def _make(config: SimConfig | None = None, **scenario: object) -> Venue:
        cfg = config or SimConfig(scenario=quiet_scenario(**scenario), kalshi_tier=None, odds_calls_per_second=None)
        manager = start_simulator(cfg)
        venue = Venue(manager.__enter__())
        opened.append((manager, venue))
        return venue

    yield _make
    for manager, venue in opened:
        venue.close()
        manager.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture
def quiet() -> object:
    return quiet_scenario


@pytest.fixture
def start_time() -> datetime:
    return START
