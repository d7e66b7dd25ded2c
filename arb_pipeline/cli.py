"""`arb-pipeline …`: the command-line entry point.

Thin on purpose: every subcommand parses its arguments and calls the same services the Dagster
assets and the API call, so a rule lives in one place. Heavy imports happen inside the handlers so
`arb-pipeline --help` answers instantly.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

DESCRIPTION = """\
arb_pipeline: find and trade price differences between Kalshi prediction markets and sportsbook
odds. It resolves every Kalshi game market to its sportsbook game and outcome, removes the
bookmakers' margin, detects arbitrage and +EV opportunities net of Kalshi's fees, sizes them
against the order book, and executes the Kalshi leg behind a circuit breaker (paper by default).
"""

EPILOG = """\
examples:
  arb-pipeline scan --sample                      scan the bundled sample snapshot
  arb-pipeline scan --snapshot DIR --json         scan a recorded snapshot, print JSON
  arb-pipeline resolve --snapshot DIR --json      show how every Kalshi market was matched
  arb-pipeline mapping reject KXNBAGAME-26NOV24BOSNYK-NYK --why "wrong game" --who alice
  arb-pipeline sim --port 8765                    run the local venue simulator
  arb-pipeline db upgrade                         create/upgrade the database
  arb-pipeline breaker status|trip|reset          inspect or operate the circuit breaker
  arb-pipeline hedge list                         sportsbook legs to place by hand (pending first)
  arb-pipeline hedge placed 7 --odds 2.20 --stake 11.11   mark hedge 7 placed as actually taken
  arb-pipeline reconcile                          expire hedges, settle both legs, feed the breaker
  arb-pipeline pnl                                realized P&L per day and per arbitrage, CLV
  arb-pipeline run --cycles 3                     run the scan pipeline headless, 3 times
  arb-pipeline demo                               simulator + database + Dagster UI (make demo)
  arb-pipeline worker                             trade on websocket books (needs ARB_TRADER=worker)

