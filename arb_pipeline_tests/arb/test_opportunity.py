"""End-to-end detection: known arbitrages, rejections with reasons, and the money properties —
every reported arbitrage is re-verified here from its legs, independently of the code under test."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.opportunity import QuoteTable, detect
from arb_pipeline.arb.quotes import SLOT
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import Outcome as O

D = Decimal
BIG = SizingPolicy(bankroll=D(1_000_000), bankroll_fraction=D("0.5"), max_per_event=D(100_000),
                   max_per_market=D(100_000), max_total_exposure=D(1_000_000), max_sportsbook_stake=D(100_000),
                   max_contracts=D(100_000))
NO_VALUE = Limits(min_value_edge_bps=D(10_000))  # isolate arbitrage in tests that are about it


def book_pays(leg, rates) -> Fraction:
    """What a winning back pays, from its stake and odds alone: gross floored to the cent, minus the
    exchange's commission on the net winnings rounded up to the cent (`rates`: the test's own table)."""
    stake, odds = Fraction(leg.size), Fraction(leg.price)
    gross = Fraction(math.floor(stake * odds * 100), 100)
    cut = Fraction(math.ceil((odds - 1) * stake * Fraction(rates.get(leg.market, 0)) * 100), 100)
    return gross - cut


def verify_arbitrage(opp, game, rates=None):
    """Recompute cost and every outcome's payout from the legs alone; return worst-case profit.
    `rates`: exchange commission per book (None: the books of these tests charge none)."""
    rates = rates or {}
    cost = Fraction(0)
    payout = {o: Fraction(0) for o in game.outcomes}
    for leg in opp.legs:
        if leg.venue == "kalshi":
            contracts = sum(Fraction(c) for _, c in leg.levels)
            assert contracts == leg.size
            units = sum(math.ceil(Fraction(7, 100) * Fraction(c) * Fraction(p) * (1 - Fraction(p)) * 10_000)
                        for p, c in leg.levels)
            fee = Fraction(math.ceil(Fraction(units, 100)), 100)
            assert fee == leg.fee
            cost += sum(Fraction(p) * Fraction(c) for p, c in leg.levels) + fee
            wins = {leg.outcome} if leg.side == "yes" else set(game.outcomes) - {leg.outcome}
            for o in wins:
                payout[o] += contracts
        else:
            assert leg.side == "back" and leg.fee == 0
            cost += Fraction(leg.size)
            payout[leg.outcome] += book_pays(leg, rates)
            assert leg.payout == book_pays(leg, rates)
    assert cost == opp.cost
    worst = min(payout.values()) - cost
    assert worst == opp.profit
    return worst


def test_known_arbitrage_end_to_end(builders):
    b = builders
    game = b.game(
        {O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 500)])},
        [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.80"),
         b.quote("pinnacle", O.HOME, "2.35"), b.quote("pinnacle", O.AWAY, "1.70")],
    )
    result = detect([game], NO_VALUE, BIG, as_of=b.as_of)
    assert not result.rejected
    [opp] = result.opportunities
    assert opp.kind == "arbitrage" and opp.event == game.event_ticker
    kalshi, book = opp.legs
    assert (kalshi.venue, kalshi.market, kalshi.side, kalshi.outcome) == ("kalshi", "KX-HOM", "yes", O.HOME)
    assert (kalshi.price, kalshi.size, kalshi.fee, kalshi.cost) == (D("0.40"), D(500), D("8.40"), D("208.40"))
    assert (book.venue, book.market, book.side, book.outcome) == ("sportsbook", "fanduel", "back", O.AWAY)
    assert (book.price, book.size, book.payout) == (D("1.80"), D("277.78"), D("500.00"))
    assert opp.cost == D("486.18") and opp.profit == D("13.82")
    assert opp.payouts == {O.HOME: D(500), O.AWAY: D("500.00")}
    assert opp.roi == (D("13.82") / D("486.18")).quantize(D("0.000001"))
    assert opp.quote_ages == {"kalshi:KX-HOM:home": 2.0, "sportsbook:fanduel:away": 20.0}
    verify_arbitrage(opp, game)
    as_json = json.loads(json.dumps(opp.to_dict()))
    assert as_json["cost"] == "486.18" and as_json["legs"][1]["size"] == "277.78"


def test_a_per_book_stake_limit_binds_the_cover(builders):
    """ARB_BOOK_STAKE_LIMITS: fanduel takes at most $50 a bet; other books keep the global limit."""
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.38", 300)], no_bids=[("0.60", 500)])},
                  [b.quote("fanduel", O.AWAY, "1.80")])
    [opp] = detect([game], NO_VALUE, replace(BIG, book_stake_limits={"fanduel": D(50)}), as_of=b.as_of).opportunities
    kalshi, book = opp.legs
    assert book.size <= D(50) and kalshi.size == 90  # 90 contracts need $50.00 at 1.80; 91 would need $50.56
    assert "fanduel stake limit 50" in opp.reasons[1]
    [free] = detect([game], NO_VALUE, replace(BIG, book_stake_limits={"pinnacle": D(50)}),
                    as_of=b.as_of).opportunities
    assert free.legs[1].size == D("277.78")


def test_default_sizing_caps_the_outlay(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.60", 500)])},
                  [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.80")])
    [opp] = detect([game], NO_VALUE, SizingPolicy(), as_of=b.as_of).opportunities
    assert opp.cost <= SizingPolicy().max_outlay()
    assert opp.legs[0].size == D(205)  # largest whole size whose cost fits $200
    verify_arbitrage(opp, game)


def test_max_stake_limits_the_book_leg(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.60", 500)])},
                  [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.80", max_stake="50")])
    [opp] = detect([game], NO_VALUE, BIG, as_of=b.as_of).opportunities
    assert opp.legs[1].size <= D(50) and opp.legs[0].size == D(90)
    verify_arbitrage(opp, game)


def test_three_way_soccer_arbitrage(builders):
    b = builders
    outcomes = (O.HOME, O.DRAW, O.AWAY)
    game = b.game(
        {O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.62", 200)]),
         O.DRAW: b.contract("KX-TIE", O.DRAW, no_bids=[("0.76", 200)])},
        [b.quote("bet365", O.HOME, "2.40"), b.quote("bet365", O.DRAW, "3.60"), b.quote("bet365", O.AWAY, "3.30")],
        outcomes=outcomes,
    )
    result = detect([game], NO_VALUE, BIG, as_of=b.as_of)
    kinds = {tuple((leg.side, leg.outcome) for leg in o.legs) for o in result.opportunities}
    assert (("yes", O.HOME), ("yes", O.DRAW), ("back", O.AWAY)) in kinds
    for opp in result.opportunities:
        assert verify_arbitrage(opp, game) > 0


def test_rounding_that_kills_the_arb_is_rejected_with_reason(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.50", 1)])},
                  [b.quote("fanduel", O.HOME, "1.80"), b.quote("fanduel", O.AWAY, "2.10")])
    result = detect([game], NO_VALUE, BIG, as_of=b.as_of)
    assert not result.opportunities
    [rej] = result.rejected
    assert rej.candidate == "yes:home + book:away"
    assert "not > 0" in rej.reasons[0]


def _arb_game(b, **kw):
    contract_kw = {k: kw.pop(k) for k in ("status", "age_s", "fee_type") if k in kw}
    quote_age = kw.pop("quote_age", 20.0)
    return b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.60", 500)], **contract_kw)},
                  [b.quote("fanduel", O.HOME, "2.30", age_s=quote_age),
                   b.quote("fanduel", O.AWAY, kw.pop("away_odds", "1.80"), age_s=quote_age)], **kw)


def test_every_gate_rejects_with_its_reason(builders):
    b = builders
    cases = [
        (_arb_game(b, status="closed"), {}, "status is 'closed'"),
        (_arb_game(b, age_s=45), {}, "Kalshi book KX-HOM quote is stale"),
        (_arb_game(b, quote_age=400), {}, "no fresh sportsbook quote for away (fanduel away quote is stale"),
        (_arb_game(b, start_in_s=120), {}, "too close to or past the start"),
        (_arb_game(b, start_in_s=-1800), {}, "too close to or past the start"),
        (_arb_game(b, tradable=False, blocked=("mapping confidence 0.62",)), {}, "mapping confidence 0.62"),
        (_arb_game(b, fee_type="flat"), {}, "flat"),
        (_arb_game(b, away_odds="2.50"), {}, "too good to be true"),
        (_arb_game(b), {"exchange_trading_active": False}, "trading_active is false"),
        (b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.60", 500)], yes_bids=[("0.45", 500)])},
                [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.80")]), {}, "crossed"),
    ]
    for game, kwargs, reason in cases:
        result = detect([game], NO_VALUE, BIG, as_of=b.as_of, **kwargs)
        assert not result.opportunities, reason
        assert any(reason in r for rej in result.rejected for r in rej.reasons), (reason, result.rejected)


def test_stale_best_price_falls_back_to_fresh_book(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.60", 500)])},
                  [b.quote("stalebook", O.AWAY, "1.95", age_s=600), b.quote("fanduel", O.AWAY, "1.80"),
                   b.quote("fanduel", O.HOME, "2.30")])
    [opp] = detect([game], NO_VALUE, BIG, as_of=b.as_of).opportunities
    assert opp.legs[1].market == "fanduel"


def test_value_bet_against_consensus(builders):
    b = builders
    quotes = [b.quote(bk, o, odds) for bk, lines in {"pinnacle": ("1.60", "2.50"), "fanduel": ("1.58", "2.55"),
                                                     "draftkings": ("1.62", "2.40")}.items()
              for o, odds in zip((O.HOME, O.AWAY), lines, strict=True)]
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.35", 100)], no_bids=[("0.45", 400)])}, quotes)
    result = detect([game], Limits(), SizingPolicy(), as_of=b.as_of)
    [opp] = [o for o in result.opportunities if o.kind == "value"]
    leg = opp.legs[0]
    assert (leg.side, leg.outcome, leg.price) == ("yes", O.HOME, D("0.55"))
    assert 0.60 < opp.fair_probability < 0.62
    all_in = leg.cost / leg.size
    assert opp.edge_bps == ((D(repr(opp.fair_probability)) - all_in) * 10_000).quantize(D("0.01"))
    assert opp.edge_bps >= Limits().min_value_edge_bps
    assert opp.profit == (D(repr(opp.fair_probability)) * leg.size - leg.cost).quantize(D("0.0001"), ROUND_FLOOR)
    assert set(opp.consensus_books) == {"pinnacle", "fanduel", "draftkings"}
    assert opp.cost <= SizingPolicy().max_outlay()


def test_value_needs_enough_books(builders):
    b = builders
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, no_bids=[("0.45", 400)])},
                  [b.quote("pinnacle", O.HOME, "1.60"), b.quote("pinnacle", O.AWAY, "2.50")])
    result = detect([game], Limits(consensus_min_books=1), SizingPolicy(), as_of=b.as_of)
    assert [o.kind for o in result.opportunities if o.kind == "value"] == ["value"]
    short = detect([game], Limits(consensus_min_books=2), SizingPolicy(), as_of=b.as_of)
    assert not [o for o in short.opportunities if o.kind == "value"]


def test_columnar_input_gives_the_same_result(builders):
    b = builders
    games = [_arb_game(b), _arb_game(b, away_odds="1.75")]
    expected = detect(games, NO_VALUE, BIG, as_of=b.as_of)
    rows = [(gi, q) for gi, g in enumerate(games) for q in g.quotes]
    books = tuple(sorted({q.bookmaker for _, q in rows}))
    table = QuoteTable.from_columns(
        game=[gi for gi, _ in reversed(rows)], outcome=[SLOT[q.outcome] for _, q in reversed(rows)],
        book=[books.index(q.bookmaker) for _, q in reversed(rows)],
        odds=[float(q.decimal_odds) for _, q in reversed(rows)],
        updated=[q.last_update.timestamp() for _, q in reversed(rows)], bookmakers=books,
        exact_odds=[str(q.decimal_odds) for _, q in reversed(rows)], n_games=len(games))
    bare = [b.game(dict(g.kalshi), []) for g in games]
    got = detect(bare, NO_VALUE, BIG, as_of=b.as_of, quotes=table)
    assert [o.to_dict() for o in got.opportunities] == [o.to_dict() for o in expected.opportunities]
    assert len(got.opportunities) == 2


# ---- properties over random markets -------------------------------------------------------------

def bid_ladder(lo: int, hi: int):
    prices = st.integers(lo, hi).map(lambda c: D(c) / 100)
    return st.lists(st.tuples(prices, st.integers(1, 300)), max_size=4, unique_by=lambda t: t[0])


@st.composite
def uncrossed_bids(draw):
    """YES and NO bids that never cross (best YES bid + best NO bid < $1), like a live book."""
    mid = draw(st.integers(2, 98))
    return draw(bid_ladder(1, mid - 1)), draw(bid_ladder(1, 99 - mid))
book_odds = st.integers(105, 600).map(lambda c: D(c) / 100)


@st.composite
def random_game(draw, b):
    outcomes = draw(st.sampled_from([(O.HOME, O.AWAY), (O.HOME, O.DRAW, O.AWAY)]))
    kalshi = {}
    for o in outcomes:
        if draw(st.booleans()) or not kalshi:
            yes_bids, no_bids = draw(uncrossed_bids())
            kalshi[o] = b.contract(f"KX-{o.value.upper()}", o, yes_bids=yes_bids, no_bids=no_bids)
    quotes = [b.quote(f"book{i}", o, str(draw(book_odds)), age_s=draw(st.sampled_from([5.0, 100.0, 500.0])))
              for i in range(draw(st.integers(1, 3))) for o in outcomes]
    return b.game(kalshi, quotes, outcomes=outcomes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_reported_arbitrage_profits_in_every_outcome(builders, data):
    game = data.draw(random_game(builders))
    result = detect([game], NO_VALUE, BIG, as_of=builders.as_of)
    for opp in result.opportunities:
        assert opp.kind == "arbitrage"
        assert verify_arbitrage(opp, game) > 0
        assert all(age <= 180 for age in opp.quote_ages.values())


EXCHANGES = ("betfair_ex_eu", "matchbook", "smarkets")


@st.composite
def exchange_game(draw, b):
    """Like `random_game`, with exchanges among the books: their commission is drawn per example."""
    outcomes = draw(st.sampled_from([(O.HOME, O.AWAY), (O.HOME, O.DRAW, O.AWAY)]))
    kalshi = {}
    for o in outcomes:
        if draw(st.booleans()) or not kalshi:
            yes_bids, no_bids = draw(uncrossed_bids())
            kalshi[o] = b.contract(f"KX-{o.value.upper()}", o, yes_bids=yes_bids, no_bids=no_bids)
    books = draw(st.lists(st.sampled_from(("fanduel", *EXCHANGES)), min_size=1, max_size=3, unique=True))
    quotes = [b.quote(bk, o, str(draw(book_odds)), age_s=draw(st.sampled_from([5.0, 100.0])))
              for bk in books for o in outcomes]
    rates = {ex: D(draw(st.integers(0, 1000))) / 10_000 for ex in EXCHANGES}  # 0 % .. 10 %
    limits = {bk: D(draw(st.integers(1, 50_000))) / 100 for bk in books if draw(st.booleans())}
    return b.game(kalshi, quotes, outcomes=outcomes), rates, limits


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_reported_arbitrage_pays_its_profit_net_of_fees_and_commission(builders, data):
    """Brute force over every outcome, to the cent, with Fractions: each reported cover pays at least its
    stated profit net of Kalshi fees and exchange commission (and exactly it in the worst outcome), and
    no stake exceeds its book's limit."""
    game, rates, limits = data.draw(exchange_game(builders))
    sizing = replace(BIG, book_commission=rates, book_stake_limits=limits)
    result = detect([game], NO_VALUE, sizing, as_of=builders.as_of)
    for opp in result.opportunities:
        assert verify_arbitrage(opp, game, rates) == opp.profit > 0
        event("an arbitrage with a commissioned exchange leg" if any(leg.commission > 0 for leg in opp.legs)
              else "an arbitrage without commission")
        for leg in opp.legs:
            if leg.venue == "sportsbook":
                assert leg.size <= limits.get(leg.market, BIG.max_sportsbook_stake)
                assert leg.commission == (
                    Fraction(math.floor(Fraction(leg.size) * Fraction(leg.price) * 100), 100)
                    - book_pays(leg, rates))


