from decimal import Decimal

from arb_pipeline.arb.combos import covering_combinations
from arb_pipeline.arb.confirm import Context, confirm_value, describe, fresh_rows
from arb_pipeline.arb.constraints import Limits
from arb_pipeline.arb.quotes import QuoteTable
from arb_pipeline.arb.results import Rejection
from arb_pipeline.arb.sizing import SizingPolicy
from arb_pipeline.domain import ContractSide
from arb_pipeline.domain import Outcome as O

D = Decimal


def test_describe():
    combo = covering_combinations((O.HOME, O.AWAY))[0]
    assert describe(combo) == " + ".join(f"{i.kind}:{i.outcome.value}" for i in combo)


def test_value_rejected_when_depth_has_no_edge(builders):
    b = builders
    quotes = [b.quote("pin", O.HOME, "1.60"), b.quote("pin", O.AWAY, "2.30")]
    g = b.game({O.HOME: b.contract("KX-H", O.HOME, no_bids=[("0.42", 100)])}, quotes)
    ctx = Context(Limits(consensus_min_books=1), SizingPolicy(), b.as_of, True, QuoteTable.from_games([g]))
    result = confirm_value(0, g, O.HOME, ContractSide.YES, ctx)
    assert isinstance(result, Rejection) and "contracts fillable with the edge" in result.reasons[0]


def test_fresh_rows_keep_the_newest_fresh_quote_per_book_and_outcome(builders):
    """A quote is fresh from 0 s to the maximum age inclusive; the newest fresh row of a (book, outcome) wins
    (the first of equal times); stale and future quotes are listed per outcome with check_age's reason."""
    b = builders
    limits = Limits(max_sportsbook_age_s=60.0)
    now = b.as_of.timestamp()
    ages = [10.0, 60.0, 5.0, 5.0, 60.5, -2.0, 30.0]  # rows of game 1; game 0 has one row
    table = QuoteTable.from_columns(game=[0] + [1] * 7, outcome=[0, 0, 0, 0, 0, 1, 1, 1],
                                    book=[0, 0, 1, 1, 1, 0, 0, 1], odds=[2.0] * 8,
                                    updated=[now] + [now - a for a in ages], bookmakers=("fd", "dk"),
                                    exact_odds=["2.0"] * 8, n_games=2)
    latest, stale = fresh_rows(1, Context(limits, SizingPolicy(), b.as_of, True, table))
    assert latest == {(0, 0): 1, (1, 0): 3, (1, 1): 7}
    assert stale == {1: ["fd away quote is stale (60.5 s old > 60 s)",
                         "fd away quote is from the future (2.0 s ahead of as_of): clock skew"]}
