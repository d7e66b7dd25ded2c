"""Paper fills on the book after the latency: the simulator's current book over real HTTP, or the next
stored capture - a book that moved between detection and fill gives the moved price or no fill."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.arb.book import OrderBook
from arb_pipeline.connectors.kalshi.client import KalshiClient
from arb_pipeline.domain import ContractSide
from arb_pipeline.execution.paper import PaperExecutor, PaperMarket
from arb_pipeline.services.paper_books import next_capture_book_after, paper_book_after, venue_book_after
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_factory as make_sessions
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import SnapshotRepository
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

D = Decimal
YES = ContractSide.YES
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SIM_PORT = 19150  # issue-9b's port range


@pytest.fixture(scope="module")
def sim():
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    scenario = ScenarioConfig(seed=21, start=START, games_per_league=1, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0)
    with start_simulator(SimConfig(port=SIM_PORT, scenario=scenario, kalshi_tier=None,
                                   odds_calls_per_second=None)) as handle:
        yield handle


def best_yes_ask(levels) -> Decimal:
    return OrderBook.from_levels(levels).best_ask(YES)


def test_the_simulators_book_after_the_latency_gives_the_moved_price_or_no_fill(sim):
    client = KalshiClient(sim.kalshi_base_url)
    slept: list[float] = []
    book_after = venue_book_after(client, 150, sleep=slept.append)

    window = sim.scenario.inject_arbitrage(edge=Decimal("0.03"), lifetime_s=60)
    ticker = str(window["market_ticker"])
    detected = client.get_orderbook(ticker)  # the cheap ask the opportunity was detected on
    cheap = best_yes_ask(detected)
    sim.scenario.advance(61)  # the window closes before the order lands: the ask is back up
    paper = PaperExecutor({ticker: PaperMarket(detected)}, latency_ms=150, book_after=book_after)
    missed = paper.place(ticker=ticker, side=YES, count=D(10), limit_price=cheap, client_order_id="a",
                         submitted_at=START)
    assert best_yes_ask(client.get_orderbook(ticker)) > cheap
    assert (missed.fill_count, missed.fills) == (D(0), ())  # on the detection book it would have filled
    assert PaperExecutor({ticker: PaperMarket(detected)}).place(
        ticker=ticker, side=YES, count=D(10), limit_price=cheap, client_order_id="b",
        submitted_at=START).fill_count == 10
    assert slept == [0.15]  # waited the latency, then read the book

    detected = client.get_orderbook(ticker)  # detected at the normal ask; then a seller undercuts it
    normal = best_yes_ask(detected)
    sim.scenario.inject_arbitrage(event_ticker=str(window["event_ticker"]), outcome=str(window["outcome"]),
                                  edge=Decimal("0.03"), lifetime_s=60)
    moved = best_yes_ask(client.get_orderbook(ticker))
    assert moved < normal
    paper = PaperExecutor({ticker: PaperMarket(detected)}, latency_ms=150, book_after=book_after)
    filled = paper.place(ticker=ticker, side=YES, count=D(10), limit_price=normal, client_order_id="c",
                         submitted_at=START)
    assert filled.fill_count == 10 and {f.price for f in filled.fills} == {moved}


def test_the_next_stored_capture_is_the_book_a_recorded_replay_fills_on(engine, tmp_path):
    sessions = make_sessions(engine)
    stored_at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    with session_scope(sessions) as session:
        first = SnapshotRepository(session).append_directory(SAMPLE_SNAPSHOT_DIR, stored_at=stored_at)
    from arb_pipeline.connectors.snapshot import load_snapshot

    sample = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    source = sample.source
    book_after = next_capture_book_after(sessions, source)
    at = sample.captured_at + timedelta(milliseconds=150)
    assert first and book_after("KXNBAGAME-26NOV24BOSMEM-BOS", at) is None  # nothing later: the detection book

    later_dir = tmp_path / "later"
    shutil.copytree(SAMPLE_SNAPSHOT_DIR, later_dir)
    meta = json.loads((later_dir / "meta.json").read_text())
    meta["captured_at"] = (sample.captured_at + timedelta(seconds=10)).isoformat()
    (later_dir / "meta.json").write_text(json.dumps(meta))
    raw = (later_dir / "kalshi_orderbooks.json").read_text()
    ticker = "KXNBAGAME-26NOV24BOSMEM-BOS"
    assert ticker in raw
    (later_dir / "kalshi_orderbooks.json").write_text(raw.replace(ticker, ticker + "-GONE"))
    with session_scope(sessions) as session:
        SnapshotRepository(session).append_directory(later_dir, stored_at=stored_at)
    gone = book_after(ticker, at)
    assert gone is not None and (gone.yes, gone.no) == ((), ())  # the market left the book: no fill
    paper = PaperExecutor({ticker: PaperMarket(sample.orderbooks[ticker])}, latency_ms=150, book_after=book_after)
    result = paper.place(ticker=ticker, side=YES, count=D(5), limit_price=D("0.99"), client_order_id="x",
                         submitted_at=sample.captured_at)
    assert result.fill_count == 0
    assert PaperExecutor({ticker: PaperMarket(sample.orderbooks[ticker])}).place(
        ticker=ticker, side=YES, count=D(5), limit_price=D("0.99"), client_order_id="y",
        submitted_at=sample.captured_at).fill_count == 5


def test_which_book_follows_the_settings(engine):
    sessions = make_sessions(engine)
    assert paper_book_after(Settings(_env_file=None, ARB_PAPER_FILL_BOOK="detection"), "simulator") is None
    assert paper_book_after(Settings(_env_file=None), "recorded", sessions=sessions) is not None
    assert paper_book_after(Settings(_env_file=None), "simulator", client=object()) is not None
    with pytest.raises(ValueError, match="database of stored captures"):
        paper_book_after(Settings(_env_file=None), "recorded")
    with pytest.raises(ValueError, match="ARB_PAPER_FILL_RATIO|less than or equal"):
        Settings(_env_file=None, ARB_PAPER_FILL_RATIO="1.5")


def test_the_simulator_source_reads_the_book_with_a_client_of_its_own(sim):
    client = KalshiClient(sim.kalshi_base_url)
    ticker = str(sim.scenario.inject_arbitrage(edge=Decimal("0.02"), lifetime_s=60)["market_ticker"])
    settings = Settings(_env_file=None, KALSHI_BASE_URL=sim.kalshi_base_url, ARB_PAPER_LATENCY_MS="40")
    slept: list[float] = []
    # its client is built while the latency runs: here it took 15 ms of the 40, so 25 ms are left to wait
    ticks = iter([100.0, 100.015])
    book_after = paper_book_after(settings, "simulator", sleep=slept.append, clock=lambda: next(ticks))
    assert book_after(ticker, START) == client.get_orderbook(ticker)
    assert slept == [pytest.approx(0.025)]
    # a client that took longer than the latency to build: the book is read at once, never before the latency
    ticks = iter([200.0, 200.05])
    assert book_after(ticker, START) == client.get_orderbook(ticker) and slept == [pytest.approx(0.025)]
