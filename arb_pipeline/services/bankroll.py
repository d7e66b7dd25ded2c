"""The bankroll sizing uses: the rule, apart from how the ledger's figures are read.

Two readers ask it: the ledger over a SQLAlchemy session (`services.ledger.sizing_bankroll`: the
Dagster resources, the API) and a scan of a snapshot over the default SQLite file with the standard
library's `sqlite3` (`services.mappings.configured_scan`), which so avoids importing SQLAlchemy, the
ORM models and the ledger (~0.25 s CPU and ~24 MiB of a 5,000-game scan). The rule lives here once;
each reader passes how to read the two figures it may need, read only when the mode needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from arb_pipeline.arb.money import ZERO


def sizing_bankroll_from(mode: str, configured: Decimal, *, paper_realized: Callable[[], Decimal],
                         live_balance: Callable[[], Decimal | None]) -> Decimal:
    """The bankroll sizing uses, from the ledger rather than a constant: paper - ARB_BANKROLL (the paper
    account's starting cash, `configured`) plus everything realized since, both legs (`paper_realized`:
    the sum of the paper realized-P&L ledger), i.e. equity at cost; live - the Kalshi cash the last
    reconciliation read from `GET /portfolio/balance` (`live_balance`: None until one has; no venue
    call on the scan path), or ARB_BANKROLL until one has. Never below zero."""
    if mode == "live":
        last = live_balance()
        return max(last, ZERO) if last is not None else configured
    return max(configured + paper_realized(), ZERO)
