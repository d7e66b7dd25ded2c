"""Plain-text tables for people: what a scan found, and how markets were resolved.

Rendering only — every number comes from the services' results unchanged. For the eye, money is
shown to the cent and prices without trailing zeros (the exact values are in `--json`, the API and
the database); a market ticker is shortened to what its event ticker does not already say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from arb_pipeline.arb.money import CENT, decimal_text

if TYPE_CHECKING:  # imported for type hints only: rendering must stay cheap to import
    from arb_pipeline.arb.results import Leg, Opportunity
    from arb_pipeline.services.scan import ScanResult


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(map(str, r)) for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(text.rstrip() for text in out)


MAX_REASONS_SHOWN = 2  # a rejected candidate lists its first reasons; the rest are counted


def money(value: Decimal) -> str:
    """Dollars to the cent for display ("$6.61" for an expected 6.6063), with thousands separators."""
    cents = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return f"-${-cents:,.2f}" if cents < 0 else f"${cents:,.2f}"


def price(value: Decimal) -> str:
    """A price or odds as the venue quotes it: exact, without the storage scale ("0.24", not "0.240000")."""
    text = decimal_text(value)
    return text if "." in text and len(text.split(".")[1]) >= 2 else f"{value:.2f}"


def short_ticker(ticker: str, event: str | None = None) -> str:
    """A Kalshi market ticker without the event ticker it starts with ("…-BOS" next to its event)."""
    if event and ticker.startswith(event + "-") and len(ticker) > len(event) + 1:
        return "…" + ticker[len(event):]
    return ticker


def describe_leg(leg: Leg, event: str | None = None) -> str:
    if leg.venue == "kalshi":
        return (f"Kalshi {leg.side.upper()} {short_ticker(leg.market, event)} ({leg.outcome_label}) "
                f"{decimal_text(leg.size)} @ {price(leg.price)} fee {money(leg.fee)}")
    return f"{leg.market} back {leg.outcome_label} {money(leg.size)} @ {price(leg.price)}"


def summarize_reasons(reasons: Sequence[str], shown: int = MAX_REASONS_SHOWN) -> str:
    """The first reasons of a rejection, and how many more there are (all of them are in --json)."""
    head = "; ".join(reasons[:shown])
    return head + (f" (+{len(reasons) - shown} more)" if len(reasons) > shown else "")


def render_opportunities(opportunities: Sequence[Opportunity]) -> str:
    if not opportunities:
        return "no opportunities"
    rows = []
    for opp in sorted(opportunities, key=lambda o: (o.kind != "arbitrage", -o.edge_bps)):
        rows.append(
            [
                opp.kind,
                opp.event,
                " + ".join(describe_leg(leg, opp.event) for leg in opp.legs),
                money(opp.cost),
                money(opp.profit),
                f"{opp.roi * 100:.2f}%",
                f"{opp.edge_bps:.0f}",
                "yes" if getattr(opp, "executable", True) else "; ".join(opp.not_executable),
            ]
        )
    return _table(["kind", "event", "legs", "cost", "profit", "roi", "edge bps", "executable"], rows)


def scan_header(result: ScanResult, as_of_note: str = "") -> str:
    """Two lines: which snapshot, judged at what time (and why that time), and what came of it."""
    snap = result.snapshot
    det = result.detection
    res = result.resolution
    when = f"as of {result.as_of.isoformat()}" + (f" ({as_of_note})" if as_of_note else "")
    return (
        f"snapshot {snap.source or '-'} captured {snap.captured_at.isoformat()}  {when}\n"
        f"{len(snap.events)} Kalshi events, {len(snap.markets)} markets, {len(snap.quotes)} sportsbook quotes; "
        f"{len(res.rows)} markets resolved, {len(res.unresolved)} unresolved; "
        f"{len(det.opportunities)} opportunities, {len(det.rejected)} rejected candidates"
    )


def render_rejections(result: ScanResult, limit: int = 15) -> str:
    """Why candidates were turned down (first `limit`), and why markets did not resolve."""
    det, res = result.detection, result.resolution
    parts: list[str] = []
    if det.rejected:
        shown = det.rejected[:limit]
        parts += [
            f"rejected candidates ({len(det.rejected)}; first {len(shown)}):",
            _table(
                ["kind", "event", "candidate", "reasons"],
                [[r.kind, r.event, r.candidate, summarize_reasons(r.reasons)] for r in shown],
            ),
        ]
    if res.unresolved:
        shown_unresolved = res.unresolved[:limit]
        parts += [
            f"unresolved markets ({len(res.unresolved)}; first {len(shown_unresolved)}):",
            _table(["kind", "id", "reason"], [[u.kind, u.id, u.reason] for u in shown_unresolved]),
        ]
    return "\n".join(parts)


def render_opportunities_table(result: ScanResult, as_of_note: str = "") -> str:
    """The scan summary a person reads first, then the opportunities, then why others were rejected."""
    det = result.detection
    parts = [scan_header(result, as_of_note), "", render_opportunities(det.opportunities)]
    if det.rejected or result.resolution.unresolved:
        parts += ["", render_rejections(result)]
    return "\n".join(parts)


def render_resolution_table(resolution, as_of: datetime, as_of_note: str = "") -> str:
    rows = [
        [
            row.kalshi_market,
            row.sportsbook_event_id,
            f"{row.outcome.value}:{row.team_name}",
            row.method,
            f"{row.confidence:.2f}",
            row.start_time.isoformat(),
            "yes" if row.tradable else "no: " + "; ".join(row.guards),
        ]
        for row in resolution.rows
    ]
    parts = [
        f"as of {as_of.isoformat()}{f' ({as_of_note})' if as_of_note else ''}: "
        f"{len(resolution.rows)} resolved, {len(resolution.unresolved)} unresolved",
        "",
        _table(["kalshi market", "sportsbook event", "YES backs", "method", "conf", "start", "tradable"], rows)
        if rows
        else "nothing resolved",
    ]
    if resolution.unresolved:
        parts += [
            "",
            "unresolved:",
            _table(["kind", "id", "reason"], [[u.kind, u.id, u.reason] for u in resolution.unresolved]),
        ]
    return "\n".join(parts)
