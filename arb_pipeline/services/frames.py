"""Domain and service results ⇄ pandas DataFrames shaped by `arb_pipeline.schemas`.

The Dagster layer shows every stage as a frame (the UI's table, the pandera contract, the asset
check's failing rows); the services keep working on the domain records. This module is the only
place that knows both shapes.

Money: an exact column holds `Decimal` objects (object dtype) exactly as the domain record has them;
its float64 mirror `<name>_f` is for display and screening only (see `arb_pipeline.schemas`).
No arithmetic on money happens here beyond what is needed to *show* a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

import pandas as pd

from arb_pipeline.domain import MarketSnapshot
from arb_pipeline.schemas import (
    ExecutedOrdersFrame,
    ImpliedProbabilitiesFrame,
    KalshiMarketsFrame,
    OpportunitiesFrame,
    ResolvedEventsFrame,
    SportsbookOddsFrame,
    empty_frame,
)
from arb_pipeline.services import frame_columns

# --- small conversions -------------------------------------------------------------------------------


_FLOATABLE = frozenset({Decimal, int, float})


def to_float(value: object) -> float:
    """A display/screening mirror of an exact value (NaN for a missing one). Never feed it back."""
    if value is None:
        return float("nan")
    if type(value) in _FLOATABLE or isinstance(value, Decimal | int | float):  # the exact types: no MRO walk
        return float(value)
    try:
        return float(Decimal(str(value)))
    except Exception:  # noqa: BLE001 - a mirror is best effort; the exact column is the truth
        return float("nan")


def to_decimal(value: object) -> Decimal | None:
    """An exact value from a domain field: `Decimal` kept, int/str parsed exactly, floats refused."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"not a money value: {value!r}")
    if isinstance(value, int | str):
        return Decimal(str(value))
    raise TypeError(f"refusing to turn {type(value).__name__} {value!r} into an exact money value")


def utc(value: datetime | None) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str:  # the usual case, answered before the attribute lookup
        return value
    return value.value if hasattr(value, "value") and not isinstance(value, str) else str(value)


def _finish(rows: list[dict[str, Any]], model: type, datetime_columns: Iterable[str]) -> pd.DataFrame:
    """The frame of `rows` (one dict per row), each column typed up front (`frame_columns`) when every row
    has the same keys; rows with differing keys go to pandas' own row-by-row construction (a missing key
    is NaN there)."""
    if not rows:
        return empty_frame(model)
    first = list(rows[0])
    if len(first) > 1 and len(set(map(len, rows))) == 1:  # same size as the first row: its keys, or a KeyError
        try:
            values = list(zip(*map(itemgetter(*first), rows), strict=True))  # rows to columns in C
        except KeyError:
            pass
        else:
            return frame_columns.frame(dict(zip(first, values, strict=True)), datetime_columns)
    frame = pd.DataFrame(rows)
    for column in datetime_columns:
        if column in frame:
            frame[column] = frame_columns.to_utc(frame[column])
    return frame


# --- ingest ------------------------------------------------------------------------------------------


def kalshi_markets_frame(snapshot: MarketSnapshot, snapshot_id: int = 0) -> pd.DataFrame:
    """One row per Kalshi market with its top of book and depth (`KalshiMarketsFrame`)."""
    books_at = snapshot.books_captured_at or snapshot.captured_at
    book_age = abs((books_at - snapshot.captured_at).total_seconds())  # books vs. the rest of the capture
    rows: list[dict[str, Any]] = []
    for event in snapshot.events:
        for market in event.markets:
            book = snapshot.orderbooks.get(market.ticker)
            yes_levels = book.yes if book else ()
            no_levels = book.no if book else ()
            rows.append({
                "captured_at": snapshot.captured_at,
                "snapshot_id": snapshot_id,
                "series_ticker": event.series_ticker,
                "event_ticker": market.event_ticker,
                "ticker": market.ticker,
                "status": market.status,
                "market_type": market.market_type,
                "yes_sub_title": market.yes_sub_title,
                "occurrence_datetime": market.occurrence_datetime,
                "close_time": market.close_time,
                "yes_bid": market.yes_bid,
                "yes_ask": market.yes_ask,
                "no_bid": market.no_bid,
                "no_ask": market.no_ask,
                "yes_bid_f": to_float(market.yes_bid),
                "yes_ask_f": to_float(market.yes_ask),
                "yes_depth": sum((count for _, count in yes_levels), Decimal("0")),
                "no_depth": sum((count for _, count in no_levels), Decimal("0")),
                "book_levels": len(yes_levels) + len(no_levels),
                "book_age_s": book_age if book else float("nan"),
            })
    frame = _finish(rows, KalshiMarketsFrame, ("captured_at", "occurrence_datetime", "close_time"))
    if rows:
        frame["book_levels"] = frame["book_levels"].astype("int64")
    return frame


