from decimal import Decimal

from arb_pipeline.arb.combos import covering_combinations
from arb_pipeline.arb.confirm import Context, confirm_value, describe
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
