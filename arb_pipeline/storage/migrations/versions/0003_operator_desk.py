"""The operator's desk: scan records, every detected opportunity, and cross-process metric series.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import arb_pipeline.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detected_opportunities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("league", sa.String(length=20), nullable=False),
        sa.Column("event_ticker", sa.String(length=120), nullable=False),
        sa.Column("executable", sa.Boolean(), nullable=False),
        sa.Column("detected_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cost", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("profit", arb_pipeline.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("edge_bps", sa.Float(), nullable=False),
        sa.Column("max_quote_age_s", sa.Float(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detected_opportunities")),
        sa.UniqueConstraint("snapshot_id", "opportunity_id", name=op.f("uq_detected_opportunities_snapshot_id")),
    )
    with op.batch_alter_table("detected_opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detected_opportunities_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_detected_opportunities_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_detected_opportunities_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("labels", sa.String(length=300), nullable=False),
        sa.Column("le", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_series")),
        sa.UniqueConstraint("name", "labels", "le", name=op.f("uq_metric_series_name")),
    )

    op.create_table(
        "scan_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("captured_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kalshi_markets", sa.Integer(), nullable=False),
        sa.Column("sportsbook_quotes", sa.Integer(), nullable=False),
        sa.Column("odds_quota_remaining", sa.Integer(), nullable=True),
        sa.Column("kalshi_book_age_s", sa.Float(), nullable=True),
        sa.Column("book_quote_age_median_s", sa.Float(), nullable=True),
        sa.Column("book_quote_age_max_s", sa.Float(), nullable=True),
        sa.Column("sports_failed", sa.Integer(), nullable=False),
        sa.Column("detected_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opportunities", sa.Integer(), nullable=True),
        sa.Column("arbitrage", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=True),
        sa.Column("best_edge_bps", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_records")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_scan_records_snapshot_id")),
    )
    with op.batch_alter_table("scan_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_records_captured_at"), ["captured_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_records_captured_at"))
    op.drop_table("scan_records")
    op.drop_table("metric_series")
    with op.batch_alter_table("detected_opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detected_opportunities_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_detected_opportunities_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_detected_opportunities_detected_at"))
    op.drop_table("detected_opportunities")
