"""The stage frames against frozen copies of the row-by-row builders they replaced (issue #11): same
columns, dtypes, values, index and column order, on the sample snapshot and on generated snapshots whose
times, prices, books and quotes vary (UTC, other zones, naive, missing)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from operator import attrgetter
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.schemas import KalshiMarketsFrame, SportsbookOddsFrame, empty_frame
from arb_pipeline.services import frames
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

# --- frozen reference (services/frames.py before typed columns) ---------------------------------------


def _ref_as_utc(column):
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return pd.Series(pd.to_datetime(list(column), utc=True), dtype="datetime64[ns, UTC]")


def _ref_finish(rows, model, datetime_columns):
    if not rows:
        return empty_frame(model)
    frame = pd.DataFrame(rows)
    for column in datetime_columns:
        if column in frame:
            frame[column] = _ref_as_utc(frame[column])
    return frame


def ref_kalshi_markets_frame(snapshot, snapshot_id=0):
    books_at = snapshot.books_captured_at or snapshot.captured_at
    book_age = abs((books_at - snapshot.captured_at).total_seconds())
    rows = []
    for event in snapshot.events:
        for market in event.markets:
            book = snapshot.orderbooks.get(market.ticker)
            yes_levels = book.yes if book else ()
            no_levels = book.no if book else ()
            rows.append({
                "captured_at": snapshot.captured_at, "snapshot_id": snapshot_id,
                "series_ticker": event.series_ticker, "event_ticker": market.event_ticker, "ticker": market.ticker,
                "status": market.status, "market_type": market.market_type, "yes_sub_title": market.yes_sub_title,
                "occurrence_datetime": market.occurrence_datetime, "close_time": market.close_time,
                "yes_bid": market.yes_bid, "yes_ask": market.yes_ask, "no_bid": market.no_bid,
                "no_ask": market.no_ask, "yes_bid_f": frames.to_float(market.yes_bid),
                "yes_ask_f": frames.to_float(market.yes_ask),
                "yes_depth": sum((count for _, count in yes_levels), Decimal("0")),
                "no_depth": sum((count for _, count in no_levels), Decimal("0")),
                "book_levels": len(yes_levels) + len(no_levels),
                "book_age_s": book_age if book else float("nan"),
            })
    frame = _ref_finish(rows, KalshiMarketsFrame, ("captured_at", "occurrence_datetime", "close_time"))
    if rows:
        frame["book_levels"] = frame["book_levels"].astype("int64")
    return frame


def ref_sportsbook_odds_frame(snapshot, snapshot_id=0):
    quotes = snapshot.quotes
    if not quotes:
        return empty_frame(SportsbookOddsFrame)
    captured = snapshot.captured_at
    ages = {}
    odds_f = list(map(attrgetter("odds_f"), quotes))
    columns = {"captured_at": [captured] * len(quotes), "snapshot_id": [snapshot_id] * len(quotes)}
    for name in ("provider", "bookmaker", "sport_key", "league", "event_id", "home_team", "away_team",
                 "commence_time", "market", "outcome", "outcome_name", "point", "decimal_odds"):
        columns[name] = list(map(attrgetter(name), quotes))
    columns["decimal_odds_f"] = odds_f
    columns["implied_prob_f"] = [(1.0 / f) if f else float("nan") for f in odds_f]
    columns["last_update"] = updates = list(map(attrgetter("last_update"), quotes))
    columns["fetched_at"] = list(map(attrgetter("fetched_at"), quotes))
    columns["quote_age_s"] = [ages.get(u) if u in ages else ages.setdefault(u, (captured - u).total_seconds())
                              for u in updates]
    frame = pd.DataFrame(columns)
    for column in ("captured_at", "commence_time", "last_update", "fetched_at"):
        frame[column] = _ref_as_utc(frame[column])
    return frame


# --- the sample snapshot ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load_snapshot(SAMPLE_SNAPSHOT_DIR)


def test_the_sample_snapshots_frames_are_the_row_by_row_frames(sample):
    pd.testing.assert_frame_equal(frames.kalshi_markets_frame(sample, 4), ref_kalshi_markets_frame(sample, 4),
                                  check_exact=True)
    pd.testing.assert_frame_equal(frames.sportsbook_odds_frame(sample, 4), ref_sportsbook_odds_frame(sample, 4),
                                  check_exact=True)


# --- generated snapshots (attribute-for-attribute what the builders read) -----------------------------

BASE = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
seconds = st.integers(min_value=-86_400 * 30, max_value=86_400 * 30)
utc_time = seconds.map(lambda s: BASE + timedelta(seconds=s, microseconds=s % 7))
any_time = st.one_of(
    utc_time, utc_time, utc_time,
    utc_time.map(lambda d: d.astimezone(timezone(timedelta(hours=-5)))),
    utc_time.map(lambda d: d.replace(tzinfo=None)),
)
price = st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=4))
count = st.decimals(min_value=0, max_value=10_000, places=2)
text = st.sampled_from(["", "a", "KX-1", "Seattle"])


@st.composite
def snapshots(draw):
    times = st.one_of(st.none(), any_time) if draw(st.booleans()) else st.one_of(st.none(), utc_time)
    events, books, tickers = [], {}, 0
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        markets = []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            tickers += 1
            ticker = f"T{tickers}"
            markets.append(SimpleNamespace(
                ticker=ticker, event_ticker=draw(text), status=draw(text), market_type=draw(text),
                yes_sub_title=draw(text), occurrence_datetime=draw(times), close_time=draw(times),
                yes_bid=draw(price), yes_ask=draw(price), no_bid=draw(price), no_ask=draw(price)))
            if draw(st.booleans()):
                levels = st.lists(st.tuples(price.filter(lambda p: p is not None), count), max_size=3)
                books[ticker] = SimpleNamespace(yes=tuple(draw(levels)), no=tuple(draw(levels)))
        events.append(SimpleNamespace(series_ticker=draw(text), markets=tuple(markets)))
    quotes = []
    quote_time = any_time if draw(st.booleans()) else utc_time
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        odds = draw(st.decimals(min_value=1, max_value=50, places=3))
        quotes.append(SimpleNamespace(
            provider=draw(text), bookmaker=draw(text), sport_key=draw(text), league=draw(text),
            event_id=draw(text), home_team=draw(text), away_team=draw(text), commence_time=draw(quote_time),
            market=draw(st.sampled_from(["h2h", "spreads", "totals"])), outcome=draw(text), outcome_name=draw(text),
            point=draw(st.one_of(st.none(), st.decimals(min_value=-20, max_value=20, places=1))),
            decimal_odds=odds, odds_f=draw(st.sampled_from([float(odds), 0.0])),
            last_update=draw(utc_time), fetched_at=draw(quote_time)))
    captured = draw(utc_time)
    return SimpleNamespace(captured_at=captured, books_captured_at=draw(st.one_of(st.none(), utc_time)),
                           events=tuple(events), orderbooks=books, quotes=tuple(quotes))


@pytest.mark.filterwarnings("ignore:Could not infer format")
@settings(max_examples=300, deadline=None)
@given(snapshots(), st.integers(min_value=0, max_value=2**40))
def test_generated_snapshots_frames_are_the_row_by_row_frames(snapshot, snapshot_id):
    pd.testing.assert_frame_equal(frames.kalshi_markets_frame(snapshot, snapshot_id),
                                  ref_kalshi_markets_frame(snapshot, snapshot_id), check_exact=True)
    pd.testing.assert_frame_equal(frames.sportsbook_odds_frame(snapshot, snapshot_id),
                                  ref_sportsbook_odds_frame(snapshot, snapshot_id), check_exact=True)
