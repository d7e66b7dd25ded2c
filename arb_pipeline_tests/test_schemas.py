"""The stage contracts: good frames pass; bad ones fail with the failing rows named.

Frames are written out literally here (not built by `services.frames`), so the contract is tested on
its own; `services/test_frames.py` checks that the converters produce frames these models accept.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline import schemas
from arb_pipeline.defs.shared.checks import schema_failure_metadata
from arb_pipeline.schemas import (
    STAGE_MODELS,
    ExecutedOrdersFrame,
    HistoryOpportunitiesFrame,
    HistoryResolvedEventsFrame,
    ImpliedProbabilitiesFrame,
    KalshiMarketsFrame,
    OpportunitiesFrame,
    ResolvedEventsFrame,
    SportsbookOddsFrame,
    empty_frame,
    structural_schema,
)

T = pd.Timestamp(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
D = Decimal


def ts(n: int = 1) -> pd.Series:
    return pd.Series([T] * n, dtype="datetime64[ns, UTC]")


def kalshi_markets() -> pd.DataFrame:
    return pd.DataFrame({
        "captured_at": ts(2), "snapshot_id": [7, 7], "series_ticker": ["KXNBAGAME"] * 2,
        "event_ticker": ["KXNBAGAME-26NOV24BOSNYK"] * 2,
        "ticker": ["KXNBAGAME-26NOV24BOSNYK-BOS", "KXNBAGAME-26NOV24BOSNYK-NYK"],
        "status": ["active", "active"], "market_type": ["binary"] * 2, "yes_sub_title": ["Boston", "New York"],
        "occurrence_datetime": ts(2), "close_time": ts(2),
        "yes_bid": [D("0.44"), D("0.55")], "yes_ask": [D("0.45"), D("0.56")],
        "no_bid": [D("0.55"), D("0.44")], "no_ask": [D("0.56"), D("0.45")],
        "yes_bid_f": [0.44, 0.55], "yes_ask_f": [0.45, 0.56],
        "yes_depth": [D("120"), D("80")], "no_depth": [D("90"), D("100")],
        "book_levels": [6, 5], "book_age_s": [0.4, 0.4],
    })


def sportsbook_odds() -> pd.DataFrame:
    return pd.DataFrame({
        "captured_at": ts(2), "snapshot_id": [7, 7], "provider": ["the-odds-api"] * 2,
        "bookmaker": ["pinnacle", "betmgm"], "sport_key": ["basketball_nba"] * 2, "league": ["NBA"] * 2,
        "event_id": ["e1"] * 2, "home_team": ["New York Knicks"] * 2, "away_team": ["Boston Celtics"] * 2,
        "commence_time": ts(2), "market": ["h2h"] * 2, "outcome": ["home", "away"],
        "outcome_name": ["New York Knicks", "Boston Celtics"], "point": [None, None],
        "decimal_odds": [D("1.80"), D("2.10")], "decimal_odds_f": [1.8, 2.1],
        "implied_prob_f": [1 / 1.8, 1 / 2.1], "last_update": ts(2), "fetched_at": ts(2), "quote_age_s": [12.0, 12.0],
    })


def resolved_events() -> pd.DataFrame:
    return pd.DataFrame({
        "captured_at": ts(3), "snapshot_id": [7, 7, 7], "ticker": ["K-BOS", "K-XXX", "KT-227"],
        "event_ticker": ["K", "K", "KT"], "resolved": [True, False, True], "tradable": [True, False, True],
        "league": ["NBA", None, "NBA"], "event_id": ["e1", None, "e1"], "outcome": ["away", None, "over"],
        "market": ["h2h", None, "totals"], "point": [None, None, D("226.5")],
        "team_name": ["Boston Celtics", None, "Over 226.5"], "home_team": ["New York Knicks", None, "New York Knicks"],
        "away_team": ["Boston Celtics", None, "Boston Celtics"], "commence_time": ts(3),
        "confidence": [1.0, float("nan"), 1.0], "method": ["rule", None, "rule"], "guards": [None, None, None],
        "reason": [None, "no such team code", None],
    })


def implied_probabilities() -> pd.DataFrame:
    return pd.DataFrame({
        "captured_at": ts(2), "snapshot_id": [7, 7], "ticker": ["K-BOS", "K-NYK"], "event_ticker": ["K", "K"],
        "league": ["NBA", "NBA"], "outcome": ["away", "home"], "label": ["Boston Celtics", "New York Knicks"],
        "market": ["h2h", "spreads"], "point": [None, D("3.5")],
        "devig_method": ["multiplicative"] * 2, "fair_prob": [0.46, float("nan")], "n_books": [3, 0],
        "books_used": ["pinnacle,betmgm,fanduel", ""], "overround_min": [0.021, float("nan")],
        "overround_max": [0.045, float("nan")], "kalshi_yes_ask": [D("0.45"), D("0.56")],
        "kalshi_no_ask": [D("0.56"), None], "kalshi_yes_ask_f": [0.45, 0.56], "kalshi_no_ask_f": [0.56, float("nan")],
        "yes_edge_bps": [100.0, float("nan")], "no_edge_bps": [-20.0, float("nan")],
        "reason": [None, "fewer than 2 books"],
    })


def opportunities() -> pd.DataFrame:
    return pd.DataFrame({
        "detected_at": ts(1), "snapshot_id": [7], "opportunity_id": ["abc123"], "kind": ["arbitrage"],
        "event_ticker": ["K"], "league": ["NBA"], "n_legs": [2], "kalshi_legs": ["BUY YES K-BOS 10 @ 0.45"],
        "hedge": ["BACK New York Knicks at pinnacle @ 1.80 stake $5.60"], "kalshi_contracts": [D("10")],
        "kalshi_cost": [D("4.67")], "cost": [D("10.27")], "profit": [D("0.05")], "edge_bps": [48.7],
        "cost_f": [10.27], "profit_f": [0.05], "fair_probability": [float("nan")], "max_quote_age_s": [12.0],
        "executable": [True], "not_executable": [None],
        "market": ["h2h"], "point": [None], "outcomes": ["home,away"],
    })


def line_opportunities() -> pd.DataFrame:
    """A half-point total (no push) and a whole-number spread whose payouts include the push."""
    return pd.DataFrame({
        "detected_at": ts(2), "snapshot_id": [7, 7], "opportunity_id": ["tot", "spr"], "kind": ["arbitrage"] * 2,
        "event_ticker": ["KT", "KS"], "league": ["NBA"] * 2, "n_legs": [2, 2],
        "kalshi_legs": ["BUY YES KT-227 10 @ 0.45", "BUY NO KS-BOS4 10 @ 0.50"],
        "hedge": ["BACK Under 226.5 at pinnacle @ 1.95 stake $5.13", "BACK Boston Celtics -4 at pinnacle @ 2.10"],
        "kalshi_contracts": [D("10"), D("10")], "kalshi_cost": [D("4.67"), D("5.17")], "cost": [D("9.80"), D("9.94")],
        "profit": [D("0.20"), D("0.06")], "edge_bps": [200.0, 60.0], "cost_f": [9.8, 9.94], "profit_f": [0.2, 0.06],
        "fair_probability": [float("nan")] * 2, "max_quote_age_s": [12.0, 12.0],
        "market": ["totals", "spreads"], "point": [D("226.5"), D("4")], "outcomes": ["over,under", "home,push,away"],
        "executable": [True, True], "not_executable": [None, None],
    })


def executed_orders() -> pd.DataFrame:
    return pd.DataFrame({
        "client_order_id": ["coid-0", "coid-1"], "opportunity_id": ["abc123"] * 2, "leg_index": [0, 1],
        "ticker": ["K-BOS", "K-NYK"], "side": ["yes", "yes"], "status": ["filled", "not_sent"],
        "fill_count": [D("10"), D("0")], "cost": [D("4.67"), D("0")], "cost_f": [4.67, 0.0],
        "mode": ["paper", "paper"], "reason": [None, "breaker open: manual kill switch"], "created_at": ts(2),
    })


GOOD = {
    KalshiMarketsFrame: kalshi_markets,
    SportsbookOddsFrame: sportsbook_odds,
    ResolvedEventsFrame: resolved_events,
    ImpliedProbabilitiesFrame: implied_probabilities,
    OpportunitiesFrame: opportunities,
    ExecutedOrdersFrame: executed_orders,
}


@pytest.mark.parametrize("model", list(GOOD), ids=lambda m: m.__name__)
def test_good_frames_pass(model):
    model.validate(GOOD[model](), lazy=True)
    assert schema_failure_metadata(model, GOOD[model]()) is None


@pytest.mark.parametrize("model", list(STAGE_MODELS.values()), ids=lambda m: m.__name__)
def test_empty_frames_pass(model):
    model.validate(empty_frame(model), lazy=True)


def test_every_stage_has_a_model():
    assert set(STAGE_MODELS) == {"kalshi_markets", "sportsbook_odds", "resolved_events", "implied_probabilities",
                                 "arb_opportunities", "executed_orders"}


ID_COLUMN = {
    KalshiMarketsFrame: "ticker",
    SportsbookOddsFrame: "bookmaker",
    ResolvedEventsFrame: "ticker",
    ImpliedProbabilitiesFrame: "ticker",
    OpportunitiesFrame: "opportunity_id",
    ExecutedOrdersFrame: "client_order_id",
}

BAD = [
    # (model, mutation, failing row index, expected failed check fragment)
    (KalshiMarketsFrame, lambda f: f.__setitem__("yes_ask", [D("0.45"), 0.56]), 1, "exact_decimal"),
    (KalshiMarketsFrame, lambda f: f.__setitem__("yes_bid", [D("0.44"), D("0.60")]), 1, "yes_bid_not_above_yes_ask"),
    (KalshiMarketsFrame, lambda f: f.__setitem__("no_ask", [D("1.20"), D("0.45")]), 0, "price_in_[0,1]"),
    (KalshiMarketsFrame, lambda f: f.__setitem__("ticker", ["T", "T"]), 1, "field_uniqueness"),
    (SportsbookOddsFrame, lambda f: f.__setitem__("decimal_odds", [D("1.80"), D("0.95")]), 1, "odds_above_1"),
    (SportsbookOddsFrame, lambda f: f.__setitem__("outcome", ["home", "Boston"]), 1, "isin"),
    (SportsbookOddsFrame, lambda f: f.__setitem__("quote_age_s", [12.0, -60.0]), 1, "not_from_the_future"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("event_id", [None, None, "e1"]), 0, "resolved_rows_name_game_and_outcome"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("tradable", [True, True, True]), 1, "only_resolved_rows_are_tradable"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("confidence", [1.5, float("nan"), 1.0]), 0, "less_than_or_equal_to"),
    (ImpliedProbabilitiesFrame, lambda f: f.__setitem__("fair_prob", [1.2, float("nan")]), 0, "less_than"),
    (ImpliedProbabilitiesFrame, lambda f: f.__setitem__("n_books", [0, 0]), 0, "fair_prob_needs_books"),
    (ImpliedProbabilitiesFrame, lambda f: f.__setitem__("reason", [None, None]), 1, "fair_prob_or_reason"),
    (ImpliedProbabilitiesFrame, lambda f: f.__setitem__("kalshi_no_ask", [0.56, None]), 0, "exact_decimal"),
    (OpportunitiesFrame, lambda f: f.__setitem__("profit", [D("-0.01")]), 0, "arbitrage_profit_not_negative"),
    (OpportunitiesFrame, lambda f: f.__setitem__("cost", [10.27]), 0, "exact_decimal"),
    (OpportunitiesFrame, lambda f: f.__setitem__("kind", ["hunch"]), 0, "isin"),
    (OpportunitiesFrame, lambda f: f.__setitem__("point", [D("3.5")]), 0, "a_line_has_a_point_and_h2h_none"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("point", [None, None, None]), 2, "a_line_has_a_point_and_h2h_none"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("point", [None, None, 226.5]), 2, "exact_decimal"),
    (ResolvedEventsFrame, lambda f: f.__setitem__("outcome", ["away", None, "under"]), 2, "isin"),
    (ImpliedProbabilitiesFrame, lambda f: f.__setitem__("market", ["h2h", "moneyline"]), 1, "isin"),
    (ExecutedOrdersFrame, lambda f: f.__setitem__("reason", [None, None]), 1, "not_sent_has_a_reason_and_no_fill"),
    (ExecutedOrdersFrame, lambda f: f.__setitem__("fill_count", [D("10"), D("3")]), 1,
     "not_sent_has_a_reason_and_no_fill"),
    (ExecutedOrdersFrame, lambda f: f.__setitem__("cost", [D("-1"), D("0")]), 0, "non_negative"),
    (ExecutedOrdersFrame, lambda f: f.__setitem__("mode", ["yolo", "paper"]), 0, "isin"),
    (ExecutedOrdersFrame, lambda f: f.__setitem__("client_order_id", ["c", "c"]), 1, "field_uniqueness"),
]


@pytest.mark.parametrize("model,mutate,row,check", BAD, ids=lambda v: getattr(v, "__name__", str(v)))
def test_bad_frames_fail_with_the_failing_rows(model, mutate, row, check):
    frame = GOOD[model]()
    mutate(frame)
    with pytest.raises(pa_errors.SchemaErrors) as err:
        model.validate(frame, lazy=True)
    cases = err.value.failure_cases
    assert any(check in str(c) for c in cases["check"]), cases[["column", "check"]]
    assert row in set(cases["index"].dropna())

    metadata = schema_failure_metadata(model, frame)
    assert metadata is not None
    assert metadata["failing_row_count"] >= 1
    assert any(check in item for item in metadata["failed_checks"].data)
    failing_rows = metadata["failing_rows"].md_str
    id_column = ID_COLUMN[model]
    assert str(frame.loc[row, id_column]) in failing_rows
    passing = [i for i in frame.index if i not in set(cases["index"].dropna())]
    for i in passing:
        if frame.loc[i, id_column] != frame.loc[row, id_column]:
            assert str(frame.loc[i, id_column]) not in failing_rows


def test_line_opportunities_pass_and_a_whole_line_arbitrage_must_cover_the_push():
    OpportunitiesFrame.validate(line_opportunities(), lazy=True)
    frame = line_opportunities()
    frame["outcomes"] = ["over,push,under", "home,away"]  # a push on a half point; none on a whole one
    with pytest.raises(pa_errors.SchemaErrors) as err:
        OpportunitiesFrame.validate(frame, lazy=True)
    cases = err.value.failure_cases
    assert set(cases[cases["check"].astype(str).str.contains("covers_the_push")]["index"]) == {0, 1}


def test_missing_column_fails():
    frame = opportunities().drop(columns=["profit"])
    metadata = schema_failure_metadata(OpportunitiesFrame, frame)
    assert metadata is not None
    assert any("profit" in item for item in metadata["failed_checks"].data)


def test_not_a_frame_fails():
    metadata = schema_failure_metadata(OpportunitiesFrame, [1, 2, 3])
    assert metadata is not None and "expected a pandas DataFrame" in metadata["error"].text


def test_structural_schema_keeps_columns_but_not_value_rules():
    frame = opportunities()
    frame["profit"] = [D("-5")]  # breaks a value rule only
    structural_schema(OpportunitiesFrame).validate(frame)  # the Dagster type accepts it...
    with pytest.raises(pa_errors.SchemaErrors):
        OpportunitiesFrame.validate(frame, lazy=True)  # ...the blocking check does not
    with pytest.raises(pa_errors.SchemaError):
        structural_schema(OpportunitiesFrame).validate(frame.drop(columns=["profit"]))


def test_history_models_are_unique_per_snapshot_only():
    two = pd.concat([resolved_events(), resolved_events().assign(snapshot_id=8)], ignore_index=True)
    HistoryResolvedEventsFrame.validate(two, lazy=True)
    with pytest.raises(pa_errors.SchemaErrors):
        ResolvedEventsFrame.validate(two, lazy=True)
    dup = pd.concat([opportunities(), opportunities()], ignore_index=True)
    with pytest.raises(pa_errors.SchemaErrors):
        HistoryOpportunitiesFrame.validate(dup, lazy=True)
    HistoryOpportunitiesFrame.validate(dup.assign(snapshot_id=[7, 8]), lazy=True)


# --- the vectorised str dtype (issue #11: pandera on the hot path) ------------------------------------

_CELLS = [
    "home", "", "KXNBAGAME-26DEC09DENSAC", None, float("nan"), pd.NA, pd.NaT, 3, 0.5, D("1.5"), D("NaN"),
    b"bytes", True, ("t",), ["l"], {"k": "v"}, np.str_("numpy"), np.int64(4), np.nan,
    datetime(2031, 5, 4, tzinfo=UTC),
]


@given(st.lists(st.sampled_from(_CELLS), max_size=12))
def test_the_vectorised_str_check_accepts_exactly_what_panderas_own_accepts(cells):
    from pandera.engines import pandas_engine

    from arb_pipeline.schemas import Text

    column = pd.Series(cells, dtype=object)
    own = pandas_engine.NpString().check(pandas_engine.Engine.dtype(column.dtype), column)
    ours = Text().check(pandas_engine.Engine.dtype(column.dtype), column)
    expected = bool(own.all()) if not isinstance(own, bool) else own
    got = bool(ours.all()) if not isinstance(ours, bool) else ours
    assert got == expected, (cells, own, ours)
    # a column that fails still fails through pandera's own check: the same failing rows and message
    schema = pa.DataFrameSchema({"c": pa.Column(Text, nullable=True)})
    reference = pa.DataFrameSchema({"c": pa.Column(str, nullable=True)})
    frame = pd.DataFrame({"c": column})
    outcomes = []
    for s in (schema, reference):
        try:
            s.validate(frame, lazy=True)
            outcomes.append(None)
        except pa_errors.SchemaErrors as err:
            outcomes.append((sorted(map(str, err.failure_cases["check"])),
                             sorted(err.failure_cases["index"].dropna().astype(int))))
    assert outcomes[0] == outcomes[1]


def test_text_columns_are_still_shown_and_generated_as_str():
    from arb_pipeline.schemas import Text

    assert str(Text()) == "str"
    assert str(KalshiMarketsFrame.to_schema().columns["ticker"].dtype) == "str"
    frame = GOOD[KalshiMarketsFrame]()
    frame["ticker"] = ["T1", 7]  # an int among the tickers: the dtype check names it
    with pytest.raises(pa_errors.SchemaErrors) as err:
        KalshiMarketsFrame.validate(frame, lazy=True)
    cases = err.value.failure_cases
    assert any("dtype('str')" in str(c) for c in cases["check"]) and 1 in set(cases["index"].dropna())


# the money checks decide an all-Decimal column at once (one pass over the types, then min/max); the answer
# must be the element-wise one, row for row, whatever the column holds
_MONEY_CELLS = st.one_of(
    st.decimals(min_value=Decimal("-3"), max_value=Decimal("3"), places=4, allow_nan=False),
    st.sampled_from([Decimal("0"), Decimal("1"), Decimal("1.0000"), Decimal("0E-4"), None]),
    st.sampled_from([float("nan"), 0.5, 1.5, "0.5", 2]),
)


def _reference(check: Callable[[object], bool]) -> Callable[[pd.Series], pd.Series]:
    return lambda series: series.map(check).astype(bool)


_MONEY_CHECKS = {
    "exact_decimal": (schemas.exact_decimal, _reference(schemas._is_decimal_or_null)),
    "in_[0,1]": (schemas.decimal_in_range(Decimal("0"), Decimal("1")),
                 _reference(lambda v: v is None or not isinstance(v, Decimal) or Decimal(0) <= v <= Decimal(1))),
    "positive": (schemas.decimal_positive, _reference(lambda v: v is None or not isinstance(v, Decimal) or v > 0)),
    "non_negative": (schemas.decimal_non_negative,
                     _reference(lambda v: v is None or not isinstance(v, Decimal) or v >= 0)),
    "above_one": (schemas.decimal_above_one, _reference(lambda v: v is None or not isinstance(v, Decimal) or v > 1)),
}


@pytest.mark.parametrize("name", sorted(_MONEY_CHECKS))
@given(cells=st.lists(_MONEY_CELLS, max_size=12), decimals_only=st.booleans())
def test_the_money_checks_answer_exactly_as_element_by_element(name, cells, decimals_only):
    if decimals_only:  # the fast path's own case, generated often rather than by luck
        cells = [c for c in cells if c is None or isinstance(c, Decimal)]
    series = pd.Series(cells, dtype=object, index=[f"r{i}" for i in range(len(cells))])
    fast, reference = _MONEY_CHECKS[name]
    got, expected = fast(series), reference(series)
    assert got.dtype == bool and list(got.index) == list(series.index)
    assert got.tolist() == expected.tolist()
