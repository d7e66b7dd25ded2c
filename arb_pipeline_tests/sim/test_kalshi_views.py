"""The Kalshi views' cache (`kalshi_views._cached` templates) never serves stale data.

Each check renders every view while the caches are warm, then again after dropping every cache; the two
must be equal after any sequence of the changes the scenario makes: ticks (requotes), injected windows,
user fills and cancels, games closing, being determined and settling, the clock moving within a tick.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.sim import kalshi_views as views
from arb_pipeline.sim.exchange import USER, ExchangeError
from arb_pipeline.sim.scenario import ScenarioEngine
from arb_pipeline_tests.sim.conftest import quiet_scenario


def _engine() -> ScenarioEngine:
    # the extended slate: winner and spread/total markets; 10 s ticks so small advances stay within one tick
    return ScenarioEngine(quiet_scenario(extended=True, games_per_league=1, tick_s=10.0))


def _render(engine: ScenarioEngine) -> list[object]:
    out: list[object] = []
    for state in engine.states.values():
        out += [views.event_json(engine, state, True), views.event_json(engine, state, False),
                views.milestone_json(engine, state)]
        out += [views.event_json(engine, state, True, ticker) for ticker, _, _ in views.line_events(state)]
    out += [views.market_json(engine, s, o) for s, o in engine.market_index.values()]
    out += [views.line_market_json(engine, s, m) for s, m in engine.line_index.values()]
    out += [views.orderbook_json(engine, t) for t in engine.exchange.books]
    return out


def _fresh(engine: ScenarioEngine) -> list[object]:
    engine.render_cache.clear()
    return _render(engine)


def _apply(engine: ScenarioEngine, op: tuple[object, ...]) -> None:
    kind = op[0]
    tickers = list(engine.exchange.books)
    if kind == "advance":
        engine.advance(float(op[1]))  # type: ignore[arg-type]
    elif kind == "arbitrage":
        try:
            engine.inject_arbitrage(edge=Decimal("0.02"))
        except ValueError:
            pass
    elif kind == "line":
        try:
            engine.inject_line_arbitrage(str(op[1]))
        except ValueError:
            pass
    elif kind == "order":
        _, index, side, cents, count, tif = op
        with engine.lock:
            try:
                engine.exchange.place(tickers[int(index) % len(tickers)], str(side), Decimal(int(cents)) / 100,  # type: ignore[call-overload]
                                      Decimal(int(count)), owner=USER, time_in_force=str(tif))  # type: ignore[call-overload]
            except ExchangeError:
                pass
    elif kind == "cancel":
        with engine.lock:
            for order in [o for o in engine.exchange.orders.values() if o.status == "resting"]:
                try:
                    engine.exchange.cancel(order.order_id)
                except ExchangeError:
                    pass


ops = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([0.5, 3, 10, 61, 600, 3600, 4 * 3600, 86_400])),
    st.tuples(st.just("arbitrage")),
    st.tuples(st.just("line"), st.sampled_from(["spread", "total"])),
    st.tuples(st.just("order"), st.integers(0, 500), st.sampled_from(["bid", "ask"]), st.integers(1, 99),
              st.integers(1, 400), st.sampled_from(["good_till_canceled", "immediate_or_cancel"])),
    st.tuples(st.just("cancel")),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=12))
def test_a_cached_rendering_equals_a_fresh_one_after_any_change(steps: list[tuple[object, ...]]) -> None:
    engine = _engine()
    _render(engine)  # warm every cache before the first change
    for op in steps:
        _apply(engine, op)
        with engine.lock:
            assert _render(engine) == _fresh(engine), f"stale rendering after {op}"


def test_the_comparison_catches_a_key_that_misses_a_lifecycle_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above can fail: with a cache key blind to the lifecycle, settling games goes unseen."""
    monkeypatch.setattr(views, "lifecycle_key", lambda state: ())
    engine = _engine()
    _render(engine)
    engine.advance(3 * 86_400)  # every game closes, is determined and settles
    assert _render(engine) != _fresh(engine)
