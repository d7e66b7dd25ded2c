"""Domain/service results -> frames: every converter's output satisfies its stage model, money stays
exact (Decimal, never float) with float mirrors for display only, and ids match execution's."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.execution.plan import plan_opportunity
from arb_pipeline.schemas import (
    ExecutedOrdersFrame,
    ImpliedProbabilitiesFrame,
    KalshiMarketsFrame,
    OpportunitiesFrame,
    ResolvedEventsFrame,
    SportsbookOddsFrame,
)
from arb_pipeline.services import frame_columns, frames
from arb_pipeline.services.execute import OrderOutcome
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.settings import Settings


@pytest.fixture(scope="module")
def result():
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    return scan(snapshot, ScanConfig.from_settings(Settings()), as_of=snapshot.captured_at)


def test_kalshi_markets(result):
    frame = frames.kalshi_markets_frame(result.snapshot, snapshot_id=5)
    KalshiMarketsFrame.validate(frame, lazy=True)
    assert len(frame) == len(result.snapshot.markets)
    assert set(frame["snapshot_id"]) == {5}
    market = result.snapshot.markets[0]
    row = frame.set_index("ticker").loc[market.ticker]
    assert row["yes_ask"] == market.yes_ask and isinstance(row["yes_ask"], Decimal)
    assert row["yes_ask_f"] == float(market.yes_ask)
    book = result.snapshot.orderbooks[market.ticker]
    assert row["yes_depth"] == sum((count for _, count in book.yes), Decimal(0))


def test_sportsbook_odds_keep_exact_odds(result):
    frame = frames.sportsbook_odds_frame(result.snapshot)
    SportsbookOddsFrame.validate(frame, lazy=True)
    assert len(frame) == len(result.snapshot.quotes)
    assert all(isinstance(v, Decimal) for v in frame["decimal_odds"])
    assert list(frame["decimal_odds"]) == [q.decimal_odds for q in result.snapshot.quotes]
    first = result.snapshot.quotes[0]
    assert frame.loc[0, "quote_age_s"] == (result.snapshot.captured_at - first.last_update).total_seconds()


def test_sportsbook_odds_built_by_column_equal_the_row_by_row_frame(result):
    """The column-wise build is the frame a dict per quote gave, value for value and dtype for dtype."""
    snapshot = result.snapshot
    rows = [{
        "captured_at": snapshot.captured_at, "snapshot_id": 3, "provider": q.provider, "bookmaker": q.bookmaker,
        "sport_key": q.sport_key, "league": q.league, "event_id": q.event_id, "home_team": q.home_team,
        "away_team": q.away_team, "commence_time": q.commence_time, "market": q.market, "outcome": q.outcome,
        "outcome_name": q.outcome_name, "point": q.point, "decimal_odds": q.decimal_odds,
        "decimal_odds_f": float(q.decimal_odds), "implied_prob_f": 1.0 / float(q.decimal_odds),
        "last_update": q.last_update, "fetched_at": q.fetched_at,
        "quote_age_s": (snapshot.captured_at - q.last_update).total_seconds(),
    } for q in snapshot.quotes]
    expected = pd.DataFrame(rows)
    for column in ("captured_at", "commence_time", "last_update", "fetched_at"):
        expected[column] = pd.to_datetime(expected[column], utc=True).astype("datetime64[ns, UTC]")
    assert {q.market for q in snapshot.quotes} > {"h2h"}  # points (spreads/totals) are in the comparison
    pd.testing.assert_frame_equal(frames.sportsbook_odds_frame(snapshot, 3), expected, check_exact=True)


def test_resolved_events_cover_every_market(result):
    frame = frames.resolved_events_frame(result.snapshot, result.resolution)
    ResolvedEventsFrame.validate(frame, lazy=True)
    assert list(frame["ticker"]) == [m.ticker for m in result.snapshot.markets]
    assert int(frame["resolved"].sum()) == len(result.resolution.rows)


def test_resolved_events_explain_what_is_unresolved(result):
    from arb_pipeline.mapping.results import Resolution, Unresolved, UnresolvedKind

    market = result.snapshot.markets[0]
    partial = Resolution(rows=tuple(r for r in result.resolution.rows if r.kalshi_market != market.ticker),
                         unresolved=(Unresolved(UnresolvedKind.KALSHI_MARKET, market.ticker, "no team code"),))
    frame = frames.resolved_events_frame(result.snapshot, partial).set_index("ticker")
    assert not frame.loc[market.ticker, "resolved"] and frame.loc[market.ticker, "reason"] == "no team code"
    ResolvedEventsFrame.validate(frame.reset_index(), lazy=True)


def test_implied_probabilities(result):
    frame = frames.implied_probabilities_frame(result.snapshot, result.fair, "multiplicative")
    ImpliedProbabilitiesFrame.validate(frame, lazy=True)
    assert len(frame) == len(result.fair)
    line = result.fair[0]
    row = frame.set_index("ticker").loc[line.kalshi_market]
    assert row["kalshi_yes_ask"] == line.yes_ask and row["n_books"] == len(line.books_used)
    assert row["overround_max"] == pytest.approx(line.booksum_max - 1)


def test_opportunities_keep_the_record_and_executions_id(result):
    opportunities = result.detection.opportunities
    assert opportunities, "the sample snapshot has injected opportunities"
    frame = frames.opportunities_frame(opportunities, result.as_of, snapshot_id=3)
    OpportunitiesFrame.validate(frame, lazy=True)
    assert frames.records(frame) == list(opportunities)
    assert list(frame["opportunity_id"]) == [plan_opportunity(o).opportunity_id for o in opportunities]
    for opp, (_, row) in zip(opportunities, frame.iterrows(), strict=True):
        assert row["cost"] == opp.cost and isinstance(row["cost"], Decimal)
        assert row["profit"] == opp.profit and row["profit_f"] == float(opp.profit)
        kalshi = [leg for leg in opp.legs if leg.venue == "kalshi"]
        assert row["kalshi_contracts"] == sum((leg.size for leg in kalshi), Decimal(0))


def test_executed_orders():
    outcomes = [
        OrderOutcome("opp", "coid-0", 0, "T-A", "yes", "filled", Decimal("10"), Decimal("4.67")),
        OrderOutcome("opp", "coid-1", 1, "T-B", "no", "not_sent", Decimal("0"), Decimal("0"), "breaker open: x"),
    ]
    at = pd.Timestamp("2026-11-24T17:00:00Z").to_pydatetime()
    frame = frames.executed_orders_frame(outcomes, mode="paper", created_at=at)
    ExecutedOrdersFrame.validate(frame, lazy=True)
    assert list(frame["status"]) == ["filled", "not_sent"]
    assert frame.loc[0, "cost"] == Decimal("4.67") and frame.loc[1, "reason"] == "breaker open: x"
    assert frame.loc[0, "reason"] is None


@pytest.mark.parametrize(
    "build,model",
    [
        (lambda s: frames.kalshi_markets_frame(s), KalshiMarketsFrame),
        (lambda s: frames.sportsbook_odds_frame(s), SportsbookOddsFrame),
        (lambda s: frames.implied_probabilities_frame(s, [], "multiplicative"), ImpliedProbabilitiesFrame),
        (lambda s: frames.opportunities_frame([], s.captured_at), OpportunitiesFrame),
        (lambda s: frames.executed_orders_frame([], "paper", s.captured_at), ExecutedOrdersFrame),
    ],
)
def test_empty_results_give_empty_frames_of_the_right_shape(result, build, model):
    from dataclasses import replace

    empty = replace(result.snapshot, events=(), quotes=(), orderbooks={})
    frame = build(empty)
    assert len(frame) == 0
    model.validate(frame, lazy=True)


def test_to_decimal_refuses_floats():
    assert frames.to_decimal("0.45") == Decimal("0.45") and frames.to_decimal(3) == Decimal(3)
    with pytest.raises(TypeError):
        frames.to_decimal(0.45)


def test_markdown_table_escapes_and_limits():
    frame = pd.DataFrame({"a": ["x|y", "z"], "b": [1.23456789, float("nan")]})
    table = frames.markdown_table(frame, limit=1)
    assert table.splitlines()[0] == "| a | b |"
    assert "x\\|y" in table and "1.235" in table and "1 more rows" in table
    assert frames.markdown_table(frame.iloc[0:0]) == "_(no rows)_"


@pytest.mark.parametrize("values", [
    [datetime(2026, 11, 24, 17, 0, tzinfo=UTC), datetime(2026, 11, 24, 18, 30, 15, 123456, tzinfo=UTC)],
    [datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(hours=-5))), None],  # another zone, a gap
    [datetime(2026, 11, 24, 17, 0), datetime(2026, 11, 24, 17, 1)],  # naive: taken as UTC, as before
    [datetime(2026, 11, 24, 17, 0, tzinfo=UTC), datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(hours=-5)))],
])
def test_a_frames_time_columns_are_the_same_utc_column_by_the_fast_path(values):
    """`_finish` converts a column pandas already made tz-aware as a whole; every other column is parsed
    value by value. Both give what parsing every value gave: the same instants, datetime64[ns, UTC]."""
    frame = frames._finish([{"at": v} for v in values], object, ("at",))
    expected = frame_columns.utc_column(values)
    assert str(frame["at"].dtype) == "datetime64[ns, UTC]"
    pd.testing.assert_series_equal(frame["at"], expected, check_names=False)
