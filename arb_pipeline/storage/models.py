"""The application schema: SQLAlchemy 2.x typed models, one class per table.

Every money column is `Money` (NUMERIC(18, 6), exact on SQLite too) and every time is an aware
UTC `UTCDateTime`. Alembic migrations in `storage/migrations/` create exactly these tables; a test
checks that the migrated schema and these models agree, so the two cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from arb_pipeline.storage.types import Money, Payload, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {Decimal: Money(), datetime: UTCDateTime(), dict[str, Any]: Payload}


# --- raw market data (append-only) ---------------------------------------------------------------


class Snapshot(Base):
    """One scan's capture: what was seen, when and from where. Never updated (see repositories)."""

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    captured_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(200))
    books_captured_at: Mapped[datetime | None]
    stored_at: Mapped[datetime]
    payloads: Mapped[list[SnapshotPayload]] = relationship(
        back_populates="snapshot", order_by="SnapshotPayload.name", lazy="selectin"
    )


class SnapshotPayload(Base):
    """One raw wire response of a snapshot (e.g. `kalshi_events.json`), kept verbatim for replay.

    Stored as text, not as a JSON column: a JSON round trip turns odds such as 1.10 into floats and
    PostgreSQL JSONB reorders keys, and a backfill must replay exactly what the venue sent.
    """

    __tablename__ = "snapshot_payloads"
    __table_args__ = (UniqueConstraint("snapshot_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the raw JSON text as received: numbers keep every digit
    snapshot: Mapped[Snapshot] = relationship(back_populates="payloads")


# --- mappings ------------------------------------------------------------------------------------


class MarketMapping(Base):
    """The latest resolution of one Kalshi market to a sportsbook game and outcome."""

    __tablename__ = "market_mappings"
    __table_args__ = (UniqueConstraint("kalshi_ticker", "provider"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kalshi_ticker: Mapped[str] = mapped_column(String(120))
    kalshi_event_ticker: Mapped[str] = mapped_column(String(120), index=True)
    provider: Mapped[str] = mapped_column(String(60))
    sportsbook_event_id: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(60))
    confidence: Mapped[Decimal]
    resolved_at: Mapped[datetime]


class MappingOverride(Base):
    """A human decision about a mapping (confirm / reject / override), with who, when and why."""

    __tablename__ = "mapping_overrides"
    __table_args__ = (CheckConstraint("action IN ('confirm', 'reject', 'override')", name="action"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kalshi_ticker: Mapped[str] = mapped_column(String(120), index=True)
    sportsbook_event_id: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    who: Mapped[str] = mapped_column(String(120))
    why: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(120))


# --- opportunities, orders, fills, positions -----------------------------------------------------


class OpportunityRecord(Base):
    """A detected opportunity as executed against (id = the stable opportunity key's uuid5)."""

    __tablename__ = "opportunities"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    opportunity_key: Mapped[str] = mapped_column(Text)
    event_key: Mapped[str] = mapped_column(String(200), index=True)
    detected_at: Mapped[datetime] = mapped_column(index=True)
    cost: Mapped[Decimal]
    profit: Mapped[Decimal]
    payload: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class Order(Base):
    """One Kalshi order. The row is written as an *intent* before the request is sent (Money rule 3)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("book_side IN ('bid', 'ask')", name="book_side"),
        CheckConstraint("outcome_side IN ('yes', 'no')", name="outcome_side"),
        CheckConstraint("mode IN ('paper', 'live')", name="mode"),
        CheckConstraint(
            "status IN ('intent', 'sent', 'filled', 'partially_filled', 'unfilled', 'failed', 'unknown')",
            name="status",
        ),
        CheckConstraint("purpose IN ('entry', 'unwind')", name="purpose"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    opportunity_id: Mapped[str] = mapped_column(String(36), index=True)
    leg_index: Mapped[int] = mapped_column(Integer)
    # entry: a leg of the opportunity; unwind: a reduce-only sale of a leg's excess after its sibling failed
    purpose: Mapped[str] = mapped_column(String(10), default="entry", server_default="entry")
    mode: Mapped[str] = mapped_column(String(10))
    ticker: Mapped[str] = mapped_column(String(120), index=True)
    book_side: Mapped[str] = mapped_column(String(3))  # what is sent: bid = buy YES, ask = buy NO
    outcome_side: Mapped[str] = mapped_column(String(3))  # what we end up holding
    count: Mapped[Decimal]
    limit_price: Mapped[Decimal]  # YES-leg price sent to Kalshi
    status: Mapped[str] = mapped_column(String(20), index=True)
    venue_order_id: Mapped[str | None] = mapped_column(String(120))
    fill_count: Mapped[Decimal | None]
    remaining_count: Mapped[Decimal | None]
    fill_notional: Mapped[Decimal | None]  # Σ contracts × price of the side held (exact)
    average_fill_price: Mapped[Decimal | None]  # fill_notional / fill_count to 6 decimals (display)
    fees: Mapped[Decimal | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    fills: Mapped[list[Fill]] = relationship(back_populates="order", lazy="selectin", order_by="Fill.id")


class Fill(Base):
    """One execution of an order (per price level for paper fills, per venue fill for live)."""

    __tablename__ = "fills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    venue_fill_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    ticker: Mapped[str] = mapped_column(String(120), index=True)
    outcome_side: Mapped[str] = mapped_column(String(3))
    count: Mapped[Decimal]
    price: Mapped[Decimal]  # price of the side held (a NO fill at 0.40 has price 0.40)
    fee: Mapped[Decimal]
    filled_at: Mapped[datetime] = mapped_column(index=True)
    order: Mapped[Order] = relationship(back_populates="fills")


class Position(Base):
    """Our net position per market, Kalshi-style: `count` > 0 is YES contracts, < 0 is NO contracts."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("mode", "ticker"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(10))
    ticker: Mapped[str] = mapped_column(String(120))
    count: Mapped[Decimal]
    cost: Mapped[Decimal]  # what the contracts still held cost, fees included
    fees_paid: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class RealizedPnl(Base):
    """Ledger of realized P&L of both legs: Kalshi settlements and YES/NO netting (`ticker` = the
    market), sportsbook bets settled (`kind` "sportsbook", `ticker` = "book:<bookmaker>", with the
    `opportunity_id` it hedged). Feeds the daily-loss check: its sum is two-leg realized P&L."""

    __tablename__ = "realized_pnl"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(10))
    ticker: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    realized_at: Mapped[datetime] = mapped_column(index=True)
    detail: Mapped[dict[str, Any]]
    opportunity_id: Mapped[str | None] = mapped_column(String(36), index=True)


class HedgeInstruction(Base):
    """What a human must place at the sportsbook after the Kalshi leg filled, and what became of it.

    Lifecycle (`services.hedges`): pending -> placed (the odds and stake actually taken) | abandoned
    (by a person) | expired (not placed `expires_at`, before the game starts); a placed bet is
    settled from the game's result (`result`, `payout` net of `commission`). `do_not_place` and
    `skipped` are instructions that were never placeable.
    """

    __tablename__ = "hedge_instructions"
    __table_args__ = (UniqueConstraint("client_order_id", "leg_index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)  # the Kalshi order it hedges
    opportunity_id: Mapped[str] = mapped_column(String(36), index=True)
    leg_index: Mapped[int] = mapped_column(Integer)
    bookmaker: Mapped[str] = mapped_column(String(120))
    event: Mapped[str] = mapped_column(String(300))
    selection: Mapped[str] = mapped_column(String(200))
    odds: Mapped[Decimal]
    stake: Mapped[Decimal]
    worst_acceptable_odds: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(10), default="paper", server_default="paper")
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")  # structural: home/away/draw
    pays_in: Mapped[str] = mapped_column(String(60), default="", server_default="")  # outcomes it wins in, a,b
    commission_rate: Mapped[Decimal | None]  # the book's rate on net winnings when it was written
    game_start: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    placed_odds: Mapped[Decimal | None]
    placed_stake: Mapped[Decimal | None]
    placed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # abandoned or expired at
    acted_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
    result: Mapped[str | None] = mapped_column(String(10))  # won / lost / void once the game settled
    payout: Mapped[Decimal | None]  # returned by the book (stake included, net of commission); 0 when lost
    commission: Mapped[Decimal | None]
    settled_at: Mapped[datetime | None]


class GameMark(Base):
    """What a scan knew about one outcome of a matched game: its Kalshi market, the game's start, and
    the de-vigged sportsbook consensus. Overwritten by each scan *before* the start only, so after the
    start it holds the closing line (CLV); `result` is the outcome's Kalshi market result once known
    (the sportsbook legs settle from it)."""

    __tablename__ = "game_marks"
    __table_args__ = (UniqueConstraint("event_ticker", "outcome"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_ticker: Mapped[str] = mapped_column(String(120), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    kalshi_ticker: Mapped[str] = mapped_column(String(120), index=True)
    league: Mapped[str] = mapped_column(String(20), default="")
    commence_time: Mapped[datetime]
    fair_probability: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(40), default="")
    marked_at: Mapped[datetime]
    result: Mapped[str | None] = mapped_column(String(10))  # yes / no / void
    result_at: Mapped[datetime | None]


class BalanceCheck(Base):
    """Live balance reconciliation: the Kalshi cash `GET /portfolio/balance` reported next to the
    ledger's Kalshi cash flows (fills, fees, netting, settlements) at the same moment. Their difference
    is the account's money from outside the ledger (deposits, the starting balance); it must not move
    between checks by more than ARB_BALANCE_TOLERANCE."""

    __tablename__ = "balance_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mode: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(index=True)
    venue_balance: Mapped[Decimal]
    ledger_flows: Mapped[Decimal]
    difference: Mapped[Decimal]
    matched: Mapped[bool] = mapped_column(Boolean)


# --- circuit breaker and alerts ------------------------------------------------------------------


class BreakerStateRow(Base):
    """The single shared breaker state (one row per breaker name), read and changed under a row lock."""

    __tablename__ = "breaker_state"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime | None]
    probe_started_at: Mapped[datetime | None]
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None]
    window_calls: Mapped[int] = mapped_column(Integer, default=0)
    window_errors: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class ExecutionLease(Base):
    """Who may place orders right now: one process at a time, until `expires_at` (a dead one loses it)."""

    __tablename__ = "execution_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class BreakerEvent(Base):
    """Every breaker transition, with its reason: the audit trail."""

    __tablename__ = "breaker_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    from_state: Mapped[str] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    trigger: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(120))


class Alert(Base):
    """One alert per de-duplication key: re-sent only once its window has passed."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime]
    last_sent_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime]
    sent_count: Mapped[int] = mapped_column(Integer, default=1)
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[str] = mapped_column(String(100), default="")



# --- the operator's desk: what each scan saw and found, and cross-process metrics ---------------


class ScanRecord(Base):
    """One pipeline scan of one stored snapshot: what was captured, how fresh, and what was found.

    The capture stage writes the row; detection fills in its counts. The dashboard, the API and
    `/metrics` read it (the latest row is "the latest scan"), so they never need Dagster's storage.
    """

    __tablename__ = "scan_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(String(200))
    captured_at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]
    kalshi_markets: Mapped[int] = mapped_column(Integer)
    sportsbook_quotes: Mapped[int] = mapped_column(Integer)
    odds_quota_remaining: Mapped[int | None] = mapped_column(Integer)
    kalshi_book_age_s: Mapped[float | None] = mapped_column(Float)
    book_quote_age_median_s: Mapped[float | None] = mapped_column(Float)
    book_quote_age_max_s: Mapped[float | None] = mapped_column(Float)
    sports_failed: Mapped[int] = mapped_column(Integer, default=0)
    detected_at: Mapped[datetime | None]  # None until the detection stage has run on this snapshot
    opportunities: Mapped[int | None] = mapped_column(Integer)
    arbitrage: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[int | None] = mapped_column(Integer)
    rejected: Mapped[int | None] = mapped_column(Integer)
    best_edge_bps: Mapped[float | None] = mapped_column(Float)


class DetectedOpportunity(Base):
    """An opportunity as a scan found it (acted on or not), with the detector's own `to_dict()`.

    Unlike `opportunities` (written only when execution acts), this keeps every scan's findings, so
    the desk shows the latest scan and the history with filters.
    """

    __tablename__ = "detected_opportunities"
    __table_args__ = (UniqueConstraint("snapshot_id", "opportunity_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(Integer, index=True)
    opportunity_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    league: Mapped[str] = mapped_column(String(20))
    event_ticker: Mapped[str] = mapped_column(String(120))
    executable: Mapped[bool] = mapped_column(Boolean)
    detected_at: Mapped[datetime] = mapped_column(index=True)
    cost: Mapped[Decimal]
    profit: Mapped[Decimal]
    edge_bps: Mapped[float] = mapped_column(Float)  # display and filtering; the exact text is in payload
    max_quote_age_s: Mapped[float | None] = mapped_column(Float)
    payload: Mapped[dict[str, Any]]


class MetricSeries(Base):
    """One cumulative Prometheus series shared by every process (Dagster runs, the API).

    `value` only ever grows (`value = value + x` in one upsert), so counters and histogram buckets
    stay exact across processes and containers without a shared filesystem. `le` is the bucket's
    upper bound for a histogram bucket, "sum" / "count" for its totals, "" for a counter.
    """

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("name", "labels", "le"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    labels: Mapped[str] = mapped_column(String(300))  # canonical "key=value,key=value", sorted by key
    le: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
