"""Plain-text tables for people: what a scan found, and how markets were resolved.

Rendering only — every number comes from the services' results unchanged (Decimals are printed as
they are, never re-rounded through floats).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

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
    return "\n".join(out)


def _money(value: Decimal) -> str:
    return f"${value:,.2f}" if value == value.quantize(Decimal("0.01")) else f"${value:,.4f}"


def describe_leg(leg: Leg) -> str:
    if leg.venue == "kalshi":
        return f"Kalshi {leg.side.upper()} {leg.market} ({leg.outcome_label}) {leg.size} @ {leg.price} fee {leg.fee}"
    return f"{leg.market} back {leg.outcome_label} {_money(leg.size)} @ {leg.price}"


def render_opportunities(opportunities: Sequence[Opportunity]) -> str:
    if not opportunities:
        return "no opportunities"
    rows = []
    for opp in sorted(opportunities, key=lambda o: (o.kind != "arbitrage", -o.edge_bps)):
        rows.append(
            [
                opp.kind,
                opp.event,
                " + ".join(describe_leg(leg) for leg in opp.legs),
                _money(opp.cost),
                _money(opp.profit),
                f"{opp.roi * 100:.2f}%",
                f"{opp.edge_bps:.0f}",
            ]
        )
    return _table(["kind", "event", "legs", "cost", "profit", "roi", "edge bps"], rows)


def render_opportunities_table(result: ScanResult) -> str:
    """The scan summary a person reads first, then the opportunities, then why others were rejected."""
    snap = result.snapshot
    det = result.detection
    res = result.resolution
    header = (
        f"snapshot {snap.source or '-'} captured {snap.captured_at.isoformat()}  as of {result.as_of.isoformat()}\n"
        f"{len(snap.events)} Kalshi events, {len(snap.markets)} markets, {len(snap.quotes)} sportsbook quotes; "
        f"{len(res.rows)} markets resolved, {len(res.unresolved)} unresolved; "
        f"{len(det.opportunities)} opportunities, {len(det.rejected)} rejected candidates"
    )
    parts = [header, "", render_opportunities(det.opportunities)]
    if det.rejected:
        shown = det.rejected[:15]
        parts += [
            "",
            f"rejected candidates ({len(det.rejected)}; first {len(shown)}):",
            _table(
                ["kind", "event", "candidate", "reasons"],
                [[r.kind, r.event, r.candidate, "; ".join(r.reasons)] for r in shown],
            ),
        ]
    return "\n".join(parts)


def render_resolution_table(resolution, as_of: datetime) -> str:
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
        f"as of {as_of.isoformat()}: {len(resolution.rows)} resolved, {len(resolution.unresolved)} unresolved",
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
