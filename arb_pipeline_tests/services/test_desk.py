"""The desk's views, straight from the services (the API and the CLI show exactly these)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.services import desk
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import (
    HedgeRepository,
    OrderIntent,
    OrderRepository,
    PositionRepository,
)
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
D = Decimal


def filled_order(session, coid, opp, ticker, count, price, fee, purpose="entry"):
    orders = OrderRepository(session)
    row, _ = orders.record_intent(OrderIntent(coid, opp, 0, "paper", ticker, "bid", D(count), D(price),
                                              purpose=purpose), at=T0)
    orders.claim_for_send(coid, T0)
    filled = orders.mark_filled(coid, fill_count=D(count), average_fill_price=D(price), fees=D(fee),
                                fill_notional=D(count) * D(price), at=T0)
    orders.add_fill(filled, count=D(count), price=D(price), fee=D(fee), filled_at=T0)
    PositionRepository(session).apply_fill(mode="paper", ticker=ticker, outcome_side="yes", count=D(count),
                                           price=D(price), fee=D(fee), at=T0)


def test_positions_group_by_game_and_unhedged_exposure_is_exact(session_factory):
    with session_scope(session_factory) as session:
        filled_order(session, "c1", "o1", "KXNBAGAME-26NOV24BOSMEM-BOS", 150, "0.24", "1.92")
        filled_order(session, "c2", "o2", "KXNBAGAME-26NOV24BOSMEM-MEM", 10, "0.77", "0.13")
        filled_order(session, "c3", "o3", "KXEPLGAME-26NOV25BURTOT-TOT", 100, "0.27", "1.38")
        HedgeRepository(session).record(client_order_id="c1", opportunity_id="o1", leg_index=1,
                                        bookmaker="betfair_ex_eu", event="BOS @ MEM", selection="Memphis",
                                        odds=D("1.378"), stake=D("108.86"), worst_acceptable_odds=D("1.35"), at=T0)
    with session_scope(session_factory) as session:
        games = desk.positions_by_game(session, "paper")
        assert [(g["event"], g["cost"]) for g in games] == [("KXNBAGAME-26NOV24BOSMEM", "45.75"),
                                                            ("KXEPLGAME-26NOV25BURTOT", "28.38")]
        assert [p["ticker"] for p in games[0]["positions"]] == ["KXNBAGAME-26NOV24BOSMEM-BOS",
                                                                "KXNBAGAME-26NOV24BOSMEM-MEM"]
        assert desk.unhedged_exposure(session, "paper") == D("37.92")  # only o1 has a hedge to place
        filled_order(session, "c1-unwind", "o1", "KXNBAGAME-26NOV24BOSMEM-BOS", 10, "0.24", "0.13",
                     purpose="unwind")
        assert desk.unhedged_exposure(session, "paper") == D("37.92")  # selling back is not at risk
        assert desk.unhedged_exposure(session, "live") == 0
        (hedge,) = desk.hedges(session)
        assert (hedge["status"], hedge["stake"], hedge["odds"]) == ("pending", "108.86", "1.378")


def test_orders_filters_and_an_unknown_scope(session_factory):
    with session_scope(session_factory) as session:
        filled_order(session, "c1", "o1", "KXNBAGAME-26NOV24BOSMEM-BOS", 5, "0.5", "0.09")
    with session_scope(session_factory) as session:
        assert [o["status"] for o in desk.orders(session, statuses=["filled"])] == ["filled"]
        assert desk.orders(session, mode="live") == [] and desk.orders(session, since=T0.replace(hour=18)) == []
        assert desk.fills(session)[0]["price"] == "0.5"
        with pytest.raises(ValueError, match="scope must be one of"):
            desk.opportunities(session, now=T0, scope="everything")
        assert desk.opportunities(session, now=T0) == {"scope": "latest", "scan": None, "opportunities": []}


def test_event_of_ticker():
    assert desk.event_of_ticker("KXNBAGAME-26NOV24BOSMEM-BOS") == "KXNBAGAME-26NOV24BOSMEM"
    assert desk.event_of_ticker("PLAIN") == "PLAIN"