Configuration comes from environment variables (see .env.example); paper mode is the default.
"""


T = TypeVar("T")


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 / RFC 3339 time; a naive time is taken as UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--as-of: {value!r} is not an ISO 8601 time (e.g. 2026-11-24T17:00:00Z)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _snapshot_arg(args: argparse.Namespace) -> Path:
    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

    if getattr(args, "sample", False):
        return SAMPLE_SNAPSHOT_DIR
    if not args.snapshot:
        raise CliError("give --snapshot DIR (a recorded snapshot directory) or --sample")
    path = Path(args.snapshot)
    if not path.is_dir():
        raise CliError(f"--snapshot: {path} is not a directory")
    return path


def scan_config():
    """Scan settings plus the overrides stored in the database, when there is a database to read."""
    from arb_pipeline.services.mappings import configured_scan
    from arb_pipeline.settings import get_settings

    return configured_scan(get_settings())


# --- scan / resolve ------------------------------------------------------------------------------


def _as_of_note(args: argparse.Namespace) -> str:
    from arb_pipeline.services.scan import CAPTURE_TIME_NOTE, GIVEN_TIME_NOTE

    return GIVEN_TIME_NOTE if args.as_of else CAPTURE_TIME_NOTE


def cmd_scan(args: argparse.Namespace) -> int:
    from arb_pipeline.services.report import render_opportunities_table, render_rejections, scan_header
    from arb_pipeline.services.scan import scan_directory

    result = _left_to_exit(scan_directory(_snapshot_arg(args), scan_config(), as_of=args.as_of))
    if args.json:
        # stdout stays the list of opportunities (for jq and scripts); a person still learns from
        # stderr which moment the snapshot was judged at and, when nothing was found, why not
        print(json.dumps([o.to_dict() for o in result.detection.opportunities], indent=2))
        print(scan_header(result, _as_of_note(args)), file=sys.stderr)
        if not result.detection.opportunities:
            why = render_rejections(result) or "no candidate passed the screen (no priced game had an edge)"
            print(why, file=sys.stderr)
    else:
        print(render_opportunities_table(result, _as_of_note(args)))
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from arb_pipeline.services.report import render_resolution_table
    from arb_pipeline.services.scan import resolve_directory

    resolution, as_of = _left_to_exit(resolve_directory(_snapshot_arg(args), scan_config(), as_of=args.as_of))
    if args.json:
        print(json.dumps(resolution.to_dict(), indent=2, default=str))
    else:
        print(render_resolution_table(resolution, as_of, _as_of_note(args)))
    return 0


# --- mapping overrides ---------------------------------------------------------------------------


def cmd_mapping(args: argparse.Namespace) -> int:
    from arb_pipeline.services.mappings import run_mapping_command
    from arb_pipeline.settings import get_settings

    output = run_mapping_command(args, get_settings())
    print(output)
    return 0


# --- simulator, database, breaker, pipeline ------------------------------------------------------


def cmd_sim(args: argparse.Namespace) -> int:
    from arb_pipeline.settings import get_settings
    from arb_pipeline.sim.cli import run_sim

    run_sim(
        host=args.host,
        port=args.port,
        kalshi_key_id=args.kalshi_key_id,
        kalshi_public_key_path=Path(args.kalshi_public_key) if args.kalshi_public_key else None,
        seed=args.seed,
        data_dir=get_settings().data_dir,
        extended=args.extended,
    )
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from arb_pipeline.settings import get_settings
    from arb_pipeline.storage.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    print(f"database is at the latest revision ({_redact_url(settings.effective_database_url)})")
    return 0


def cmd_breaker(args: argparse.Namespace) -> int:
    from arb_pipeline.services.operations import breaker_command
    from arb_pipeline.settings import get_settings

    print(breaker_command(args.action, reason=args.reason, who=args.who, settings=get_settings()))
    return 0


def cmd_hedge(args: argparse.Namespace) -> int:
    from arb_pipeline.services.positions import hedge_command
    from arb_pipeline.settings import get_settings

    try:
        print(hedge_command(args, get_settings()))
    except KeyError as exc:  # no such hedge
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from None
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from arb_pipeline.services.positions import reconcile_command
    from arb_pipeline.settings import get_settings

    print(reconcile_command(get_settings(), results=args.result, ask_venue=not args.no_venue, as_of=args.as_of))
    return 0


def cmd_pnl(args: argparse.Namespace) -> int:
    from arb_pipeline.services.positions import pnl_command
    from arb_pipeline.settings import get_settings

    print(pnl_command(get_settings(), as_json=args.json, as_of=args.as_of))
    return 0


def cmd_prune_history(args: argparse.Namespace) -> int:
    from arb_pipeline.services.retention import prune_history_command
    from arb_pipeline.settings import get_settings

    report = prune_history_command(get_settings(), now=args.as_of or datetime.now(UTC), dry_run=args.dry_run)
    print(report.summary())
    return 0


def cmd_odds_credits(args: argparse.Namespace) -> int:
    from arb_pipeline.services.odds_credits import project_monthly_credits
    from arb_pipeline.settings import get_settings

    projection = project_monthly_credits(get_settings(), scan_interval_s=args.scan_interval)
    if args.json:
        print(json.dumps(projection.as_dict(), indent=2))
    else:
        print(projection.describe())
        for sport in projection.sports:
            print(f"  {sport.sport}: every {sport.poll_every_s:g}s x {sport.credits_per_call} credit(s) = "
                  f"{sport.credits_per_month:,}/month")
    return 0 if projection.within_quota else 1


def cmd_run(args: argparse.Namespace) -> int:
    from arb_pipeline.launch.headless import run_cycles_cli

    return run_cycles_cli(cycles=args.cycles, interval_s=args.interval, source=args.source)


def cmd_api(args: argparse.Namespace) -> int:
    from arb_pipeline.api.security import TokenConfigError
    from arb_pipeline.api.server import serve
    from arb_pipeline.settings import get_settings

    settings = get_settings()
    try:
        serve(settings, args.host or settings.api_host, args.port or settings.api_port)
    except TokenConfigError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from arb_pipeline.services.worker import run_worker, worker_settings
    from arb_pipeline.settings import get_settings

    try:
        settings = worker_settings(get_settings())
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        return run_worker(settings, max_seconds=args.seconds)
    except KeyboardInterrupt:
        print("worker: stopped (Ctrl-C)")
        return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from arb_pipeline.launch.demo import DemoError, run_demo

    try:
        return run_demo(port=args.port, ui_port=args.ui_port, api_port=args.api_port, headless_cycles=args.cycles)
    except DemoError as exc:
        raise CliError(str(exc)) from None


def _redact_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - printing must never fail on an odd URL
        return "<database url>"


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arb-pipeline",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add_snapshot_args(p: argparse.ArgumentParser) -> None:
        src = p.add_mutually_exclusive_group()
        src.add_argument("--snapshot", metavar="DIR", help="a recorded snapshot directory (venue responses)")
        src.add_argument("--sample", action="store_true", help="use the bundled sample snapshot")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.add_argument(
            "--as-of",
            type=parse_time,
            default=None,
            metavar="TIME",
            help="evaluate staleness and game start against TIME instead of now (ISO 8601)",
        )

    p = sub.add_parser(
        "scan",
        help="scan a recorded snapshot for arbitrage and +EV opportunities",
        description="Resolve, price and scan a snapshot directory: kalshi_events.json, "
        "kalshi_orderbooks.json, odds_<sport_key>.json per sport, optional meta.json, "
        "kalshi_series.json and kalshi_exchange_status.json.",
    )
    add_snapshot_args(p)
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser(
        "resolve",
        help="match each Kalshi market to its sportsbook game and outcome",
        description="Print resolved rows (market, game, outcome, method, confidence, guards) and "
        "the unresolved items with the reason for each.",
    )
    add_snapshot_args(p)
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("mapping", help="list, confirm, reject or override market mappings")
    msub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    m = msub.add_parser("list", help="list manual overrides (and, with --snapshot, current mappings)")
    m.add_argument("--snapshot", metavar="DIR", help="also resolve this snapshot and list its mappings")
    m.add_argument("--json", action="store_true", help="print JSON instead of text")
    for action, text in (
        ("confirm", "confirm a proposed (fuzzy) mapping so it may trade"),
        ("reject", "reject a mapping: the market is never matched to that game"),
    ):
        m = msub.add_parser(action, help=text)
        m.add_argument("ticker", help="Kalshi market ticker (or event ticker with --event)")
        m.add_argument("--event", action="store_true", help="the ticker is a Kalshi event ticker")
        m.add_argument("--game", metavar="EVENT_ID", help="sportsbook event id (default: any)")
        m.add_argument("--why", required=True, help="why (kept with the decision)")
        m.add_argument("--who", default=None, help="who decided (default: $USER)")
        m.add_argument("--store", choices=["file", "db"], default="file",
                       help="file: mapping_overrides.yaml (reviewable in git, default); db: the database")
    m = msub.add_parser("override", help="force a market onto a sportsbook game and outcome")
    m.add_argument("ticker", help="Kalshi market ticker")
    m.set_defaults(event=False)
    m.add_argument("--game", metavar="EVENT_ID", required=True, help="sportsbook event id")
    m.add_argument("--outcome", required=True, choices=["home", "away", "draw"], help="what YES backs")
    m.add_argument("--why", required=True, help="why (kept with the decision)")
    m.add_argument("--who", default=None, help="who decided (default: $USER)")
    m.add_argument("--store", choices=["file", "db"], default="file",
                   help="file: mapping_overrides.yaml (reviewable in git, default); db: the database")
    p.set_defaults(func=cmd_mapping)

    p = sub.add_parser("sim", help="run the local venue simulator (Kalshi + The Odds API)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765, where KALSHI_BASE_URL points)")
    p.add_argument("--kalshi-key-id", default=None, help="API key id the simulator accepts")
    p.add_argument("--kalshi-public-key", default=None, metavar="PATH", help="PEM public key to verify")
    p.add_argument("--seed", type=int, default=None, help="scenario seed (deterministic slate)")
    p.add_argument("--extended", action="store_true",
                   help="every catalogued league, a neutral-site game, Kalshi spread/total markets and book lines")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade"], help="upgrade: bring the database to the latest schema")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("breaker", help="circuit breaker: status, manual trip (kill switch), reset")
    p.add_argument("action", choices=["status", "trip", "reset"],
                   help="status: state, limits, today's loss, exposure; trip: the kill switch (stays open "
                   "until reset); reset: close it again")
    p.add_argument("--reason", default="manual kill switch", help="why (for trip)")
    p.add_argument("--who", default=None, help="who (default: $USER)")
    p.set_defaults(func=cmd_breaker)

    p = sub.add_parser(
        "hedge",
        help="the sportsbook legs to place by hand: list them, mark one placed or abandoned",
        description="Hedge instructions are written when a Kalshi leg fills: back SELECTION at BOOK for STAKE at "
        "odds at least WORST. Place it at the sportsbook, then record what was actually taken with `placed` "
        "(the arbitrage's locked profit is recomputed from it, commission included). A pending hedge expires "
        "ARB_HEDGE_EXPIRY_BEFORE_START_S before its game starts; an expired or abandoned one leaves the Kalshi "
        "leg open and one-sided (counted by the breaker, alerted). Money is shown to the cent.",
    )
    hsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    h = hsub.add_parser("list", help="hedge instructions, pending first (id, status, book, stake, odds, expiry)")
    h.add_argument("--status", action="append", default=None,
                   choices=["pending", "placed", "abandoned", "expired", "skipped", "do_not_place"],
                   help="only these states (repeat the flag for several; default: all)")
    h.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    h.add_argument("--json", action="store_true", help="print JSON (exact amounts) instead of a table")
    h = hsub.add_parser("placed", help="record that a pending hedge was placed, at the odds and stake taken")
    h.add_argument("id", type=int, help="the hedge instruction id (from `hedge list`)")
    h.add_argument("--odds", required=True, help="decimal odds the book actually gave, e.g. 2.20 (at most 4 decimals)")
    h.add_argument("--stake", required=True, help="stake actually placed in dollars, e.g. 11.11 (cents)")
    h.add_argument("--who", default=None, help="who placed it (default: $USER)")
    h.add_argument("--force", action="store_true",
                   help="record it even when the odds are below the worst acceptable or it locks a loss (without "
                   "it that is refused with the numbers); a forced placement is noted and alerted")
    h = hsub.add_parser("abandon", help="give up on a pending hedge (the Kalshi leg stays open, one-sided)")
    h.add_argument("id", type=int, help="the hedge instruction id (from `hedge list`)")
    h.add_argument("--why", required=True, help="why it cannot be placed (kept with it, named in the alert)")
    h.add_argument("--who", default=None, help="who decided (default: $USER)")
    p.set_defaults(func=cmd_hedge)

    p = sub.add_parser(
        "reconcile",
        help="one reconciliation now: expire hedges, settle both legs from game results, feed the breaker",
        description="What the reconcile schedule does every 5 minutes, once: close orders left in flight, expire "
        "pending hedges past their expiry, settle Kalshi positions and placed sportsbook bets from the games' "
        "results (asked from the venue's market data: the simulator or Kalshi), compare positions, and give the "
        "breaker today's two-leg realized P&L and the open exposure.",
    )
    p.add_argument("--result", action="append", default=[], metavar="TICKER=yes|no|void|VALUE",
                   help="a Kalshi market's result given by hand (repeatable; VALUE: a scalar settlement between "
                        "0 and 1, what one YES contract paid); the venue is asked for the others")
    p.add_argument("--no-venue", action="store_true",
                   help="do not ask the venue's market data for results (only --result ones settle)")
    p.add_argument("--as-of", type=parse_time, default=None, metavar="TIME",
                   help="reconcile as at TIME (ISO 8601) instead of now: decides which hedges have expired")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser(
        "pnl",
        help="realized P&L per day and in total (both legs), each arbitrage as a unit, closing-line value",
        description="From the ledger of both legs: Kalshi fills and fees, sportsbook stakes as placed, exchange "
        "commission. Per arbitrage: locked profit, realized once the game settled (else unrealized, marked to the "
        "current de-vigged consensus) and CLV against the last consensus before the start.",
    )
    p.add_argument("--json", action="store_true", help="print JSON (exact amounts) instead of text")
    p.add_argument("--as-of", type=parse_time, default=None, metavar="TIME",
                   help="judge 'today' and CLV finality at TIME (ISO 8601) instead of now")
    p.set_defaults(func=cmd_pnl)


    p = sub.add_parser(
        "prune-history",
        help="thin and age out stored market history by ARB_HISTORY_* (the hourly housekeeping job does it too)",
        description="Every snapshot younger than ARB_HISTORY_FULL_DAYS is kept; older ones are thinned to one per "
        "ARB_HISTORY_THIN_INTERVAL_S per source and deleted after ARB_HISTORY_KEEP_DAYS (0: never), each with its "
        "scan record and detected opportunities. Scans that found an executed opportunity are always kept; "
        "orders, fills, positions, the ledger and hedges are never touched.",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    p.add_argument("--as-of", type=parse_time, default=None, metavar="TIME",
                   help="apply the policy as at TIME (ISO 8601) instead of now")
    p.set_defaults(func=cmd_prune_history)

    p = sub.add_parser("odds-credits", help="projected monthly Odds API credits next to the plan's quota "
                       "(exit 1 when over it)")
    p.add_argument("--scan-interval", type=float, default=float(os.environ.get("ARB_SCAN_INTERVAL_S") or 10),
                   help="seconds between scans (default: ARB_SCAN_INTERVAL_S or 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_odds_credits)

    p = sub.add_parser("run", help="run the scan pipeline headless for N cycles (no UI)")
    p.add_argument("--cycles", type=int, default=1, help="how many scan cycles to run, then stop (default 1)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between cycles")
    p.add_argument(
        "--source", default="simulator", choices=["simulator", "sample", "live"], help="simulator (default): the local simulator at KALSHI_BASE_URL / ODDS_API_BASE_URL, with its "
        "demo credentials when none are configured; sample: the bundled recording, at its capture time; "
        "live: the venues (credentials required)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "api",
        help="serve the REST API, the dashboard (/) and Prometheus metrics (/metrics)",
        description="The operator's desk over HTTP. Read routes are open; routes that change trading state "
        "(kill switch, breaker reset, mapping decisions) need `Authorization: Bearer $ARB_API_TOKEN` and are "
        "disabled while no token is configured.",
    )
    p.add_argument("--host", default=None,
                   help="interface to listen on (default ARB_API_HOST or 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=None, help="port (default ARB_API_PORT or 8000)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser(
        "worker",
        help="the fast path: re-evaluate games on Kalshi websocket book changes and trade (ARB_TRADER=worker)",
        description="A long-running process beside Dagster: it holds the markets and sportsbook odds of the latest "
        "stored scan (reloaded when the scan job stores a newer one), keeps those markets' Kalshi books live from the "
        "websocket, re-evaluates only the game whose book changed and executes through the same services, breaker "
        "and ledger as the scan job. It places orders only when ARB_TRADER=worker (then the scan job does not); "
        "otherwise it observes and records. With the simulator (the default) its demo credentials fill in.",
    )
    p.add_argument("--seconds", type=float, default=None,
                   help="stop after this many seconds (default: run until Ctrl-C)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "demo",
        help="simulator + database + dashboard + Dagster UI with sensors on, paper mode",
        description="The whole pipeline on this machine, paper mode, no account: the local venue simulator, "
        "the database, the operator's dashboard (REST API) and `dagster dev` with the scan sensor on. "
        "Everything lives under ARB_DATA_DIR (default ~/.arb_pipeline): give a second demo its own ARB_DATA_DIR "
        "and ports. Ctrl-C stops every process it started.",
    )
    p.add_argument("--port", type=int, default=None, metavar="SIM_PORT",
                   help="simulator port (default $SIM_PORT or 8765)")
    p.add_argument("--ui-port", type=int, default=None, metavar="UI_PORT",
                   help="Dagster UI port (default $UI_PORT or 3000)")
    p.add_argument("--api-port", type=int, default=None, metavar="API_PORT",
                   help="dashboard and REST API port (default $API_PORT or 8000)")
    p.add_argument(
        "--cycles", type=int, default=None, help="run N headless scan cycles instead of the UI (no browser needed)"
    )
    p.set_defaults(func=cmd_demo)
    return parser


# Read-only one-shot commands whose process ends as soon as they have printed: nothing of theirs is
# left to close (no database session, server, thread or file held open past the command).
SHORT_LIVED_COMMANDS = frozenset({"scan", "resolve"})


# What a short-lived command built, held here until the process leaves when `run()` will leave without
# teardown (None otherwise: under `main()` - tests, embedding - nothing is held).
_HELD_UNTIL_EXIT: list[object] | None = None


def _left_to_exit(value: T) -> T:
    """`value`, also held until the process leaves when it leaves without teardown (`run()`): freeing a
    5,000-game scan's objects one by one when the command returns is ~0.03 s CPU the OS does at once."""
    if _HELD_UNTIL_EXIT is not None:
        _HELD_UNTIL_EXIT.append(value)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    return _dispatch(build_parser().parse_args(argv))


