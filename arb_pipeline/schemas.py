"""pandera `DataFrameModel`s: the contract of every stage of the scan pipeline.

Each model is enforced twice in the Dagster layer (`arb_pipeline/defs`):

* its **structure** (column names, dtypes, nullability) is the asset's Dagster type, built with
  dagster-pandera's `pandera_schema_to_dagster_type` from `structural_schema(Model)`, so the UI
  shows the columns of every asset;
* the **whole model** (structure + value checks + frame-wide checks) is a blocking, severity ERROR
  asset check, so a frame that breaks the contract stops everything downstream and its failing rows
  show in the check's metadata (and an alert goes out).

Why the split: a Dagster type check that fails fails the *step*, before any asset check runs, so a
type carrying the value checks would turn every bad value into an opaque step failure and the
blocking check would never get to say which rows were wrong.

Money columns (rules 1 and 3 of DESIGN.md): an exact column holds Python `Decimal` objects (object
dtype) and its name has no suffix (`yes_ask`, `decimal_odds`, `stake`); a float64 mirror named
`<column>_f` sits beside it **for display and screening only**. Nothing downstream may compute a
price, fee, stake or order from a `_f` column; the `ExactDecimal` check rejects floats that sneak
into an exact column. Probabilities and edges that are estimates (de-vigged consensus, edge in bps)
are plain float64.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.dtypes import immutable
from pandera.engines import pandas_engine
from pandera.typing import Series

UTC_TS = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]


@pandas_engine.Engine.register_dtype
@immutable
class Text(pandas_engine.NpString):
    """pandera's `str` column dtype, checked in one vectorised pass.

    pandera checks a `str` column element by element (`isinstance(value, str)` per row) and, even when
    every row passes, formats an empty failure-case table into its message: ~3 ms a column, twice per
    frame (the Dagster type and the blocking check), over ~100,000 rows of a 1,000-game scan. Here the
    column is first asked of pandas' C type inference: every non-null value a `str` ("string"), or no
    non-null value at all ("empty"), is exactly what pandera's own check accepts. Anything else goes to
    pandera's check unchanged, so a failure reports the same rows and message as before (proven
    against it by `test_schemas.py`).
    """

    def check(self, pandera_dtype, data_container=None):  # noqa: ANN001, ANN201 - pandera's signature
        if data_container is not None and isinstance(data_container, pd.Series) \
                and data_container.dtype == object \
                and pd.api.types.infer_dtype(data_container, skipna=True) in ("string", "empty"):
            return True
        return super().check(pandera_dtype, data_container)

    def __str__(self) -> str:
        return "str"  # the name pandera, dagster-pandera and the generated frame schemas show

STRUCTURAL_OUTCOMES = ("home", "away", "draw", "over", "under")
YES_OUTCOMES = ("home", "away", "draw", "over")  # what a Kalshi market's YES can back (a total's YES is over)
MARKETS = ("h2h", "spreads", "totals")
LINE_MARKETS = ("spreads", "totals")
OPPORTUNITY_KINDS = ("arbitrage", "value")
CONTRACT_SIDES = ("yes", "no")
ORDER_STATUSES = ("filled", "partially_filled", "unfilled", "failed", "unknown", "not_sent")
EXECUTION_MODES = ("paper", "live")


# --- element checks shared by the models ------------------------------------------------------------


def line_point_consistent(df: pd.DataFrame) -> pd.Series:
    """A spread/total row has a point; an h2h row (or a row with no market: unresolved) has none."""
    return pd.Series(
        [(m in LINE_MARKETS) == (p is not None and not (isinstance(p, float) and p != p)) if isinstance(m, str)
         else True for m, p in zip(df["market"], df["point"], strict=True)],
        index=df.index,
    )


def _is_decimal_or_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or isinstance(value, Decimal)


def _decimal_values(series: pd.Series) -> list[Decimal] | None:
    """The column's values when every one is a `Decimal` or None (the usual exact column), without the
    Nones; None when any other type is there (a NaN float, a stray float or text), which the element-wise
    checks then judge and report row by row.

    Why: pandera runs these checks as `Series.map` over every row (~0.1 s of a 1,000-game scan run's
    contracts, on the path to its orders); one C-level pass over the values' types, then `min`/`max`,
    decides the common all-pass case with the same answer (proven against the element-wise checks by
    `test_schemas.py`)."""
    values = series.to_numpy(dtype=object, copy=False)
    kinds = set(map(type, values))
    if not kinds <= _DECIMAL_OR_NONE:
        return None
    return [v for v in values if v is not None] if type(None) in kinds else list(values)


_DECIMAL_OR_NONE = frozenset({Decimal, type(None)})


def _all(series: pd.Series) -> pd.Series:
    return pd.Series(True, index=series.index, dtype=bool)


def exact_decimal(series: pd.Series) -> pd.Series:
    """Element-wise: every non-null value is a `Decimal` (never a float)."""
    if _decimal_values(series) is not None:
        return _all(series)
    return series.map(_is_decimal_or_null).astype(bool)


def _bounded(series: pd.Series, element: Callable[[object], bool], lo: Decimal | None, hi: Decimal | None,
             strict_lo: bool = False) -> pd.Series:
    """`element` over the column (True for a non-Decimal: `exact_decimal` reports those), decided at once
    when every value is a Decimal or None and the smallest and largest are within the bounds."""
    decimals = _decimal_values(series)
    if decimals is not None:
        if not decimals:
            return _all(series)
        low, high = min(decimals), max(decimals)
        if (lo is None or (low > lo if strict_lo else low >= lo)) and (hi is None or high <= hi):
            return _all(series)
    return series.map(element).astype(bool)


def decimal_in_range(lo: Decimal, hi: Decimal):
    def check(series: pd.Series) -> pd.Series:
        return _bounded(series, lambda v: v is None or not isinstance(v, Decimal) or lo <= v <= hi, lo, hi)

    check.__name__ = f"decimal_in_[{lo},{hi}]"
    return check


def decimal_positive(series: pd.Series) -> pd.Series:
    return _bounded(series, lambda v: v is None or not isinstance(v, Decimal) or v > 0, Decimal(0), None,
                    strict_lo=True)


def decimal_non_negative(series: pd.Series) -> pd.Series:
    return _bounded(series, lambda v: v is None or not isinstance(v, Decimal) or v >= 0, Decimal(0), None)


def decimal_above_one(series: pd.Series) -> pd.Series:
    return _bounded(series, lambda v: v is None or not isinstance(v, Decimal) or v > 1, Decimal(1), None,
                    strict_lo=True)


# --- stage models ------------------------------------------------------------------------------------


class KalshiMarketsFrame(pa.DataFrameModel):
    """`kalshi_markets`: one row per Kalshi market in the snapshot, with its top of book and depth."""

    captured_at: Series[UTC_TS] = pa.Field(description="when the snapshot was captured (UTC)")
    snapshot_id: Series[int] = pa.Field(ge=0, description="stored snapshot (market history) id")
    series_ticker: Series[Text]
    event_ticker: Series[Text]
    ticker: Series[Text] = pa.Field(unique=True, str_length={"min_value": 1})
    status: Series[Text] = pa.Field(str_length={"min_value": 1}, description="Kalshi's own status (detection "
                                   "decides what is tradable; a new status must not halt the pipeline)")
    market_type: Series[Text]
    yes_sub_title: Series[Text]
    occurrence_datetime: Series[UTC_TS] = pa.Field(nullable=True)
    close_time: Series[UTC_TS] = pa.Field(nullable=True)
    yes_bid: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    yes_ask: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    no_bid: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    no_ask: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    yes_bid_f: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="display mirror")
    yes_ask_f: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="display mirror")
    yes_depth: Series[object] = pa.Field(description="contracts bid on YES, all levels (Decimal)")
    no_depth: Series[object] = pa.Field(description="contracts bid on NO, all levels (Decimal)")
    book_levels: Series[int] = pa.Field(ge=0)
    book_age_s: Series[float] = pa.Field(nullable=True, ge=0, description="|books fetched - capture start|, s")

    class Config:
        name = "KalshiMarketsFrame"
        description = "Kalshi markets with top of book (exact Decimal dollars + float mirrors)"
        strict = False
        coerce = False

    @pa.check("yes_bid", "yes_ask", "no_bid", "no_ask", "yes_depth", "no_depth", name="exact_decimal")
    def _exact(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.check("yes_bid", "yes_ask", "no_bid", "no_ask", name="price_in_[0,1]")
    def _price_range(cls, series: pd.Series) -> pd.Series:
        return decimal_in_range(Decimal("0"), Decimal("1"))(series)

    @pa.check("yes_depth", "no_depth", name="non_negative")
    def _depth(cls, series: pd.Series) -> pd.Series:
        return decimal_non_negative(series)

    @pa.dataframe_check(name="yes_bid_not_above_yes_ask")
    def _not_crossed(cls, df: pd.DataFrame) -> pd.Series:
        bid, ask = df["yes_bid"], df["yes_ask"]
        return pd.Series(
            [b is None or a is None or not isinstance(b, Decimal) or not isinstance(a, Decimal) or b <= a
             for b, a in zip(bid, ask, strict=True)],
            index=df.index,
        )


class SportsbookOddsFrame(pa.DataFrameModel):
    """`sportsbook_odds`: one row per bookmaker price of one outcome of one game."""

    captured_at: Series[UTC_TS]
    snapshot_id: Series[int] = pa.Field(ge=0, description="stored snapshot (market history) id")
    provider: Series[Text]
    bookmaker: Series[Text] = pa.Field(str_length={"min_value": 1})
    sport_key: Series[Text]
    league: Series[Text]
    event_id: Series[Text] = pa.Field(str_length={"min_value": 1})
    home_team: Series[Text]
    away_team: Series[Text]
    commence_time: Series[UTC_TS]
    market: Series[Text]
    outcome: Series[Text] = pa.Field(isin=STRUCTURAL_OUTCOMES)
    outcome_name: Series[Text]
    point: Series[object] = pa.Field(nullable=True, description="line for spreads/totals (Decimal)")
    decimal_odds: Series[object] = pa.Field(description="exact decimal odds (Decimal)")
    decimal_odds_f: Series[float] = pa.Field(gt=1, description="display/screening mirror")
    implied_prob_f: Series[float] = pa.Field(gt=0, lt=1, description="1 / decimal odds (with vig)")
    last_update: Series[UTC_TS]
    fetched_at: Series[UTC_TS]
    quote_age_s: Series[float] = pa.Field(description="captured_at - last_update, seconds")

    class Config:
        name = "SportsbookOddsFrame"
        description = "Sportsbook prices, normalized across providers (exact Decimal odds + float mirrors)"
        strict = False
        coerce = False
        unique = ["provider", "bookmaker", "event_id", "market", "outcome", "point"]

    @pa.check("decimal_odds", "point", name="exact_decimal")
    def _exact(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.check("decimal_odds", name="odds_above_1")
    def _odds(cls, series: pd.Series) -> pd.Series:
        return decimal_above_one(series)

    @pa.check("quote_age_s", name="not_from_the_future")
    def _age(cls, series: pd.Series) -> pd.Series:
        return series >= -5.0  # a few seconds of clock skew between a bookmaker and us is tolerated


class ResolvedEventsFrame(pa.DataFrameModel):
    """`resolved_events`: every Kalshi market with the sportsbook game and outcome its YES side backs.

    Unresolved markets are rows too (`resolved=False`, a `reason`), so coverage is visible; a
    resolved row that a guard stops from trading has `tradable=False` and its `guards`.
    """

    captured_at: Series[UTC_TS]
    snapshot_id: Series[int] = pa.Field(ge=0, description="stored snapshot (market history) id")
    ticker: Series[Text] = pa.Field(unique=True)
    event_ticker: Series[Text]
    resolved: Series[bool]
    tradable: Series[bool]
    league: Series[Text] = pa.Field(nullable=True)
    event_id: Series[Text] = pa.Field(nullable=True, description="sportsbook game id")
    outcome: Series[Text] = pa.Field(nullable=True, isin=YES_OUTCOMES)
    market: Series[Text] = pa.Field(nullable=True, isin=MARKETS, description="sportsbook market the YES matches")
    point: Series[object] = pa.Field(nullable=True, description="a line's point on its axis (Decimal); h2h: none")
    team_name: Series[Text] = pa.Field(nullable=True)
    home_team: Series[Text] = pa.Field(nullable=True)
    away_team: Series[Text] = pa.Field(nullable=True)
    commence_time: Series[UTC_TS] = pa.Field(nullable=True)
    confidence: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    method: Series[Text] = pa.Field(nullable=True)
    guards: Series[Text] = pa.Field(nullable=True, description="why a resolved market is not tradable")
    reason: Series[Text] = pa.Field(nullable=True, description="why a market is unresolved")

    class Config:
        name = "ResolvedEventsFrame"
        description = "Kalshi market -> sportsbook game/outcome matches with confidence"
        strict = False
        coerce = False

    @pa.dataframe_check(name="resolved_rows_name_game_and_outcome")
    def _complete(cls, df: pd.DataFrame) -> pd.Series:
        ok = df["event_id"].notna() & df["outcome"].notna() & df["confidence"].notna()
        return ~df["resolved"].astype(bool) | ok

    @pa.dataframe_check(name="only_resolved_rows_are_tradable")
    def _tradable(cls, df: pd.DataFrame) -> pd.Series:
        return df["resolved"].astype(bool) | ~df["tradable"].astype(bool)

    @pa.check("point", name="exact_decimal")
    def _exact_point(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.dataframe_check(name="a_line_has_a_point_and_h2h_none")
    def _line_point(cls, df: pd.DataFrame) -> pd.Series:
        return line_point_consistent(df)


class ImpliedProbabilitiesFrame(pa.DataFrameModel):
    """`implied_probabilities`: per outcome of every assembled game, the de-vigged book consensus
    next to Kalshi's best asks (`services.scan.FairLine`). No fair probability without a `reason`."""

    captured_at: Series[UTC_TS]
    snapshot_id: Series[int] = pa.Field(ge=0, description="stored snapshot (market history) id")
    ticker: Series[Text] = pa.Field(unique=True, description="Kalshi market")
    event_ticker: Series[Text]
    league: Series[Text]
    outcome: Series[Text] = pa.Field(isin=YES_OUTCOMES)
    market: Series[Text] = pa.Field(isin=MARKETS)
    point: Series[object] = pa.Field(nullable=True, description="a line's point on its axis (Decimal); h2h: none")
    label: Series[Text]
    devig_method: Series[Text]
    fair_prob: Series[float] = pa.Field(nullable=True, gt=0, lt=1, description="de-vigged consensus")
    n_books: Series[int] = pa.Field(ge=0)
    books_used: Series[Text]
    overround_min: Series[float] = pa.Field(nullable=True, description="lowest book margin (sum 1/odds - 1)")
    overround_max: Series[float] = pa.Field(nullable=True, description="highest book margin")
    kalshi_yes_ask: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    kalshi_no_ask: Series[object] = pa.Field(nullable=True, description="exact dollars (Decimal)")
    kalshi_yes_ask_f: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="display mirror")
    kalshi_no_ask_f: Series[float] = pa.Field(nullable=True, ge=0, le=1, description="display mirror")
    yes_edge_bps: Series[float] = pa.Field(nullable=True, description="fair - YES ask, bps (screening only)")
    no_edge_bps: Series[float] = pa.Field(nullable=True, description="(1 - fair) - NO ask, bps (screening)")
    reason: Series[Text] = pa.Field(nullable=True, description="why there is no fair probability")

    class Config:
        name = "ImpliedProbabilitiesFrame"
        description = "Fair (de-vigged) probabilities next to Kalshi prices, one row per Kalshi market"
        strict = False
        coerce = False

    @pa.check("kalshi_yes_ask", "kalshi_no_ask", name="exact_decimal")
    def _exact(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.check("kalshi_yes_ask", "kalshi_no_ask", name="price_in_[0,1]")
    def _range(cls, series: pd.Series) -> pd.Series:
        return decimal_in_range(Decimal("0"), Decimal("1"))(series)

    @pa.dataframe_check(name="fair_prob_or_reason")
    def _explained(cls, df: pd.DataFrame) -> pd.Series:
        return df["fair_prob"].notna() | df["reason"].notna()

    @pa.dataframe_check(name="fair_prob_needs_books")
    def _books(cls, df: pd.DataFrame) -> pd.Series:
        return df["fair_prob"].isna() | (df["n_books"] >= 1)

    @pa.check("point", name="exact_decimal")
    def _exact_point(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.dataframe_check(name="a_line_has_a_point_and_h2h_none")
    def _line_point(cls, df: pd.DataFrame) -> pd.Series:
        return line_point_consistent(df)


class OpportunitiesFrame(pa.DataFrameModel):
    """`arb_opportunities`: detected, sized opportunities net of fees, one row per opportunity.

    `kalshi_legs` / `hedge` describe the legs for a person; the exact legs ride along in the
    `record` column (the `arb.results.Opportunity` itself), which execution acts on.
    """

    detected_at: Series[UTC_TS]
    snapshot_id: Series[int] = pa.Field(ge=0, description="stored snapshot (market history) id")
    opportunity_id: Series[Text] = pa.Field(unique=True, str_length={"min_value": 1})
    kind: Series[Text] = pa.Field(isin=OPPORTUNITY_KINDS)
    event_ticker: Series[Text]
    league: Series[Text]
    n_legs: Series[int] = pa.Field(ge=1)
    kalshi_legs: Series[Text] = pa.Field(description="Kalshi orders, e.g. 'BUY YES T 12 @ 0.4500'")
    hedge: Series[Text] = pa.Field(nullable=True, description="sportsbook leg to place by hand")
    kalshi_contracts: Series[object] = pa.Field(description="contracts over the Kalshi legs (Decimal)")
    kalshi_cost: Series[object] = pa.Field(description="Kalshi notional + fees (Decimal dollars)")
    cost: Series[object] = pa.Field(description="all legs' notional + fees (Decimal dollars)")
    profit: Series[object] = pa.Field(description="arbitrage: worst case; value: expectation (Decimal $)")
    edge_bps: Series[float] = pa.Field(description="net edge in basis points (display)")
    cost_f: Series[float] = pa.Field(ge=0, description="display mirror")
    profit_f: Series[float] = pa.Field(description="display mirror")
    fair_probability: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    max_quote_age_s: Series[float] = pa.Field(nullable=True, ge=0)
    executable: Series[bool] = pa.Field(description="all its sportsbook legs at an account book, kind traded")
    not_executable: Series[Text] = pa.Field(nullable=True, description="why not ('PAPER: no account at ...')")
    market: Series[Text] = pa.Field(isin=MARKETS, description="h2h, or the line (spreads/totals) traded")
    point: Series[object] = pa.Field(nullable=True, description="the line's point on its axis (Decimal)")
    outcomes: Series[Text] = pa.Field(nullable=True, description="arbitrage: the outcomes its payouts cover, "
                                                                "e.g. 'over,push,under'")

    class Config:
        name = "OpportunitiesFrame"
        description = "Sized opportunities net of Kalshi fees, exact Decimal money + float mirrors"
        strict = False
        coerce = False

    @pa.check("kalshi_contracts", "kalshi_cost", "cost", "profit", name="exact_decimal")
    def _exact(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.check("cost", name="positive")
    def _cost(cls, series: pd.Series) -> pd.Series:
        return decimal_positive(series)

    @pa.check("kalshi_contracts", "kalshi_cost", name="non_negative")
    def _kalshi(cls, series: pd.Series) -> pd.Series:
        return decimal_non_negative(series)

    @pa.check("point", name="exact_decimal")
    def _exact_point(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.dataframe_check(name="a_line_has_a_point_and_h2h_none")
    def _line_point(cls, df: pd.DataFrame) -> pd.Series:
        return line_point_consistent(df)

    @pa.dataframe_check(name="line_arbitrage_covers_the_push_exactly_when_the_point_is_whole")
    def _push(cls, df: pd.DataFrame) -> pd.Series:
        """A whole-number line can push: an arbitrage on it is reported only with the push among the
        outcomes it pays in; a half-point line has no push outcome."""
        return pd.Series(
            [k != "arbitrage" or m not in LINE_MARKETS or not isinstance(p, Decimal)
             or (("push" in str(o).split(",")) == (p == p.to_integral_value()))
             for k, m, p, o in zip(df["kind"], df["market"], df["point"], df["outcomes"], strict=True)],
            index=df.index,
        )

    @pa.dataframe_check(name="arbitrage_profit_not_negative")
    def _arb_profit(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [k != "arbitrage" or not isinstance(p, Decimal) or p >= 0 for k, p in zip(df["kind"], df["profit"], strict=True)],
            index=df.index,
        )


class ExecutedOrdersFrame(pa.DataFrameModel):
    """`executed_orders`: one row per Kalshi order leg this run considered (`services.execute.OrderOutcome`).

    `not_sent` rows say why nothing was sent (stale, breaker open, already sent, exposure cap).
    """

    client_order_id: Series[Text] = pa.Field(unique=True, str_length={"min_value": 1})
    opportunity_id: Series[Text]
    leg_index: Series[int] = pa.Field(ge=0)
    ticker: Series[Text]
    side: Series[Text] = pa.Field(isin=CONTRACT_SIDES)
    status: Series[Text] = pa.Field(isin=ORDER_STATUSES)
    fill_count: Series[object] = pa.Field(description="contracts filled (Decimal)")
    cost: Series[object] = pa.Field(description="notional + fees paid (Decimal dollars)")
    cost_f: Series[float] = pa.Field(ge=0, description="display mirror")
    mode: Series[Text] = pa.Field(isin=EXECUTION_MODES)
    reason: Series[Text] = pa.Field(nullable=True)
    created_at: Series[UTC_TS]

    class Config:
        name = "ExecutedOrdersFrame"
        description = "Order outcomes (deterministic client_order_id per opportunity leg), paper or live"
        strict = False
        coerce = False

    @pa.check("fill_count", "cost", name="exact_decimal")
    def _exact(cls, series: pd.Series) -> pd.Series:
        return exact_decimal(series)

    @pa.check("fill_count", "cost", name="non_negative")
    def _non_negative(cls, series: pd.Series) -> pd.Series:
        return decimal_non_negative(series)

    @pa.dataframe_check(name="not_sent_has_a_reason_and_no_fill")
    def _not_sent(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [s != "not_sent" or (bool(r) and (not isinstance(f, Decimal) or f == 0))
             for s, r, f in zip(df["status"], df["reason"].fillna(""), df["fill_count"], strict=True)],
            index=df.index,
        )


# --- history (daily partitions: many snapshots per frame, so keys are unique per snapshot) ----------


class HistoryResolvedEventsFrame(ResolvedEventsFrame):
    ticker: Series[Text]

    class Config:
        name = "HistoryResolvedEventsFrame"
        description = "resolved_events replayed over a day of stored snapshots"
        strict = False
        coerce = False
        unique = ["snapshot_id", "ticker"]


class HistoryImpliedProbabilitiesFrame(ImpliedProbabilitiesFrame):
    ticker: Series[Text]

    class Config:
        name = "HistoryImpliedProbabilitiesFrame"
        description = "implied_probabilities replayed over a day of stored snapshots"
        strict = False
        coerce = False
        unique = ["snapshot_id", "ticker"]


class HistoryOpportunitiesFrame(OpportunitiesFrame):
    opportunity_id: Series[Text] = pa.Field(str_length={"min_value": 1})

    class Config:
        name = "HistoryOpportunitiesFrame"
        description = "arb_opportunities replayed over a day of stored snapshots"
        strict = False
        coerce = False
        unique = ["snapshot_id", "opportunity_id"]


STAGE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "kalshi_markets": KalshiMarketsFrame,
    "sportsbook_odds": SportsbookOddsFrame,
    "resolved_events": ResolvedEventsFrame,
    "implied_probabilities": ImpliedProbabilitiesFrame,
    "arb_opportunities": OpportunitiesFrame,
    "executed_orders": ExecutedOrdersFrame,
}


def structural_schema(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's columns, dtypes and nullability without its value checks (the Dagster type)."""
    full = model.to_schema()
    columns = {
        name: pa.Column(
            col.dtype, nullable=col.nullable, required=col.required, description=col.description, name=name
        )
        for name, col in full.columns.items()
    }
    return pa.DataFrameSchema(
        columns,
        name=full.name,
        title=full.name,
        description=f"{full.description} (structure; values are checked by the blocking asset check)",
        strict=False,
        coerce=False,
    )


def empty_frame(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """A zero-row frame with the model's columns and dtypes (a quiet scan still has a shape)."""
    schema = model.to_schema()
    data = {}
    for name, col in schema.columns.items():
        dtype = col.dtype.type if col.dtype is not None else object
        data[name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(data)
