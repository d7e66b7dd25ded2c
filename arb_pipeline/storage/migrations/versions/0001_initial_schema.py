"""Initial schema: snapshots, mappings, opportunities, orders, fills, positions, P&L, hedges, breaker, alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import arb_pipeline.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("first_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.Column("channels", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alerts_dedup_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_last_sent_at"), ["last_sent_at"], unique=False)

    op.create_table(
        "breaker_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=False),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaker_events")),
    )
    with op.batch_alter_table("breaker_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breaker_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_breaker_events_name"), ["name"], unique=False)

    op.create_table(
        "breaker_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("opened_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("probe_started_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.Column("window_started_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_calls", sa.Integer(), nullable=False),
        sa.Column("window_errors", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_breaker_state")),
    )
    op.create_table(
        "hedge_instructions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("leg_index", sa.Integer(), nullable=False),
        sa.Column("bookmaker", sa.String(length=120), nullable=False),
        sa.Column("event", sa.String(length=300), nullable=False),
        sa.Column("selection", sa.String(length=200), nullable=False),
        sa.Column("odds", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("stake", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column(
            "worst_acceptable_odds", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hedge_instructions")),
        sa.UniqueConstraint(
            "client_order_id", "leg_index", name=op.f("uq_hedge_instructions_client_order_id")
        ),
    )
    with op.batch_alter_table("hedge_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hedge_instructions_client_order_id"), ["client_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hedge_instructions_opportunity_id"), ["opportunity_id"], unique=False
        )

    op.create_table(
        "mapping_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kalshi_ticker", sa.String(length=120), nullable=False),
        sa.Column("sportsbook_event_id", sa.String(length=120), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("who", sa.String(length=120), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("created_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "action IN ('confirm', 'reject', 'override')", name=op.f("ck_mapping_overrides_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_overrides")),
    )
    with op.batch_alter_table("mapping_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mapping_overrides_kalshi_ticker"), ["kalshi_ticker"], unique=False
        )

    op.create_table(
        "market_mappings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kalshi_ticker", sa.String(length=120), nullable=False),
        sa.Column("kalshi_event_ticker", sa.String(length=120), nullable=False),
        sa.Column("provider", sa.String(length=60), nullable=False),
        sa.Column("sportsbook_event_id", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=60), nullable=False),
        sa.Column("confidence", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("resolved_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_mappings")),
        sa.UniqueConstraint("kalshi_ticker", "provider", name=op.f("uq_market_mappings_kalshi_ticker")),
    )
    with op.batch_alter_table("market_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_mappings_kalshi_event_ticker"), ["kalshi_event_ticker"], unique=False
        )

    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("opportunity_key", sa.Text(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("detected_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cost", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("profit", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_event_key"), ["event_key"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("leg_index", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("ticker", sa.String(length=120), nullable=False),
        sa.Column("book_side", sa.String(length=3), nullable=False),
        sa.Column("outcome_side", sa.String(length=3), nullable=False),
        sa.Column("count", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("limit_price", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("venue_order_id", sa.String(length=120), nullable=True),
        sa.Column("fill_count", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("remaining_count", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("fill_notional", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True),
        sa.Column(
            "average_fill_price", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True
        ),
        sa.Column("fees", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("book_side IN ('bid', 'ask')", name=op.f("ck_orders_book_side")),
        sa.CheckConstraint("mode IN ('paper', 'live')", name=op.f("ck_orders_mode")),
        sa.CheckConstraint("outcome_side IN ('yes', 'no')", name=op.f("ck_orders_outcome_side")),
        sa.CheckConstraint(
            "status IN ('intent', 'sent', 'filled', 'partially_filled', 'unfilled', 'failed', 'unknown')",
            name=op.f("ck_orders_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_opportunity_id"), ["opportunity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_ticker"), ["ticker"], unique=False)

    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("ticker", sa.String(length=120), nullable=False),
        sa.Column("count", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("cost", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("fees_paid", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("realized_pnl", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("mode", "ticker", name=op.f("uq_positions_mode")),
    )
    op.create_table(
        "realized_pnl",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("ticker", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("realized_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realized_pnl")),
    )
    with op.batch_alter_table("realized_pnl", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_realized_pnl_realized_at"), ["realized_at"], unique=False)

    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("captured_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("books_captured_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stored_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshots_captured_at"), ["captured_at"], unique=False)

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("venue_fill_id", sa.String(length=120), nullable=True),
        sa.Column("ticker", sa.String(length=120), nullable=False),
        sa.Column("outcome_side", sa.String(length=3), nullable=False),
        sa.Column("count", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("price", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("fee", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("filled_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("venue_fill_id", name=op.f("uq_fills_venue_fill_id")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_filled_at"), ["filled_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fills_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fills_ticker"), ["ticker"], unique=False)

    op.create_table(
        "snapshot_payloads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_snapshot_payloads_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_payloads")),
        sa.UniqueConstraint("snapshot_id", "name", name=op.f("uq_snapshot_payloads_snapshot_id")),
    )
    with op.batch_alter_table("snapshot_payloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_payloads_snapshot_id"), ["snapshot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("snapshot_payloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_payloads_snapshot_id"))

    op.drop_table("snapshot_payloads")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_ticker"))
        batch_op.drop_index(batch_op.f("ix_fills_order_id"))
        batch_op.drop_index(batch_op.f("ix_fills_filled_at"))

    op.drop_table("fills")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshots_captured_at"))

    op.drop_table("snapshots")
    with op.batch_alter_table("realized_pnl", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_realized_pnl_realized_at"))

    op.drop_table("realized_pnl")
    op.drop_table("positions")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_ticker"))
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_opportunity_id"))

    op.drop_table("orders")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_event_key"))
        batch_op.drop_index(batch_op.f("ix_opportunities_detected_at"))

    op.drop_table("opportunities")
    with op.batch_alter_table("market_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_mappings_kalshi_event_ticker"))

    op.drop_table("market_mappings")
    with op.batch_alter_table("mapping_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mapping_overrides_kalshi_ticker"))

    op.drop_table("mapping_overrides")
    with op.batch_alter_table("hedge_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hedge_instructions_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_hedge_instructions_client_order_id"))

    op.drop_table("hedge_instructions")
    op.drop_table("breaker_state")
    with op.batch_alter_table("breaker_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breaker_events_name"))
        batch_op.drop_index(batch_op.f("ix_breaker_events_at"))

    op.drop_table("breaker_events")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_last_sent_at"))

    op.drop_table("alerts")
