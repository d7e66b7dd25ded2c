"""Execution safety: orders say why they were sent, and one process at a time places orders.

- `orders.purpose`: `entry` (a leg of an arbitrage) or `unwind` (selling back the excess of a leg
  whose sibling did not fill; kalshi-api.md §6.1: an IOC reduce-only order on the other side).
- `execution_leases`: a lease (owner, expiry) a process must hold to place orders, so two processes
  (two `arb-pipeline run`, or one beside the Dagster daemon) never trade the same market at once;
  a process that dies loses it when it expires.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arb_pipeline.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=10), nullable=False, server_default="entry"))
        batch.create_check_constraint(op.f("ck_orders_purpose"), "purpose IN ('entry', 'unwind')")
    op.create_table(
        "execution_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", arb_pipeline.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_execution_leases")),
    )


def downgrade() -> None:
    op.drop_table("execution_leases")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_purpose"), type_="check")
        batch.drop_column("purpose")