@st.composite
def fair_market(draw, b):
    """Prices no better than a common fair distribution: every cover costs ≥ $1 before fees."""
    outcomes = draw(st.sampled_from([(O.HOME, O.AWAY), (O.HOME, O.DRAW, O.AWAY)]))
    weights = [draw(st.integers(5, 90)) for _ in outcomes]
    fair = [Fraction(w, sum(weights)) for w in weights]
    kalshi, quotes = {}, []
    for o, p in zip(outcomes, fair, strict=True):
        yes_ask = math.ceil(p * 100) + draw(st.integers(0, 3))
        no_ask = math.ceil((1 - p) * 100) + draw(st.integers(0, 3))
        if 1 <= yes_ask <= 99 and 1 <= no_ask <= 99:
            kalshi[o] = b.contract(f"KX-{o.value.upper()}", o, no_bids=[(D(100 - yes_ask) / 100, 500)],
                                   yes_bids=[(D(100 - no_ask) / 100, 500)])
        for i in range(3):
            odds = D(math.floor(100 / p)) / 100 - D(draw(st.integers(0, 10))) / 100
            quotes.append(b.quote(f"book{i}", o, str(max(odds, D("1.01")))))
    if not kalshi:
        kalshi[outcomes[0]] = b.contract("KX-X", outcomes[0], no_bids=[("0.01", 5)])
    return b.game(kalshi, quotes, outcomes=outcomes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_arbitrage_market_never_reports_one(builders, data):
    game = data.draw(fair_market(builders))
    result = detect([game], Limits(), BIG, as_of=builders.as_of)
    assert not [o for o in result.opportunities if o.kind == "arbitrage"]


def test_as_of_must_be_aware(builders):
    import pytest
    with pytest.raises(ValueError, match="timezone-aware"):
        detect([], Limits(), SizingPolicy(), as_of=builders.as_of.replace(tzinfo=None))
    with pytest.raises(ValueError, match="both"):
        game = _arb_game(builders)
        detect([game], Limits(), SizingPolicy(), as_of=builders.as_of, quotes=QuoteTable.from_games([game]))
    assert timedelta(0) == timedelta(0)


def test_empty_inputs(builders):
    result = detect([], Limits(), SizingPolicy(), as_of=builders.as_of)
    assert result.opportunities == () and result.rejected == () and result.stats["games"] == 0
    lonely = builders.game({O.HOME: builders.contract("KX-H", O.HOME, no_bids=[("0.60", 5)])}, [])
    assert detect([lonely], Limits(), SizingPolicy(), as_of=builders.as_of).opportunities == ()


def test_off_grid_book_price_is_rejected(builders):
    from arb_pipeline.arb.market import KalshiContract
    from arb_pipeline.domain import PriceRange

    b = builders
    base = b.contract("KX-HOM", O.HOME, no_bids=[("0.605", 500)])
    coarse = KalshiContract(base.ticker, O.HOME, "home", base.book, base.fees,
                            (PriceRange(D("0"), D("1"), D("0.01")),), "active", base.quote_time)
    game = b.game({O.HOME: coarse}, [b.quote("fanduel", O.HOME, "2.30"), b.quote("fanduel", O.AWAY, "1.80")])
    result = detect([game], NO_VALUE, BIG, as_of=b.as_of)
    assert not result.opportunities
    assert any("off the tick grid" in r for rej in result.rejected for r in rej.reasons)


def test_value_on_the_no_side(builders):
    b = builders
    quotes = [b.quote(bk, o, odds) for bk, lines in {"pinnacle": ("1.60", "2.50"), "fanduel": ("1.58", "2.55"),
                                                     "draftkings": ("1.62", "2.40")}.items()
              for o, odds in zip((O.HOME, O.AWAY), lines, strict=True)]
    game = b.game({O.HOME: b.contract("KX-HOM", O.HOME, yes_bids=[("0.65", 300)], no_bids=[("0.30", 300)])}, quotes)
    result = detect([game], Limits(), SizingPolicy(), as_of=b.as_of)
    [opp] = [o for o in result.opportunities if o.kind == "value"]
    leg = opp.legs[0]
    assert (leg.side, leg.outcome, leg.price, leg.pays_in) == ("no", O.HOME, D("0.35"), (O.AWAY,))
    assert 0.38 < opp.fair_probability < 0.40  # fair NO = 1 − fair home
    assert opp.edge_bps >= Limits().min_value_edge_bps
