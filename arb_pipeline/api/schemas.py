"""Request and response models of the REST API: the OpenAPI schema clients and schemathesis read.

Exact amounts travel as canonical decimal text (`"146.78"`, never a float, never `"146.7800"`):
`Amount` says so in the schema. Floats appear only where the value is not money (ages in seconds,
edges in basis points for sorting, probabilities).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Amount = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", description="exact decimal amount as text",
                              examples=["146.78"])]
Ticker = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# One printable line with something visible in it: these end up in logs, alerts and the audit trail.
# Explicit ranges, not \s: JSON Schema (ECMA) and Python disagree on what \s is (U+0085), and the API
# must accept exactly what its schema promises. The "visible" class excludes every character
# Python's str.isspace() knows, so a name never strips to nothing.
_PRINTABLE = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
_SPACE = "\\x20\\xa0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
_LINE = f"^[^{_PRINTABLE}]*[^{_PRINTABLE}{_SPACE}][^{_PRINTABLE}]*$"
Operator = Annotated[str, Field(min_length=1, max_length=120, pattern=_LINE, description="who acts")]
Why = Annotated[str, Field(min_length=1, max_length=500, pattern=_LINE, description="why (kept with it)")]
Mode = Literal["paper", "live"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- health, scans, opportunities ----------------------------------------------------------------


class HealthOut(Out):
    status: Literal["ok"]
    mode: Mode
    database: Literal["ok"]
    act_routes_enabled: bool = Field(description="false: no operator token configured, the API is read-only")
    latest_scan_at: datetime | None
    latest_scan_age_s: float | None


class ScanOut(Out):
    snapshot_id: int
    source: str
    captured_at: datetime
    age_s: float
    kalshi_markets: int
    sportsbook_quotes: int
    odds_quota_remaining: int | None = Field(description="The Odds API credits left after this capture")
    kalshi_book_age_s: float | None
    book_quote_age_median_s: float | None
    book_quote_age_max_s: float | None
    sports_failed: int
    detected: bool
    opportunities: int | None
    arbitrage: int | None
    value: int | None
    rejected: int | None
    best_edge_bps: float | None


class LegOut(Out):
    venue: Literal["kalshi", "sportsbook"]
    market: str
    outcome: str | None
    outcome_side: str | None
    side: str
    price: Amount
    size: Amount
    fee: Amount | None
    cost: Amount | None
    payout: Amount | None
    quote_age_s: float | None
    bookmaker: str | None


class OrderSummaryOut(Out):
    client_order_id: str
    leg_index: int
    ticker: str
    side: str
    status: str
    count: Amount
    fill_count: Amount | None


class OpportunityOut(Out):
    opportunity_id: str
    snapshot_id: int
    kind: Literal["arbitrage", "value"]
    league: str
    event: str
    executable: bool = Field(description="the live scan executes this kind of opportunity")
    detected_at: datetime
    age_s: float
    cost: Amount
    profit: Amount
    roi: Amount | None
    edge_bps: Amount
    max_quote_age_s: float | None
    fair_probability: float | None
    legs: list[LegOut]
    reasons: list[str]
    orders: list[OrderSummaryOut] = Field(description="Kalshi orders placed for it, if any")


class OpportunitiesOut(Out):
    scope: Literal["latest", "history"]
    scan: ScanOut | None = Field(description="the latest scan whose detection finished")
    opportunities: list[OpportunityOut]


# --- ledger ----------------------------------------------------------------------------------------


class OrderOut(Out):
    client_order_id: str
    opportunity_id: str
    leg_index: int
    purpose: Literal["entry", "unwind"] = Field(description="entry: a leg of an arbitrage; unwind: selling back "
                                                "the excess of a leg whose sibling did not fill")
    mode: Mode
    ticker: str
    event: str
    book_side: Literal["bid", "ask"]
    side: Literal["yes", "no"]
    count: Amount
    limit_price: Amount
    status: str
    fill_count: Amount | None
    average_fill_price: Amount | None
    fill_notional: Amount | None
    fees: Amount | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime


class FillOut(Out):
    id: int
    client_order_id: str
    opportunity_id: str
    mode: Mode
    ticker: str
    side: Literal["yes", "no"]
    count: Amount
    price: Amount
    fee: Amount
    filled_at: datetime
    venue_fill_id: str | None


class PositionOut(Out):
    ticker: str
    side: Literal["yes", "no"] | None
    contracts: Amount
    cost: Amount
    fees_paid: Amount
    realized_pnl: Amount
    settled: bool
    updated_at: datetime


class GameOut(Out):
    event: str
    mode: Mode
    cost: Amount = Field(description="what the open contracts on this game cost, fees included")
    realized_pnl: Amount
    positions: list[PositionOut]


class HedgeOut(Out):
    id: int
    opportunity_id: str
    client_order_id: str
    leg_index: int
    bookmaker: str
    event: str
    selection: str
    odds: Amount
    stake: Amount
    worst_acceptable_odds: Amount | None
    status: str
    note: str
    created_at: datetime
    mode: Mode
    outcome: str
    commission_rate: Amount | None = Field(description="the book's commission on net winnings (0.05 = 5 %)")
    game_start: datetime | None
    expires_at: datetime | None = Field(description="pending past this moment: expired (before the start)")
    placed_odds: Amount | None
    placed_stake: Amount | None
    placed_at: datetime | None
    closed_at: datetime | None
    acted_by: str
    result: Literal["won", "lost", "void"] | None
    payout: Amount | None = Field(description="returned by the book, stake included, net of commission")
    commission: Amount | None
    settled_at: datetime | None


HedgeOdds = Annotated[str, Field(pattern=r"^\d{1,4}(\.\d{1,4})?$", description="decimal odds actually taken",
                                 examples=["2.25"])]
HedgeStake = Annotated[str, Field(pattern=r"^\d{1,7}(\.\d{1,2})?$", description="stake actually placed, dollars",
                                  examples=["11.11"])]


class HedgePlacedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    odds: HedgeOdds
    stake: HedgeStake
    who: Operator
    force: bool = Field(default=False, description="record it even beyond the worst acceptable odds (alerted)")


class HedgeAbandonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    why: Why
    who: Operator


class HedgePlacedOut(Out):
    hedge: HedgeOut
    locked_profit_before: Amount = Field(description="the arbitrage's worst case as planned")
    locked_profit_after: Amount = Field(description="its worst case with this bet as placed")
    forced: bool


class PnlDayOut(Out):
    day: str = Field(description="UTC day (YYYY-MM-DD)")
    realized: Amount
    cumulative: Amount


class ClvLegOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    venue: Literal["kalshi", "sportsbook"]
    leg_index: int
    p_entry: float
    p_close: float
    clv_bps: float
    clv_dollars: Amount


class ClvOut(Out):
    available: bool = Field(description="false: no consensus was recorded for this game")
    final: bool = Field(description="true once the game started: the closing line cannot move any more")
    legs: list[ClvLegOut]
    clv_dollars: Amount | None = Field(description="expected value of the position at the closing line")
    clv_bps: float | None = Field(description="cost-weighted (p_close - p_entry) over the legs, in bps")


class ArbHedgeOut(Out):
    id: int
    bookmaker: str
    selection: str
    status: str
    stake: Amount
    odds: Amount
    commission_rate: Amount
    result: str | None
    payout: Amount | None


class ArbitragePnlOut(Out):
    opportunity_id: str
    mode: Mode
    event: str
    league: str
    kind: str
    detected_at: datetime
    status: Literal["open", "unhedged", "settled"]
    kalshi_cost: Amount
    book_stakes: Amount
    commission: Amount
    locked_profit: Amount = Field(description="worst case over the game's outcomes with the bets placed so far")
    planned_profit: Amount = Field(description="worst case counting pending hedges at their quoted terms")
    pnl_by_outcome: dict[str, Amount]
    realized: Amount | None
    realized_at: datetime | None
    winner: str | None
    waiting_for: str | None
    unrealized: Amount | None = Field(description="open: P&L marked to the current de-vigged consensus")
    hedges: list[ArbHedgeOut]
    clv: ClvOut


class PnlOut(Out):
    mode: Mode
    as_of: datetime
    total_realized: Amount
    today_realized: Amount
    unrealized: Amount
    open_exposure: Amount
    unhedged_exposure: Amount
    clv_bps_average: float | None
    days: list[PnlDayOut]
    arbitrages: list[ArbitragePnlOut]


class GameExposureOut(Out):
    event: str
    kalshi_exposure: Amount
    book_exposure: Amount
    open_exposure: Amount
    unhedged_exposure: Amount


class AlertOut(Out):
    dedup_key: str
    severity: str
    title: str
    body: str
    first_at: datetime
    last_sent_at: datetime
    last_seen_at: datetime
    sent_count: int
    suppressed_count: int
    channels: list[str]


# --- breaker -----------------------------------------------------------------------------------------


class BreakerLimitsOut(Out):
    max_consecutive_errors: int
    max_daily_loss: Amount
    max_open_exposure: Amount
    max_data_age_s: float
    max_api_error_rate: float
    cooldown_s: float
    api_window_s: float
    api_min_calls: int


class BreakerTransitionOut(Out):
    at: datetime
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    trigger: str
    reason: str
    who: str
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BreakerOut(Out):
    name: str
    state: Literal["closed", "open", "half_open"]
    reason: str
    manual: bool = Field(description="tripped by a person (kill switch): only a reset closes it")
    opened_at: datetime | None
    cooldown_remaining_s: float
    consecutive_errors: int
    updated_at: datetime
    updated_by: str
    description: str
    mode: Mode
    day_start: datetime
    realized_pnl_today: Amount
    loss_today: Amount
    open_exposure: Amount = Field(description="both legs: open Kalshi positions at cost + placed sportsbook "
                                  "stakes not settled")
    kalshi_exposure: Amount
    book_exposure: Amount
    unhedged_exposure: Amount = Field(description="Kalshi cost of arbitrages whose hedge is pending, abandoned "
                                      "or expired")
    limits: BreakerLimitsOut
    recent_transitions: list[BreakerTransitionOut]


class TripIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Why
    who: Operator


class ResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    who: Operator


# --- mappings ---------------------------------------------------------------------------------------


GameId = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                              description="sportsbook event id (The Odds API event id)")]


class MappingDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    why: Why
    who: Operator
    store: Literal["file", "db"] = Field(default="file", description="file: mapping_overrides.yaml (read by "
                                         "every scan, reviewable in git); db: the application database")


class ConfirmIn(MappingDecisionIn):
    game: GameId = Field(description="the proposed sportsbook game being confirmed")


class RejectIn(MappingDecisionIn):
    game: GameId | None = Field(default=None, description="reject only this game (default: any game)")


class OverrideIn(MappingDecisionIn):
    game: GameId = Field(description="sportsbook event id the market is forced onto")
    outcome: Literal["home", "away", "draw"] = Field(description="what the market's YES backs")


class ErrorOut(BaseModel):
    detail: str


class MappingDecisionOut(BaseModel):
    """The decision as stored (file entries and database rows differ slightly in shape)."""

    model_config = ConfigDict(extra="allow")
    action: str
    who: str
    why: str
    when: datetime


class MappingsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    overrides: list[dict] = Field(description="decisions in the overrides file, oldest first")
    stored_overrides: list[dict] = Field(description="active decisions in the database")
    rows: list[dict] = Field(description="every resolved Kalshi market of the latest stored snapshot")
    unresolved: list[dict] = Field(description="what did not resolve, and why")
    resolved_from: dict = Field(description="which snapshot the rows come from (or a note why there are none)")
