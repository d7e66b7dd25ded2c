from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arb_pipeline.arb.constraints import (
    Limits,
    check_age,
    check_arb_result,
    check_exchange,
    check_max_edge,
    check_min_contracts,
    check_pregame,
    check_status,
    check_value_edge,
)

NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)


def test_defaults_are_practitioner_values():
    lim = Limits()
    assert lim.min_arb_profit == 0 and lim.max_edge_bps == 1500
    assert lim.max_kalshi_age_s == 30 and lim.max_sportsbook_age_s == 180 and lim.pregame_buffer_s == 300
    assert lim.book_weights["pinnacle"] > 1


def test_each_check_returns_a_reason_only_on_failure():
    lim = Limits()
    assert check_status("KX-A", "active") is None
    assert "closed" in check_status("KX-A", "closed")
    assert check_exchange(True) is None and "trading_active" in check_exchange(False)
    assert check_pregame(NOW + timedelta(seconds=301), NOW, lim) is None
    assert "too close" in check_pregame(NOW + timedelta(seconds=299), NOW, lim)
    assert "too close" in check_pregame(NOW - timedelta(hours=1), NOW, lim)  # live game
    assert check_age("x", 179.0, 180.0) is None
    assert "stale" in check_age("x", 181.0, 180.0)
    assert "future" in check_age("x", -5.0, 180.0)
    assert check_max_edge(Decimal(1500), lim) is None
    assert "too good to be true" in check_max_edge(Decimal(1501), lim)
    assert check_min_contracts(Decimal(1), lim) is None and "only 0" in check_min_contracts(Decimal(0), lim)
    assert check_arb_result(Decimal("0.01"), Decimal(1), lim) is None
    assert "not > 0" in check_arb_result(Decimal("0"), Decimal(0), lim)
    assert "below min" in check_value_edge(Decimal(150), lim)
    assert check_value_edge(Decimal(200), lim) is None


def test_invalid_limits():
    with pytest.raises(ValueError, match="de-vig method"):
        Limits(devig_method="bogus")
    with pytest.raises(ValueError, match="ages"):
        Limits(max_kalshi_age_s=0)
    with pytest.raises(ValueError, match="screen_tolerance"):
        Limits(screen_tolerance=0.1)