def sportsbook_odds_frame(snapshot: MarketSnapshot, snapshot_id: int = 0) -> pd.DataFrame:
    """One row per bookmaker price of one outcome of one game (`SportsbookOddsFrame`).

    Built column by column (one list per column, a row's values in the same order as before): a
    1,000-game capture has ~37,000 quotes, and a dict per row then pandas' row-to-column conversion was
    ~0.15 s of every scan run's capture step. Each quote's float mirror is its own `odds_f`
    (`float(decimal_odds)`, computed once when the quote was made); a quote's age is computed once per
    distinct update time."""
    quotes = snapshot.quotes
    if not quotes:
        return empty_frame(SportsbookOddsFrame)
    captured = snapshot.captured_at
    ages: dict[datetime, float] = {}
    odds_f = list(map(attrgetter("odds_f"), quotes))
    columns: dict[str, Any] = {
        "captured_at": [captured] * len(quotes),
        "snapshot_id": [snapshot_id] * len(quotes),
    }
    for name in ("provider", "bookmaker", "sport_key", "league", "event_id", "home_team", "away_team",
                 "commence_time", "market", "outcome", "outcome_name", "point", "decimal_odds"):
        columns[name] = list(map(attrgetter(name), quotes))
    columns["decimal_odds_f"] = odds_f
    columns["implied_prob_f"] = [(1.0 / f) if f else float("nan") for f in odds_f]
    columns["last_update"] = updates = list(map(attrgetter("last_update"), quotes))
    columns["fetched_at"] = list(map(attrgetter("fetched_at"), quotes))
    columns["quote_age_s"] = [ages.get(u) if u in ages else ages.setdefault(u, (captured - u).total_seconds())
                              for u in updates]
    return frame_columns.frame(columns, ("captured_at", "commence_time", "last_update", "fetched_at"))


# --- resolve -----------------------------------------------------------------------------------------

_UNRESOLVED_ROW = {
    "resolved": False, "tradable": False, "league": None, "event_id": None, "outcome": None, "market": None,
    "point": None, "team_name": None,
    "home_team": None, "away_team": None, "commence_time": None, "confidence": float("nan"), "method": None,
    "guards": None,
}


