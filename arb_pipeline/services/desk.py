"""What the operator's desk reads: the latest scan and its opportunities, orders, fills, positions by
game, hedges to place, alerts. One implementation for the REST API, the dashboard and the CLI.

Every function takes a session and returns JSON-ready dicts: exact amounts as canonical decimal
text (`arb.money.decimal_text`), times as ISO 8601 UTC. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from arb_pipeline.arb.money import decimal_text
from arb_pipeline.storage.models import DetectedOpportunity, HedgeInstruction, Order, Position, ScanRecord
from arb_pipeline.storage.repositories.alerts import AlertRepository
from arb_pipeline.storage.repositories.desk import DeskQueries
from arb_pipeline.storage.repositories.scans import ScanRepository

ZERO = Decimal(0)
SCOPES = ("latest", "history")


def money(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def when(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def event_of_ticker(ticker: str) -> str:
    """A Kalshi game market's event ticker: the market ticker without its last segment."""
    return ticker.rsplit("-", 1)[0] if "-" in ticker else ticker


# --- scans and opportunities ------------------------------------------------------------------------


def scan_dict(row: ScanRecord, now: datetime) -> dict[str, Any]:
    return {
        "snapshot_id": row.snapshot_id,
        "source": row.source,
        "captured_at": when(row.captured_at),
        "age_s": max(0.0, (now - row.captured_at).total_seconds()),
        "kalshi_markets": row.kalshi_markets,
        "sportsbook_quotes": row.sportsbook_quotes,
        "odds_quota_remaining": row.odds_quota_remaining,
        "kalshi_book_age_s": row.kalshi_book_age_s,
        "book_quote_age_median_s": row.book_quote_age_median_s,
        "book_quote_age_max_s": row.book_quote_age_max_s,
        "sports_failed": row.sports_failed,
        "detected": row.detected_at is not None,
        "opportunities": row.opportunities,
        "arbitrage": row.arbitrage,
        "value": row.value,
        "rejected": row.rejected,
        "best_edge_bps": row.best_edge_bps,
    }


def latest_scan(session: Session, now: datetime) -> dict[str, Any] | None:
    row = ScanRepository(session).latest()
    return scan_dict(row, now) if row else None


