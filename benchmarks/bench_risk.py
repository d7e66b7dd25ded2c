"""The ledger's risk read (`services.ledger.risk`), which every order's preflight makes twice (money limit
and breaker), against a database holding many open arbitrages.

Issue #13 left this as the worker's weak spot: under whole-world requote bursts the execution thread
saturated because each preflight read every open position, order and hedge as ORM objects. Populates a
temporary migrated SQLite database with N arbitrages (an entry order filled on its own market, its
position, a hedge instruction: a third pending, a third abandoned, a third placed), then times `risk()`
(best and median of 15, fresh session each) and prints its figures so a change can be checked to give the
very same numbers.

    uv run --frozen python benchmarks/bench_risk.py --arbs 1000 3000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arb_pipeline.services.ledger import risk  # noqa: E402
from arb_pipeline.storage.db import get_engine, session_factory, session_scope  # noqa: E402
from arb_pipeline.storage.migrate import upgrade  # noqa: E402
from arb_pipeline.storage.repositories import (  # noqa: E402
    HedgeRepository,
    OrderIntent,
    OrderRepository,
    PositionRepository,
)

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def populate(url: str, arbs: int) -> None:
    sessions = session_factory(get_engine(url))
    with session_scope(sessions) as s:
        orders, positions, hedges = OrderRepository(s), PositionRepository(s), HedgeRepository(s)
        for i in range(arbs):
            at = T0 + timedelta(seconds=i)
            opp, ticker = f"opp-{i:05d}", f"KXBENCH-{i:05d}-A"
            count, price, fee = Decimal(100), Decimal("0.41"), Decimal("1.70")
            intent = OrderIntent(f"{opp}-0", opp, 0, "paper", ticker, "bid", count, price)
            orders.record_intent(intent, at=at)
            orders.claim_for_send(intent.client_order_id, at)
            row = orders.mark_filled(intent.client_order_id, fill_count=count, average_fill_price=price, fees=fee,
                                     fill_notional=count * price, at=at)
            orders.add_fill(row, count=count, price=price, fee=fee, filled_at=at)
            positions.apply_fill(mode="paper", ticker=ticker, outcome_side="yes", count=count, price=price,
                                 fee=fee, at=at)
            hedge = hedges.record(client_order_id=intent.client_order_id, opportunity_id=opp, leg_index=1,
                                  bookmaker="fanduel", event=f"NFL {ticker}", selection="B", odds=Decimal("1.62"),
                                  stake=Decimal("62.10"), worst_acceptable_odds=Decimal("1.58"), at=at)
            if i % 3 == 1:
                hedges.close(hedge.id, "abandoned", who="bench", note="", at=at)
            elif i % 3 == 2:
                hedges.place(hedge.id, odds=Decimal("1.61"), stake=Decimal("62.10"), who="bench", note="", at=at)


def measure(url: str, repeat: int = 15) -> tuple[float, float, object]:
    sessions = session_factory(get_engine(url))
    times, result = [], None
    for _ in range(repeat):
        with session_scope(sessions) as s:
            started = time.perf_counter()
            result = risk(s, "paper", T0 + timedelta(days=1))
            times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arbs", type=int, nargs="+", default=[1000, 3000])
    args = parser.parse_args()
    print(f"bench_risk: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for arbs in args.arbs:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            populate(url, arbs)
            best, median, r = measure(url)
            print(f"{arbs:6d} open arbitrages: risk() best {best * 1000:7.1f} ms, median {median * 1000:7.1f} ms"
                  f"  -> kalshi {r.kalshi_exposure} book {r.book_exposure} unhedged {r.unhedged_exposure}"
                  f" realized today {r.realized_today}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
