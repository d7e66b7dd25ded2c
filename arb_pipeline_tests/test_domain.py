"""`domain` records: the quote's derived float mirrors are exactly the conversions of its exact fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.domain import SportsbookQuote

ODDS = st.decimals(min_value=Decimal("1.001"), max_value=Decimal("1000"), places=4) | st.sampled_from(
    [Decimal("1.9"), Decimal("1.90"), Decimal("1.900"), Decimal("2")])
TIMES = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))


def quote(odds: Decimal, updated: datetime) -> SportsbookQuote:
    return SportsbookQuote("the_odds_api", "pinnacle", "Pinnacle", "basketball_nba", "NBA", "e1", "Boston Celtics",
                           "New York Knicks", updated, "h2h", "home", "Boston Celtics", odds, updated, updated)


@given(st.lists(st.tuples(ODDS, TIMES), min_size=1, max_size=20))
def test_float_mirrors_equal_the_direct_conversions_whatever_was_converted_before(rows):
    """The mirrors are shared by value (one float per distinct odds / instant), which is all the
    conversions depend on: each equals float(decimal_odds) and last_update.timestamp() exactly."""
    for odds, updated in rows:
        q = quote(odds, updated)
        assert q.odds_f == float(odds) and q.last_update_ts == updated.timestamp()
        assert q.decimal_odds is odds  # the exact value itself is never replaced


def test_equal_odds_share_one_float():
    a, b = quote(Decimal("1.9"), datetime(2026, 11, 24, tzinfo=UTC)), quote(Decimal("1.90"), datetime(2026, 11, 24, tzinfo=UTC))
    assert a.odds_f is b.odds_f and a.last_update_ts is b.last_update_ts
    assert str(a.decimal_odds) == "1.9" and str(b.decimal_odds) == "1.90"


@given(odds=ODDS, updated=TIMES, point=st.none() | st.decimals(-50, 50, places=1),
       american=st.none() | st.integers(-5000, 5000), max_stake=st.none() | st.decimals(0, 1000, places=2))
def test_new_quote_is_the_constructors_quote_slot_for_slot(odds, updated, point, american, max_stake):
    import copy
    import dataclasses
    import pickle

    import pytest

    from arb_pipeline.domain import new_quote, odds_mirror, update_mirror

    fields = ("the_odds_api", "pinnacle", "Pinnacle", "basketball_nba", "NBA", "e1", "Boston Celtics",
              "New York Knicks", updated, "spreads", "home", "Boston Celtics", odds, updated, updated, point,
              american, max_stake)
    built, fast = SportsbookQuote(*fields), new_quote(*fields, odds_mirror(odds), update_mirror(updated))
    assert type(fast) is SportsbookQuote and fast == built and hash(fast) == hash(built)
    assert [getattr(fast, n) for n in SportsbookQuote.__slots__] == [getattr(built, n) for n in SportsbookQuote.__slots__]
    assert fast.odds_f == float(odds) and fast.last_update_ts == updated.timestamp()
    assert pickle.loads(pickle.dumps(fast)) == built and copy.copy(fast) == built
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.decimal_odds = Decimal("3")  # type: ignore[misc]