def recent_scans(session: Session, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """The last `limit` scans, oldest first (the order a chart draws them in)."""
    return [scan_dict(r, now) for r in reversed(ScanRepository(session).recent(limit))]


def _order_summary(order: Order) -> dict[str, Any]:
    return {"client_order_id": order.client_order_id, "leg_index": order.leg_index, "ticker": order.ticker,
            "side": order.outcome_side, "status": order.status, "count": money(order.count),
            "fill_count": money(order.fill_count)}


def opportunity_dict(row: DetectedOpportunity, now: datetime, orders: Iterable[Order] = ()) -> dict[str, Any]:
    payload = row.payload or {}
    return {
        "opportunity_id": row.opportunity_id,
        "snapshot_id": row.snapshot_id,
        "kind": row.kind,
        "league": row.league,
        "event": row.event_ticker,
        "executable": row.executable,
        "detected_at": when(row.detected_at),
        "age_s": max(0.0, (now - row.detected_at).total_seconds()),
        "cost": payload.get("cost") or money(row.cost),
        "profit": payload.get("profit") or money(row.profit),
        "roi": payload.get("roi"),
        "edge_bps": payload.get("edge_bps") or decimal_text(Decimal(repr(row.edge_bps))),
        "max_quote_age_s": row.max_quote_age_s,
        "fair_probability": payload.get("fair_probability"),
        "legs": [_leg(leg) for leg in payload.get("legs", [])],
        "reasons": list(payload.get("reasons", [])),
        "orders": [_order_summary(o) for o in orders],
    }


def _leg(leg: dict[str, Any]) -> dict[str, Any]:
    keys = ("venue", "market", "outcome", "outcome_side", "side", "price", "size", "fee", "cost", "payout",
            "quote_age_s", "bookmaker")
    return {key: leg.get(key) for key in keys}


def opportunities(session: Session, *, now: datetime, scope: str = "latest", kinds: Iterable[str] | None = None,
                  league: str | None = None, executable: bool | None = None, since: datetime | None = None,
                  limit: int = 100) -> dict[str, Any]:
    """The latest scan's opportunities (executable first, then by edge), or the history (newest first).

    "latest" is the most recent scan whose detection finished: a scan that found nothing shows an
    empty list with its scan row, never the previous scan's opportunities.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    repo = ScanRepository(session)
    scan = repo.latest(detected=True)
    if scope == "latest" and scan is None:
        return {"scope": scope, "scan": None, "opportunities": []}
    rows = repo.opportunities(snapshot_id=scan.snapshot_id if scope == "latest" else None, kinds=kinds,
                              league=league, executable=executable, since=since, limit=limit)
    if scope == "latest":
        rows.sort(key=lambda r: (not r.executable, -r.edge_bps))
    by_opportunity: dict[str, list[Order]] = defaultdict(list)
    for order in DeskQueries(session).orders(opportunity_ids={r.opportunity_id for r in rows}, limit=10 * limit + 10):
        by_opportunity[order.opportunity_id].append(order)
    return {
        "scope": scope,
        "scan": scan_dict(scan, now) if scan is not None else None,
        "opportunities": [opportunity_dict(r, now, sorted(by_opportunity.get(r.opportunity_id, []),
                                                          key=lambda o: o.leg_index)) for r in rows],
    }


# --- orders, fills, positions, hedges, alerts -------------------------------------------------------


def order_dict(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "opportunity_id": order.opportunity_id,
        "leg_index": order.leg_index,
        "purpose": order.purpose,
        "mode": order.mode,
        "ticker": order.ticker,
        "event": event_of_ticker(order.ticker),
        "book_side": order.book_side,
        "side": order.outcome_side,
        "count": money(order.count),
        "limit_price": money(order.limit_price),
        "status": order.status,
        "fill_count": money(order.fill_count),
        "average_fill_price": money(order.average_fill_price),
        "fill_notional": money(order.fill_notional),
        "fees": money(order.fees),
        "error": order.error,
        "created_at": when(order.created_at),
        "sent_at": when(order.sent_at),
        "updated_at": when(order.updated_at),
    }


def orders(session: Session, *, statuses: Iterable[str] | None = None, mode: str | None = None,
           since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    return [order_dict(o) for o in DeskQueries(session).orders(statuses=statuses, mode=mode, since=since,
                                                                limit=limit)]


def fills(session: Session, *, since: datetime | None = None, ticker: str | None = None, mode: str | None = None,
          limit: int = 100) -> list[dict[str, Any]]:
    return [
        {"id": fill.id, "client_order_id": order.client_order_id, "opportunity_id": order.opportunity_id,
         "mode": order.mode, "ticker": fill.ticker, "side": fill.outcome_side, "count": money(fill.count),
         "price": money(fill.price), "fee": money(fill.fee), "filled_at": when(fill.filled_at),
         "venue_fill_id": fill.venue_fill_id}
        for fill, order in DeskQueries(session).fills(since=since, ticker=ticker, mode=mode, limit=limit)
    ]


def _position_dict(position: Position) -> dict[str, Any]:
    return {"ticker": position.ticker, "side": "yes" if position.count > 0 else ("no" if position.count < 0 else None),
            "contracts": money(abs(position.count)), "cost": money(position.cost),
            "fees_paid": money(position.fees_paid), "realized_pnl": money(position.realized_pnl),
            "settled": position.settled, "updated_at": when(position.updated_at)}


def positions_by_game(session: Session, mode: str, *, include_settled: bool = False) -> list[dict[str, Any]]:
    """Positions grouped by the game (Kalshi event) they are on, the largest cost at risk first."""
    queries = DeskQueries(session)
    rows = queries.positions(mode, include_settled=include_settled)
    events = queries.events_of_tickers(p.ticker for p in rows)
    games: dict[str, list[Position]] = defaultdict(list)
    for position in rows:
        games[events.get(position.ticker) or event_of_ticker(position.ticker)].append(position)
    out = [
        {"event": event, "mode": mode, "cost": money(sum((p.cost for p in held), ZERO)),
         "realized_pnl": money(sum((p.realized_pnl for p in held), ZERO)),
         "positions": [_position_dict(p) for p in held]}
        for event, held in games.items()
    ]
    return sorted(out, key=lambda g: (-Decimal(g["cost"]), g["event"]))


def hedge_dict(row: HedgeInstruction) -> dict[str, Any]:
    return {
        "id": row.id,
        "opportunity_id": row.opportunity_id,
        "client_order_id": row.client_order_id,
        "leg_index": row.leg_index,
        "bookmaker": row.bookmaker,
        "event": row.event,
        "selection": row.selection,
        "odds": money(row.odds),
        "stake": money(row.stake),
        "worst_acceptable_odds": money(row.worst_acceptable_odds),
        "status": row.status,
        "note": row.note,
        "created_at": when(row.created_at),
        "mode": row.mode,
        "outcome": row.outcome,
        "commission_rate": money(row.commission_rate),
        "game_start": when(row.game_start),
        "expires_at": when(row.expires_at),
        "placed_odds": money(row.placed_odds),
        "placed_stake": money(row.placed_stake),
        "placed_at": when(row.placed_at),
        "closed_at": when(row.closed_at),
        "acted_by": row.acted_by,
        "result": row.result,
        "payout": money(row.payout),
        "commission": money(row.commission),
        "settled_at": when(row.settled_at),
    }


def hedges(session: Session, *, statuses: Iterable[str] | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Hedge instructions for the sportsbook legs, the pending ones (to place now) first."""
    return [hedge_dict(h) for h in DeskQueries(session).hedges(statuses=statuses, limit=limit)]


def unhedged_exposure(session: Session, mode: str) -> Decimal:
    """What the filled Kalshi legs of opportunities with a hedge still to place cost: the money at risk
    until a person places the sportsbook leg (fills and fees, exact)."""
    total = ZERO
    for order in DeskQueries(session).unhedged_orders(mode):
        total += (order.fill_notional or ZERO) + (order.fees or ZERO)
    return total


def alerts(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {"dedup_key": a.dedup_key, "severity": a.severity, "title": a.title, "body": a.body,
         "first_at": when(a.first_at), "last_sent_at": when(a.last_sent_at), "last_seen_at": when(a.last_seen_at),
         "sent_count": a.sent_count, "suppressed_count": a.suppressed_count,
         "channels": [c for c in a.channels.split(",") if c]}
        for a in AlertRepository(session).recent(limit)
    ]