def resolved_events_frame(snapshot: MarketSnapshot, resolution: Any, snapshot_id: int = 0) -> pd.DataFrame:
    """Every Kalshi market of the snapshot: its match (`mapping.results.ResolvedMarket`) or why not.

    An `Unresolved` names a market (kind `kalshi_market`) or a whole event (kind `kalshi_event`);
    sportsbook-side misses have no Kalshi market and are left to the resolution's own report.
    """
    matched = {row.kalshi_market: row for row in resolution.rows}
    lines = {line.kalshi_market: line for line in getattr(resolution, "lines", ())}
    reasons: dict[str, str] = {}
    for miss in resolution.unresolved:
        kind = _text(miss.kind)
        if kind in ("kalshi_market", "kalshi_event"):
            reasons.setdefault(miss.id, miss.reason)
    rows: list[dict[str, Any]] = []
    for market in snapshot.markets:
        base = {"captured_at": snapshot.captured_at, "snapshot_id": snapshot_id, "ticker": market.ticker,
                "event_ticker": market.event_ticker}
        line = lines.get(market.ticker)
        if line is not None:  # a spread/total market: the side of the book's line at this point
            rows.append({
                **base, "resolved": True, "tradable": bool(line.tradable), "league": line.league,
                "event_id": line.sportsbook_event_id, "outcome": _text(line.yes_outcome),
                "market": line.book_market, "point": line.point, "team_name": line.label,
                "home_team": line.home_team, "away_team": line.away_team, "commence_time": line.start_time,
                "confidence": float(line.confidence), "method": _text(line.method),
                "guards": "; ".join(line.guards) or None, "reason": None,
            })
            continue
        row = matched.get(market.ticker)
        if row is None:
            reason = reasons.get(market.ticker) or reasons.get(market.event_ticker) or "not matched"
            rows.append({**base, **_UNRESOLVED_ROW, "reason": reason})
            continue
        rows.append({
            **base,
            "resolved": True,
            "tradable": bool(row.tradable),
            "league": row.league,
            "event_id": row.sportsbook_event_id,
            "outcome": _text(row.outcome),
            "market": "h2h",
            "point": None,
            "team_name": row.team_name,
            "home_team": row.home_team,
            "away_team": row.away_team,
            "commence_time": row.start_time,
            "confidence": float(row.confidence),
            "method": _text(row.method),
            "guards": "; ".join(row.guards) or None,
            "reason": None,
        })
    frame = _finish(rows, ResolvedEventsFrame, ("captured_at", "commence_time"))
    if rows:
        frame["resolved"] = frame["resolved"].astype(bool)
        frame["tradable"] = frame["tradable"].astype(bool)
        frame["confidence"] = frame["confidence"].astype("float64")
    return frame


# --- pricing -----------------------------------------------------------------------------------------


def _overround(booksum: float | None) -> float:
    return float("nan") if booksum is None else float(booksum) - 1.0


def implied_probabilities_frame(snapshot: MarketSnapshot, fair_lines: Iterable[Any], devig_method: str,
                                snapshot_id: int = 0) -> pd.DataFrame:
    """One row per `services.scan.FairLine` (`ImpliedProbabilitiesFrame`)."""
    rows: list[dict[str, Any]] = []
    for line in fair_lines:
        fair = line.fair_probability
        rows.append({
            "captured_at": snapshot.captured_at,
            "snapshot_id": snapshot_id,
            "ticker": line.kalshi_market,
            "event_ticker": line.event_ticker,
            "league": line.league,
            "outcome": _text(line.outcome),
            "market": getattr(line, "market", "h2h"),
            "point": getattr(line, "point", None),
            "label": line.label,
            "devig_method": line.method or devig_method,
            "fair_prob": float("nan") if fair is None else float(fair),
            "n_books": len(line.books_used),
            "books_used": ",".join(line.books_used),
            "overround_min": _overround(line.booksum_min),
            "overround_max": _overround(line.booksum_max),
            "kalshi_yes_ask": line.yes_ask,
            "kalshi_no_ask": line.no_ask,
            "kalshi_yes_ask_f": to_float(line.yes_ask),
            "kalshi_no_ask_f": to_float(line.no_ask),
            "yes_edge_bps": to_float(line.yes_edge_bps),
            "no_edge_bps": to_float(line.no_edge_bps),
            "reason": line.reason,
        })
    frame = _finish(rows, ImpliedProbabilitiesFrame, ("captured_at",))
    if rows:
        frame["n_books"] = frame["n_books"].astype("int64")
        for column in ("fair_prob", "overround_min", "overround_max", "yes_edge_bps", "no_edge_bps"):
            frame[column] = frame[column].astype("float64")
    return frame


# --- opportunities -----------------------------------------------------------------------------------


def opportunity_id(opp: Any) -> str:
    """The opportunity's id exactly as execution derives it (`execution.ids`): the frame, the
    database and the order's client_order_id all name it the same way."""
    from arb_pipeline.execution.ids import opportunity_id as id_of
    from arb_pipeline.execution.ids import opportunity_key

    legs = [(leg.venue, leg.market, str(_text(leg.outcome)), leg.side, leg.size) for leg in opp.legs]
    return id_of(opportunity_key(opp.kind, opp.event, legs, opp.detected_at))