def run() -> None:
    """The console script and `python -m arb_pipeline.cli`: `main()`, then exit with its status.

    After `scan` / `resolve` (`SHORT_LIVED_COMMANDS`) the process leaves without the interpreter's
    teardown: at 5,000 games that teardown only frees the snapshot's ~1.5 million objects one by one
    (~0.05 s CPU of a ~1.8 s scan, `benchmarks/bench_scan.py`), which the operating system reclaims
    at once anyway. Output is flushed and logging shut down first, so nothing printed is lost; tests
    call `main()`, which never leaves the process."""
    global _HELD_UNTIL_EXIT
    args = build_parser().parse_args()
    if args.command in SHORT_LIVED_COMMANDS:
        # Their work already runs with the cyclic collector paused (`gcpause`); the imports before it
        # made ~117 collections (~0.02 s CPU) that find next to no garbage in a process about to end.
        gc.disable()
        _HELD_UNTIL_EXIT = []
        _leave_now(_dispatch(args))
    sys.exit(_dispatch(args))


def _leave_now(code: int) -> None:
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a stream closed on BrokenPipeError
            pass
    os._exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"arb-pipeline {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `arb-pipeline scan --sample | head`: not an error of ours
        sys.stderr.close()
        return 0
    except (FileNotFoundError, ValueError) as exc:
        # Bad input (a snapshot file missing or malformed, an invalid setting): say what and where.
        print(f"arb-pipeline {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    run()
