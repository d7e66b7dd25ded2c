"""Both legs on the books: the hedge lifecycle, sportsbook settlement and closing-line marks.

- `hedge_instructions`: mode, the outcome(s) the back wins in, the book's commission rate, the game's
  start and the instruction's expiry; what was actually placed (odds, stake, when, by whom); when it
  was abandoned/expired; and its settlement (result, payout net of commission, commission).
- `realized_pnl.opportunity_id`: a sportsbook leg's realized P&L names the arbitrage it hedged.
- `balance_checks`: live balance reconciliation (the venue's cash beside the ledger's Kalshi flows).
- `game_marks`: per matched game outcome, its Kalshi market, the start time and the last de-vigged
  consensus seen before the start (closing-line value), and the market's result once known.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arb_pipeline.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MONEY = arb_pipeline.storage.types.Money(precision=18, scale=6)
TIME = arb_pipeline.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("hedge_instructions") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=10), nullable=False, server_default="paper"))
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("pays_in", sa.String(length=60), nullable=False, server_default=""))
        batch.add_column(sa.Column("commission_rate", MONEY, nullable=True))
        batch.add_column(sa.Column("game_start", TIME, nullable=True))
        batch.add_column(sa.Column("expires_at", TIME, nullable=True))
        batch.add_column(sa.Column("placed_odds", MONEY, nullable=True))
        batch.add_column(sa.Column("placed_stake", MONEY, nullable=True))
        batch.add_column(sa.Column("placed_at", TIME, nullable=True))
        batch.add_column(sa.Column("closed_at", TIME, nullable=True))
        batch.add_column(sa.Column("acted_by", sa.String(length=120), nullable=False, server_default=""))
        batch.add_column(sa.Column("result", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("payout", MONEY, nullable=True))
        batch.add_column(sa.Column("commission", MONEY, nullable=True))
        batch.add_column(sa.Column("settled_at", TIME, nullable=True))
        batch.create_index(batch.f("ix_hedge_instructions_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("realized_pnl") as batch:
        batch.add_column(sa.Column("opportunity_id", sa.String(length=36), nullable=True))
        batch.create_index(batch.f("ix_realized_pnl_opportunity_id"), ["opportunity_id"], unique=False)
    op.create_table(
        "game_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_ticker", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("kalshi_ticker", sa.String(length=120), nullable=False),
        sa.Column("league", sa.String(length=20), nullable=False),
        sa.Column("commence_time", TIME, nullable=False),
        sa.Column("fair_probability", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("marked_at", TIME, nullable=False),
        sa.Column("result", sa.String(length=10), nullable=True),
        sa.Column("result_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game_marks")),
        sa.UniqueConstraint("event_ticker", "outcome", name=op.f("uq_game_marks_event_ticker")),
    )
    with op.batch_alter_table("game_marks") as batch:
        batch.create_index(batch.f("ix_game_marks_event_ticker"), ["event_ticker"], unique=False)
        batch.create_index(batch.f("ix_game_marks_kalshi_ticker"), ["kalshi_ticker"], unique=False)
    op.create_table(
        "balance_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("venue_balance", MONEY, nullable=False),
        sa.Column("ledger_flows", MONEY, nullable=False),
        sa.Column("difference", MONEY, nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_checks")),
    )
    with op.batch_alter_table("balance_checks") as batch:
        batch.create_index(batch.f("ix_balance_checks_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("balance_checks") as batch:
        batch.drop_index(batch.f("ix_balance_checks_at"))
    op.drop_table("balance_checks")
    with op.batch_alter_table("game_marks") as batch:
        batch.drop_index(batch.f("ix_game_marks_kalshi_ticker"))
        batch.drop_index(batch.f("ix_game_marks_event_ticker"))
    op.drop_table("game_marks")
    with op.batch_alter_table("realized_pnl") as batch:
        batch.drop_index(batch.f("ix_realized_pnl_opportunity_id"))
        batch.drop_column("opportunity_id")
    with op.batch_alter_table("hedge_instructions") as batch:
        batch.drop_index(batch.f("ix_hedge_instructions_expires_at"))
        for column in ("settled_at", "commission", "payout", "result", "acted_by", "closed_at", "placed_at",
                       "placed_stake", "placed_odds", "expires_at", "game_start", "commission_rate", "pays_in",
                       "outcome", "mode"):
            batch.drop_column(column)
