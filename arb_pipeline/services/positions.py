"""Positions and P&L for the CLI and Dagster: hedge commands, one reconciliation, the P&L report, and
the game marks each scan records (closing line and start times).

Thin compositions of `services.hedges`, `services.ledger` and `services.reconcile`: no rule lives here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from arb_pipeline.arb.money import CENT
from arb_pipeline.arb.settlement import parse_result
from arb_pipeline.settings import Settings


def _money(text: str | Decimal | None) -> str:
    if text is None:
        return "-"
    value = Decimal(str(text)).quantize(CENT)
    return f"${value}" if value >= 0 else f"-${-value}"


def _sessions(settings: Settings):
    from arb_pipeline.storage.db import get_engine, session_factory
    from arb_pipeline.storage.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.effective_database_url)
    upgrade(engine)
    return session_factory(engine)


# --- hedges ---------------------------------------------------------------------------------------------


def hedge_command(args: Any, settings: Settings, *, at: datetime | None = None) -> str:
    """`arb-pipeline hedge list|placed|abandon` (argparse namespace in, text out)."""
    from arb_pipeline.services import hedges
    from arb_pipeline.services.alerts import default_alerter
    from arb_pipeline.services.operations import operator_name

    sessions = _sessions(settings)
    now = at or datetime.now(UTC)
    if args.action == "list":
        rows = hedges.list_hedges(sessions, statuses=args.status, limit=args.limit)
        return json.dumps(rows, indent=2) if args.json else hedges.render_hedges(rows)
    alert = default_alerter(settings).send
    who = operator_name(args.who)
    if args.action == "placed":
        placed = hedges.mark_placed(sessions, args.id, odds=args.odds, stake=args.stake, who=who, at=now,
                                    force=args.force, alert=alert)
        h = placed.hedge
        lines = [f"hedge {h['id']} placed: {h['bookmaker']} - back {h['selection']} {_money(h['placed_stake'])} at "
                 f"{h['placed_odds']} ({h['event']}), by {who}",
                 f"arbitrage locked profit: {_money(placed.locked_before)} as planned -> "
                 f"{_money(placed.locked_after)} as placed"]
        if placed.forced:
            lines.append(f"FORCED: {h['note']}")
        return "\n".join(lines)
    if args.action == "abandon":
        h = hedges.abandon(sessions, args.id, who=who, why=args.why, at=now, alert=alert)
        return (f"hedge {h['id']} abandoned: {h['bookmaker']} - {h['selection']} {_money(h['stake'])} ({h['event']}). "
                "Its Kalshi leg stays open and one-sided until the market settles; the breaker counts it.")
    raise ValueError(f"hedge: unknown action {args.action!r} (list, placed, abandon)")


# --- reconciliation ---------------------------------------------------------------------------------------


def market_results_source(settings: Settings, source: str | None = None) -> Callable[[list[str]], Mapping[str, str]] | None:
    """Who answers Kalshi market results: the simulator (demo credentials filled in) or Kalshi itself; a
    recorded source has no venue (None: results only by hand)."""
    source = (source or os.environ.get("ARB_MARKET_SOURCE") or "simulator").strip().lower()
    if source not in ("simulator", "live"):
        return None

    def ask(tickers: list[str]) -> Mapping[str, str]:
        from arb_pipeline.connectors.kalshi.client import KalshiClient
        from arb_pipeline.services.reconcile import kalshi_market_results
        from arb_pipeline.services.simulator import simulator_settings

        conf = simulator_settings(settings) if source == "simulator" else settings
        with KalshiClient.from_settings(conf) as client:
            return kalshi_market_results(client, tickers)

    return ask


def parse_results(items: Iterable[str]) -> dict[str, str]:
    """`--result TICKER=yes|no|void|VALUE` (VALUE: a scalar settlement in [0, 1], `arb.settlement`)."""
    out = {}
    for item in items:
        ticker, sep, result = item.partition("=")
        if not sep or not ticker.strip():
            raise ValueError(f"--result: expected TICKER=yes|no|void|VALUE, got {item!r}")
        out[ticker.strip()] = parse_result(result, f"--result {item!r}")
    return out


def run_reconcile(settings: Settings, *, as_of: datetime, results: Mapping[str, str] | None = None,
                  ask_venue: bool = True, source: str | None = None, sessions: Any = None, breaker: Any = None):
    """One reconciliation of the configured mode (what the schedule and `arb-pipeline reconcile` run)."""
    from arb_pipeline.services.operations import breaker_for
    from arb_pipeline.services.reconcile import reconcile

    breaker = breaker or breaker_for(settings)
    sessions = sessions or breaker.sessions
    venue = None
    if settings.mode == "live":
        from arb_pipeline.connectors.kalshi.client import KalshiClient

        venue = KalshiClient.from_settings(settings)
    return reconcile(mode=settings.mode, sessions=sessions, breaker=breaker, as_of=as_of, venue=venue,
                     settlement_results=results or {},
                     market_results=market_results_source(settings, source) if ask_venue else None,
                     intent_ttl=timedelta(seconds=settings.opportunity_ttl_s),
                     balance_tolerance=settings.balance_tolerance)


def reconcile_command(settings: Settings, *, results: Iterable[str] = (), ask_venue: bool = True,
                      as_of: datetime | None = None) -> str:
    report = run_reconcile(settings, as_of=as_of or datetime.now(UTC), results=parse_results(results),
                           ask_venue=ask_venue)
    lines = [f"reconciled ({report.mode}): {len(report.completed)} orders completed, {len(report.pending)} pending, "
             f"{len(report.mismatches)} mismatches"]
    if report.hedges_expired:
        lines.append(f"hedges expired (open exposure, alerted): {', '.join(map(str, report.hedges_expired))}")
    for ticker, pnl in sorted(report.settled.items()):
        lines.append(f"Kalshi {ticker} settled {report.results.get(ticker, '')}: realized {_money(pnl)}")
    for hedge_id, pnl in sorted(report.books_settled.items()):
        lines.append(f"sportsbook bet (hedge {hedge_id}) settled: realized {_money(pnl)}")
    lines += [f"waiting: {w}" for w in report.books_waiting]
    lines += [f"MISMATCH: {m}" for m in report.mismatches]
    if report.balance:
        lines.append(f"balance: {report.balance}")
    lines.append(f"today's realized P&L (both legs) {_money(report.daily_realized_pnl)}; open exposure "
                 f"{_money(report.open_exposure)} (unhedged {_money(report.unhedged_exposure)}); breaker "
                 f"{report.breaker_state.value}")
    return "\n".join(lines)


# --- P&L -------------------------------------------------------------------------------------------------


def pnl_command(settings: Settings, *, as_json: bool = False, as_of: datetime | None = None) -> str:
    from arb_pipeline.services.ledger import pnl_report
    from arb_pipeline.storage.db import session_scope

    with session_scope(_sessions(settings)) as session:
        report = pnl_report(session, settings.mode, as_of or datetime.now(UTC))
    return json.dumps(report, indent=2) if as_json else render_pnl(report)


def render_pnl(report: dict[str, Any]) -> str:
    lines = [f"P&L ({report['mode']}, both legs): realized total {_money(report['total_realized'])}, today "
             f"{_money(report['today_realized'])}; unrealized {_money(report['unrealized'])}; open exposure "
             f"{_money(report['open_exposure'])} (unhedged {_money(report['unhedged_exposure'])})"
             + (f"; CLV {report['clv_bps_average']:+.0f} bps" if report["clv_bps_average"] is not None else "")]
    if report["days"]:
        lines.append("per day (UTC): " + ", ".join(f"{d['day']} {_money(d['realized'])}" for d in report["days"]))
    for a in report["arbitrages"]:
        clv = a["clv"]
        clv_text = (f"CLV {_money(clv['clv_dollars'])} ({clv['clv_bps']:+.0f} bps{'' if clv['final'] else ', provisional'})"
                    if clv["clv_bps"] is not None else "CLV n/a")
        money = (f"realized {_money(a['realized'])}" if a["realized"] is not None
                 else f"unrealized {_money(a['unrealized'])}" if a["unrealized"] is not None else "open")
        lines.append(f"  {a['event']} [{a['status']}] Kalshi {_money(a['kalshi_cost'])} + book "
                     f"{_money(a['book_stakes'])}: locked {_money(a['locked_profit'])}, {money}; {clv_text}")
        for h in a["hedges"]:
            lines.append(f"      hedge {h['id']} {h['bookmaker']} {h['selection']} {h['status']} {_money(h['stake'])} "
                         f"@ {h['odds']}" + (f" -> {h['result']} {_money(h['payout'])}" if h["result"] else ""))
        if a["realized"] is None and a["waiting_for"]:
            lines.append(f"      waiting for: {a['waiting_for']}")
    return "\n".join(lines)


# --- game marks (each scan) ----------------------------------------------------------------------------


def mark_snapshot_games(sessions: Any, snapshot: Any, config: Any) -> int:
    """Resolve, assemble and price a stored capture's games, then `record_marks` them as of its capture time.

    For the reconcile job, which has no scan stages upstream: the same service functions the scan's stages
    call (`services.scan`), so the marks are what the scan would have computed.
    """
    from arb_pipeline.services.scan import build_games, price_games, resolve_snapshot

    resolution = resolve_snapshot(snapshot, config, snapshot.captured_at)
    assembly = build_games(snapshot, resolution, config)
    return record_marks(sessions, assembly.games, price_games(assembly.games, config), at=snapshot.captured_at)


def record_marks(sessions: Any, games: Iterable[Any], fair: Iterable[Any], *, at: datetime) -> int:
    """Record each matched game outcome's Kalshi market, start time and de-vigged consensus as seen `at`
    (`GameMarkRepository.mark`: only before the start does it move, so it ends as the closing line).
    Returns how many outcomes were marked."""
    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.repositories.marks import GameMarkRepository

    fair_by = {(f.event_ticker, str(getattr(f.outcome, "value", f.outcome))): f for f in fair}
    items: list[dict[str, Any]] = []
    for game in games:
        for outcome, contract in game.kalshi.items():
            key = str(getattr(outcome, "value", outcome))
            line = fair_by.get((game.event_ticker, key))
            ticker = getattr(contract, "ticker", None) or getattr(contract, "market", None)
            if not ticker:
                continue
            items.append(dict(event_ticker=game.event_ticker, outcome=key, kalshi_ticker=str(ticker),
                              league=str(getattr(game, "league", "") or ""), commence_time=game.commence_time,
                              fair_probability=line.fair_probability if line is not None else None,
                              method=line.method if line is not None else ""))
    with session_scope(sessions) as session:
        return GameMarkRepository(session).mark_many(items, at=at)
