"""Orders say why they were sent: `entry` (a leg of an arbitrage) or `unwind` (selling back the excess
of a leg whose sibling did not fill, kalshi-api.md §6.1: an IOC reduce-only order on the other side).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=10), nullable=False, server_default="entry"))
        batch.create_check_constraint(op.f("ck_orders_purpose"), "purpose IN ('entry', 'unwind')")


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_purpose"), type_="check")
        batch.drop_column("purpose")