def describe_kalshi_leg(leg: Any) -> str:
    return f"BUY {str(_text(leg.side)).upper()} {leg.market} {leg.size} @ {leg.price}"


def describe_hedge_leg(leg: Any) -> str:
    return f"BACK {leg.outcome_label} at {leg.market} @ {leg.price} stake ${leg.size}"


def opportunities_frame(opportunities: Iterable[Any], detected_at: datetime, snapshot_id: int = 0) -> pd.DataFrame:
    """Sized opportunities (`OpportunitiesFrame`); column `record` keeps the `Opportunity` itself."""
    rows: list[dict[str, Any]] = []
    for opp in opportunities:
        kalshi = [leg for leg in opp.legs if leg.venue == "kalshi"]
        books = [leg for leg in opp.legs if leg.venue != "kalshi"]
        ages = [float(a) for a in (opp.quote_ages or {}).values()] + [float(leg.quote_age_s) for leg in opp.legs]
        rows.append({
            "detected_at": opp.detected_at or detected_at,
            "snapshot_id": snapshot_id,
            "opportunity_id": opportunity_id(opp),
            "kind": opp.kind,
            "event_ticker": opp.event,
            "league": opp.league,
            "n_legs": len(opp.legs),
            "kalshi_legs": "; ".join(describe_kalshi_leg(leg) for leg in kalshi),
            "hedge": "; ".join(describe_hedge_leg(leg) for leg in books) or None,
            "kalshi_contracts": sum((leg.size for leg in kalshi), Decimal("0")),
            "kalshi_cost": sum((leg.cost for leg in kalshi), Decimal("0")),
            "cost": opp.cost,
            "profit": opp.profit,
            "edge_bps": to_float(opp.edge_bps),
            "cost_f": to_float(opp.cost),
            "profit_f": to_float(opp.profit),
            "fair_probability": to_float(opp.fair_probability),
            "max_quote_age_s": max(ages) if ages else float("nan"),
            "executable": bool(getattr(opp, "executable", True)),
            "not_executable": "; ".join(getattr(opp, "not_executable", ())) or None,
            "market": getattr(opp, "market", "h2h"),
            "point": getattr(opp, "point", None),
            "outcomes": ",".join(_text(o) or "" for o in opp.payouts) if opp.kind == "arbitrage" else None,
            "record": opp,
        })
    frame = _finish(rows, OpportunitiesFrame, ("detected_at",))
    if rows:
        frame["n_legs"] = frame["n_legs"].astype("int64")
        frame["executable"] = frame["executable"].astype(bool)
    else:
        frame["record"] = pd.Series([], dtype=object)
    return frame


def records(frame: pd.DataFrame) -> list[Any]:
    """The domain objects a frame was built from (its `record` column), in row order."""
    return list(frame["record"]) if "record" in frame.columns else []


# --- execution ---------------------------------------------------------------------------------------


def executed_orders_frame(outcomes: Iterable[Any], mode: str, created_at: datetime) -> pd.DataFrame:
    """One row per `services.execute.OrderOutcome` (`ExecutedOrdersFrame`)."""
    rows: list[dict[str, Any]] = []
    for o in outcomes:
        rows.append({
            "client_order_id": o.client_order_id,
            "opportunity_id": o.opportunity_id,
            "leg_index": int(o.leg_index),
            "ticker": o.ticker,
            "side": _text(o.side),
            "status": o.status,
            "fill_count": to_decimal(o.fill_count),
            "cost": to_decimal(o.cost),
            "cost_f": to_float(o.cost),
            "mode": mode,
            "reason": o.reason or None,
            "created_at": created_at,
        })
    frame = _finish(rows, ExecutedOrdersFrame, ("created_at",))
    if rows:
        frame["leg_index"] = frame["leg_index"].astype("int64")
    return frame


# --- display -----------------------------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, limit: int = 10) -> str:
    """A small markdown table for Dagster metadata (no third-party formatter)."""
    if frame.empty:
        return "_(no rows)_"
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = frame[cols].head(limit)

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    if len(frame) > limit:
        lines.append(f"\n_{len(frame) - limit} more rows_")
    return "\n".join(lines)
