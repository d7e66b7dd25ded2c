"""From an opportunity to a settled paper hedge, end to end against the simulator over real HTTP:

injected arbitrage -> scan job (paper Kalshi fill, hedge instruction, game marks) -> `arb-pipeline hedge
placed` -> the simulator's game plays out and its markets settle -> `arb-pipeline reconcile` (results read
from the simulator's GET /markets by the stored tickers) -> both legs settled, two-leg realized P&L to
the cent with CLV -> visible in the `pnl` asset of the reconcile job.
"""

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from sqlalchemy import select

from arb_pipeline.cli import main
from arb_pipeline.defs.runner import build_resources, run_scan_job
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.db import create_app_engine, session_scope
from arb_pipeline.storage.db import session_factory as make_sessions
from arb_pipeline.storage.models import GameMark, HedgeInstruction, Order
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

pytestmark = pytest.mark.slow
D = Decimal


@pytest.fixture
def sim():
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    scenario = ScenarioConfig(seed=21, live_clock=True, games_per_league=2, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0, window_lifetime_s=900.0, tick_s=3600.0)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


@pytest.fixture
def paper(sim, db_url, engine, tmp_path, monkeypatch):
    for name, value in {"ARB_DATA_DIR": str(tmp_path), "ARB_MODE": "paper", "DATABASE_URL": db_url,
                        "ARB_MARKET_SOURCE": "simulator", "KALSHI_API_KEY_ID": sim.key_id,
                        "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode("ascii"),
                        "KALSHI_BASE_URL": sim.kalshi_base_url, "ODDS_API_BASE_URL": sim.odds_base_url,
                        "ODDS_API_KEY": sim.odds_api_key, "ARB_OPPORTUNITY_TTL_S": "60"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield build_resources(database_url=db_url, source="simulator", kalshi_base_url=sim.kalshi_base_url,
                          odds_api_base_url=sim.odds_base_url, mode="paper")
    get_settings.cache_clear()


def test_an_injected_arbitrage_goes_to_a_settled_two_leg_pnl(sim, paper, db_url, capsys):
    state = next(s for s in sim.scenario.states.values() if s.game.code == "NBA" and s.phase == "scheduled")
    game = state.game
    sim.scenario.inject_arbitrage(event_ticker=game.event_ticker, outcome="home", edge=D("0.03"))
    scan = run_scan_job(paper)
    assert scan.success, scan.error
    assert scan.metadata["executed_orders"]["orders_sent"] >= 1
    sessions = make_sessions(create_app_engine(db_url))
    with session_scope(sessions) as s:
        (order,) = s.scalars(select(Order).where(Order.ticker == game.market_ticker("home"))).all()
        (hedge,) = s.scalars(select(HedgeInstruction).where(HedgeInstruction.opportunity_id == order.opportunity_id))
        assert (order.mode, order.status, hedge.status) == ("paper", "filled", "pending")
        assert hedge.game_start == game.commence and hedge.expires_at == game.commence - timedelta(seconds=60)
        marks = {m.outcome: m for m in s.scalars(select(GameMark).where(GameMark.event_ticker == game.event_ticker))}
        assert set(marks) == {"home", "away"} and all(m.fair_probability for m in marks.values())
        contracts, kalshi_cost = order.fill_count, order.fill_notional + order.fees
        hedge_id, stake, quoted, worst = hedge.id, hedge.stake, hedge.odds, hedge.worst_acceptable_odds

    assert main(["hedge", "list", "--status", "pending"]) == 0
    assert f"{hedge_id:>4}  pending" in capsys.readouterr().out
    taken = max(worst, (quoted - D("0.02")).quantize(D("0.0001")))  # the book moved a little: worse odds
    assert main(["hedge", "placed", str(hedge_id), "--odds", str(taken), "--stake", str(stake), "--who", "e2e"]) == 0
    out = capsys.readouterr().out
    assert f"hedge {hedge_id} placed" in out and "locked profit" in out

    # the game plays out: start, end, determination, settlement (the simulator's own lifecycle)
    sim.scenario.advance((game.ends - sim.scenario.now()).total_seconds() + 300 + 600 + 60)
    assert sim.scenario.states[game.event_ticker].phase == "finalized"
    won = sim.scenario.states[game.event_ticker].result
    assert main(["reconcile"]) == 0
    out = capsys.readouterr().out
    assert f"sportsbook bet (hedge {hedge_id}) settled" in out and game.market_ticker("home") in out

    kalshi = (contracts if won == "home" else D(0)) - kalshi_cost
    book = (stake * taken).quantize(D("0.01"), rounding=ROUND_FLOOR) - stake if won == "away" else -stake
    expected = kalshi + book  # pinnacle-style books charge no commission
    with session_scope(sessions) as s:
        from arb_pipeline.services.ledger import pnl_report

        report = pnl_report(s, "paper", sim.scenario.now())  # the venue's clock, after the game
    (arb,) = report["arbitrages"]
    assert arb["status"] == "settled" and D(arb["realized"]) == expected and arb["winner"] == won
    assert D(report["total_realized"]) == expected
    assert arb["clv"]["available"] and arb["clv"]["clv_bps"] is not None

    pnl = run_scan_job(paper, job_name="reconcile_job")
    assert pnl.success, pnl.error
    assert {"reconciliation", "positions", "pnl"} <= set(pnl.materialized)
    assert pnl.metadata["pnl"]["settled"] == 1
    assert pnl.metadata["pnl"]["total_realized"] == (f"${expected.quantize(D('0.01'))}" if expected >= 0
                                                     else f"-${(-expected).quantize(D('0.01'))}")
    assert game.event_ticker in str(pnl.metadata["pnl"]["by_arbitrage"])
    assert not pnl.failed_checks, pnl.failed_checks


def test_results_given_by_hand_are_checked_and_written_one_way():
    from arb_pipeline.services.positions import parse_results

    assert parse_results(["T1=yes", " T2 = VOID", "T3=0.4300"]) == {"T1": "yes", "T2": "void", "T3": "0.43"}
    for bad in ("T1", "=yes", "T1=maybe", "T1=1.2"):
        with pytest.raises(ValueError, match="--result"):
            parse_results([bad])
