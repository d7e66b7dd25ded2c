import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.live import LiveExecutor, LiveModeNotEnabled, require_live
from arb_pipeline.execution.venue import FillsNotVisible
from arb_pipeline.settings import Settings
from arb_pipeline_tests.execution.factories import T0, TICKER, FakeKalshi

D = Decimal
PEM = "-----BEGIN PRIVATE KEY-----secret-material-----END PRIVATE KEY-----"
LIVE = Settings(_env_file=None, ARB_MODE="live", KALSHI_API_KEY_ID="key-id-123", KALSHI_PRIVATE_KEY_PEM=PEM)


@pytest.mark.parametrize(("settings", "message"), [
    (Settings(_env_file=None), "ARB_MODE=live"),
    (Settings(_env_file=None, ARB_MODE="live"), "KALSHI_API_KEY_ID"),
    (Settings(_env_file=None, ARB_MODE="live", KALSHI_API_KEY_ID="k"), "KALSHI_PRIVATE_KEY_PATH"),
])
def test_live_needs_the_setting_and_credentials(settings, message):
    with pytest.raises(LiveModeNotEnabled, match=message):
        require_live(settings)
    with pytest.raises(LiveModeNotEnabled):
        LiveExecutor(FakeKalshi(), settings)


def test_live_start_is_loud_and_leaks_no_secret(caplog):
    caplog.set_level(logging.DEBUG)
    alerts = []
    executor = LiveExecutor(FakeKalshi(), LIVE, alert=lambda *a: alerts.append(a))
    banners = [r for r in caplog.records if "LIVE TRADING" in r.getMessage()]
    assert len(banners) == 3 and all(r.levelno == logging.WARNING for r in banners)
    assert alerts and alerts[0][1] == "live trading enabled"
    text = caplog.text + repr(alerts) + repr(executor)
    assert PEM not in text and "secret-material" not in text


def test_places_ioc_with_the_deterministic_id_and_reads_fills():
    venue = FakeKalshi()
    result = LiveExecutor(venue, LIVE).place(ticker=TICKER, side=ContractSide.NO, count=D(10), limit_price=D("0.40"),
                                             client_order_id="coid", submitted_at=T0)
    assert venue.requests["coid"] == (TICKER, "ask", D("0.60"))
    assert (result.fill_count, result.notional, result.fees) == (D(10), D("4.00"), D("0.20"))


def test_fills_not_visible_raises_for_reconciliation():
    class Lagging(FakeKalshi):
        def get_fills(self, **filters):
            return []

    sleeps = []
    executor = LiveExecutor(Lagging(), LIVE, sleep=sleeps.append, fill_attempts=3)
    with pytest.raises(FillsNotVisible, match="reconcile"):
        executor.place(ticker=TICKER, side=ContractSide.YES, count=D(5), limit_price=D("0.45"), client_order_id="c",
                       submitted_at=T0)
    assert sleeps == [0.5, 1.0]


def test_nothing_filled_needs_no_fill_lookup():
    venue = FakeKalshi(fill_ratio=D(0))
    result = LiveExecutor(venue, LIVE).place(ticker=TICKER, side=ContractSide.YES, count=D(5), limit_price=D("0.45"),
                                             client_order_id="c", submitted_at=T0 + timedelta(seconds=1))
    assert (result.fill_count, result.remaining_count, result.fills) == (D(0), D(0), ())  # IOC: rest cancelled


def test_an_unwind_is_a_reduce_only_sale_on_the_simulated_venue():
    """Over HTTP through the real client: buy 5 YES, then sell them back the way Kalshi expresses a sale
    (kalshi-api.md §6.1: an ask - buying NO at 1 - p - with reduce_only); a second sale finds nothing to
    reduce and never flips the position. The book and balance checks read the venue too."""
    from arb_pipeline.connectors.kalshi import KalshiClient, KalshiSigner, RateLimiter
    from arb_pipeline.sim.server import SimConfig, start_simulator

    with start_simulator(SimConfig(kalshi_tier=None)) as sim:
        signer = KalshiSigner.from_pem(sim.key_id, sim.private_key_pem)
        with KalshiClient(sim.kalshi_base_url, signer=signer, rate_limiter=RateLimiter("prestige")) as client:
            live = LiveExecutor(client, Settings(_env_file=None, ARB_MODE="live", KALSHI_API_KEY_ID=sim.key_id,
                                                 KALSHI_PRIVATE_KEY_PEM=sim.private_key_pem.decode()),
                                sleep=lambda _s: None)
            ticker = sim.scenario.games[0].market_ticker("home")
            assert live.depth_within(ticker=ticker, side=ContractSide.YES, limit_price=D("0.99")) > 5
            assert live.available_balance() > 0
            bought = live.place(ticker=ticker, side=ContractSide.YES, count=D(5), limit_price=D("0.99"),
                                client_order_id="buy-1", submitted_at=T0)
            assert bought.fill_count == 5
            sold = live.place(ticker=ticker, side=ContractSide.NO, count=D(5), limit_price=D("0.99"),
                              client_order_id="unwind-1", submitted_at=T0, reduce_only=True)
            assert sold.fill_count == 5 and all(f.venue_fill_id for f in sold.fills)
            again = live.place(ticker=ticker, side=ContractSide.NO, count=D(5), limit_price=D("0.99"),
                               client_order_id="unwind-2", submitted_at=T0, reduce_only=True)
            assert again.fill_count == 0
            held = {p.ticker: p.position for p in client.get_positions().market_positions}
            assert held.get(ticker, D(0)) == 0
