import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import PositionRepository

D = Decimal
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_yes_then_no_nets_and_realizes_the_pair(session_factory):
    with session_scope(session_factory) as s:
        repo = PositionRepository(s)
        repo.apply_fill(mode="paper", ticker="T", outcome_side="yes", count=D(10), price=D("0.50"), fee=D("0.10"), at=T0)
        pos = repo.apply_fill(mode="paper", ticker="T", outcome_side="no", count=D(4), price=D("0.45"), fee=D("0.05"),
                              at=T0)
        # closing 4 pairs: released 5.10 * 4/10 = 2.04, incoming 1.85; realized 4 - 2.04 - 1.85 = 0.11
        assert (pos.count, pos.cost, pos.realized_pnl, pos.fees_paid) == (D(6), D("3.06"), D("0.11"), D("0.15"))
        assert repo.realized_between("paper", T0, T0 + timedelta(seconds=1)) == D("0.11")


def test_settlement_pays_the_winning_side_only(session_factory):
    with session_scope(session_factory) as s:
        repo = PositionRepository(s)
        repo.apply_fill(mode="paper", ticker="W", outcome_side="no", count=D(10), price=D("0.40"), fee=D("0.17"), at=T0)
        repo.apply_fill(mode="paper", ticker="L", outcome_side="yes", count=D(5), price=D("0.30"), fee=D("0.08"), at=T0)
        assert repo.open_exposure("paper") == D("5.75")
        assert repo.settle(mode="paper", ticker="W", result="no", at=T0) == D("5.83")
        assert repo.settle(mode="paper", ticker="L", result="no", at=T0) == D("-1.58")
        assert repo.settle(mode="paper", ticker="L", result="no", at=T0) == 0  # once
        assert repo.realized_between("paper", T0, T0 + timedelta(days=1)) == D("4.25")
        assert repo.realized_between("live", T0, T0 + timedelta(days=1)) == 0
        with pytest.raises(ValueError, match="settled"):
            repo.apply_fill(mode="paper", ticker="W", outcome_side="no", count=D(1), price=D("0.4"), fee=D(0), at=T0)


fills = st.lists(st.tuples(st.sampled_from(["yes", "no"]), st.integers(1, 5000), st.integers(1, 99),
                           st.integers(0, 300)), min_size=1, max_size=12)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fills=fills, result=st.sampled_from(["yes", "no"]))
def test_every_cent_is_accounted_for(session_factory, fills, result):
    """Whatever the fills, total realized P&L after settlement = payout received - everything paid."""
    ticker = f"H-{uuid.uuid4().hex}"  # examples may repeat: each gets its own market
    with session_scope(session_factory) as s:
        repo = PositionRepository(s)
        paid = D(0)
        for side, hundredths, cents, fee in fills:
            count, price, fee_d = D(hundredths) / 100, D(cents) / 100, D(fee) / 100
            paid += count * price + fee_d
            repo.apply_fill(mode="paper", ticker=ticker, outcome_side=side, count=count, price=price, fee=fee_d, at=T0)
        yes = sum(D(h) / 100 for side, h, _, _ in fills if side == "yes")
        no = sum(D(h) / 100 for side, h, _, _ in fills if side == "no")
        received = min(yes, no) + (max(yes - no, D(0)) if result == "yes" else max(no - yes, D(0)))
        repo.settle(mode="paper", ticker=ticker, result=result, at=T0)
        assert repo.get("paper", ticker).realized_pnl == received - paid


@pytest.mark.parametrize("kw", [{"outcome_side": "maybe"}, {"count": D(0)}, {"price": D(1)}, {"fee": D(-1)}])
def test_bad_fills_are_refused(session_factory, kw):
    args = dict(mode="paper", ticker="T", outcome_side="yes", count=D(1), price=D("0.5"), fee=D(0), at=T0)
    args.update(kw)
    with session_scope(session_factory) as s, pytest.raises(ValueError):
        PositionRepository(s).apply_fill(**args)


def test_a_scalar_settlement_pays_its_value_and_a_venue_payout_overrides_the_rule(session_factory):
    with session_scope(session_factory) as s:
        repo = PositionRepository(s)
        repo.apply_fill(mode="paper", ticker="S", outcome_side="yes", count=D(10), price=D("0.40"), fee=D("0.17"), at=T0)
        repo.apply_fill(mode="paper", ticker="N", outcome_side="no", count=D(3), price=D("0.50"), fee=D("0.02"), at=T0)
        repo.apply_fill(mode="live", ticker="S", outcome_side="yes", count=D(10), price=D("0.40"), fee=D("0.17"), at=T0)
        assert repo.settle(mode="paper", ticker="S", result="0.4333", at=T0) == D("0.16")  # 4.33 - 4.17
        assert repo.settle(mode="paper", ticker="N", result="void", at=T0) == 0  # cost refunded
        assert repo.settle(mode="live", ticker="S", result="0.4333", at=T0, payout=D("4.34")) == D("0.17")
        details = [(r.ticker, r.detail["result"], D(r.detail["payout"])) for r in repo.realized_rows("paper")]
        assert details == [("S", "0.4333", D("4.33")), ("N", "void", D("1.52"))]
        with pytest.raises(ValueError, match="X: result"):
            repo.settle(mode="paper", ticker="X", result="scalar", at=T0)
