"""The books a trader can bet: account books choose the cover, others are labelled PAPER, and the
consensus books are a separate choice. `arb.accounts.not_executable` is the one rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arb_pipeline.arb.accounts import (
    PAPER,
    executable_kinds,
    in_consensus,
    not_executable,
    parse_books,
)
from arb_pipeline.arb.confirm import Context, confirm_value
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.opportunity import QuoteTable, detect
from arb_pipeline.arb.results import Leg, Opportunity
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import ContractSide
from arb_pipeline.domain import Outcome as O

D = Decimal
NO_VALUE = dict(min_value_edge_bps=D(10_000))


def test_parse_books_empty_is_every_book_and_bad_names_are_refused():
    assert parse_books("", "ARB_ACCOUNT_BOOKS") is None
    assert parse_books(" fanduel , draftkings ", "X") == frozenset({"fanduel", "draftkings"})
    with pytest.raises(ValueError, match="ARB_ACCOUNT_BOOKS: empty bookmaker name"):
        parse_books("fanduel,,draftkings", "ARB_ACCOUNT_BOOKS")
    with pytest.raises(ValueError, match="'fanduel:2' is not a bookmaker key"):
        parse_books("fanduel:2", "ARB_CONSENSUS_BOOKS")


def test_limits_refuse_an_empty_book_set():
    with pytest.raises(ValueError, match="account_books"):
        Limits(account_books=frozenset())
    assert in_consensus("x", None) and not in_consensus("x", frozenset({"y"}))


def _leg(venue, market):
    return Leg(venue, market, O.HOME, "Home", "back" if venue == "sportsbook" else "yes", D("2"), D(1), D(0), D(1),
               D(2), (O.HOME,), 1.0)


def test_the_rule_names_every_reason():
    legs = (_leg("kalshi", "KX-A"), _leg("sportsbook", "betfair_ex_eu"), _leg("sportsbook", "fanduel"))
    assert not_executable("arbitrage", legs, kinds=executable_kinds(False), account_books=None) == ()
    assert not_executable("arbitrage", legs, kinds={"arbitrage"}, account_books=frozenset({"fanduel"})) == (
        f"{PAPER}: no account at betfair_ex_eu (ARB_ACCOUNT_BOOKS)",)
    [why] = not_executable("value", legs[:1], kinds=executable_kinds(False), account_books=None)
    assert why.startswith(PAPER) and "ARB_TRADE_VALUE" in why
    assert not_executable("value", legs[:1], kinds=executable_kinds(True), account_books=frozenset({"x"})) == ()


def _arb_game(b):
    """Kalshi YES home at 0.40 (+fee) and two books on away: pinnacle 1.80 covers, fanduel 1.60 does not."""
    return b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 100)])},
                  [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.60"),
                   b.quote("pinnacle", O.HOME, "2.35"), b.quote("pinnacle", O.AWAY, "1.80")])


def test_the_cover_is_taken_at_an_account_book_when_one_prices_it(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 100)])},
                  [b.quote("fanduel", O.AWAY, "1.75"), b.quote("pinnacle", O.AWAY, "1.80")])
    everyone = detect([game], Limits(**NO_VALUE), SizingPolicy(), as_of=b.as_of)
    [best] = everyone.opportunities
    assert best.legs[1].market == "pinnacle" and best.executable and best.not_executable == ()
    mine = detect([game], Limits(**NO_VALUE, account_books=frozenset({"fanduel"})), SizingPolicy(), as_of=b.as_of)
    [opp] = mine.opportunities
    assert opp.legs[1].market == "fanduel" and opp.executable
    assert opp.profit < best.profit  # worse odds, still an arbitrage, and one the trader can place


def test_a_cover_only_other_books_price_is_reported_paper_with_the_account_books_reason(builders):
    b = builders
    result = detect([_arb_game(b)], Limits(**NO_VALUE, account_books=frozenset({"fanduel"})), SizingPolicy(),
                    as_of=b.as_of)
    [opp] = result.opportunities
    assert opp.legs[1].market == "pinnacle" and not opp.executable
    assert opp.not_executable == (f"{PAPER}: no account at pinnacle (ARB_ACCOUNT_BOOKS)",)
    assert opp.reasons[-1].startswith("at your account books: only 0 contracts fillable")  # fanduel 1.60 loses
    as_json = opp.to_dict()
    assert as_json["executable"] is False and as_json["not_executable"] == list(opp.not_executable)
    assert Opportunity.from_dict(as_json).not_executable == opp.not_executable


def test_no_account_book_quoting_the_game_is_paper_too(builders):
    b = builders
    result = detect([_arb_game(b)], Limits(**NO_VALUE, account_books=frozenset({"bet365"})), SizingPolicy(),
                    as_of=b.as_of)
    [opp] = result.opportunities
    assert not opp.executable and "no fresh quote for away at an account book" in opp.reasons[-1]


def test_consensus_books_are_the_only_ones_de_vigged(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.28", 300)], no_bids=[("0.68", 300)])},
                  [b.quote("fanduel", O.HOME, "2.00"), b.quote("fanduel", O.AWAY, "1.90"),
                   b.quote("pinnacle", O.HOME, "2.40"), b.quote("pinnacle", O.AWAY, "1.65"),
                   b.quote("betmgm", O.HOME, "2.10"), b.quote("betmgm", O.AWAY, "1.80")])
    table = QuoteTable.from_games([game])
    bare = b.game(game.kalshi, [])
    all_books = Context(Limits(consensus_min_books=1), SizingPolicy(), b.as_of, True, table)
    sharp = Context(Limits(consensus_min_books=1, consensus_books=frozenset({"pinnacle"})), SizingPolicy(),
                    b.as_of, True, table)
    every = confirm_value(0, bare, O.HOME, ContractSide.YES, all_books)
    only = confirm_value(0, bare, O.HOME, ContractSide.YES, sharp)
    assert only.consensus_books == ("pinnacle",)
    assert set(every.consensus_books) == {"fanduel", "pinnacle", "betmgm"}
    # pinnacle alone: 1/2.40 / (1/2.40 + 1/1.65) = 0.40740...
    assert only.fair_probability == pytest.approx((1 / 2.40) / (1 / 2.40 + 1 / 1.65))
    assert every.fair_probability != only.fair_probability
