"""Mapping decisions and the mappings in force: `arb-pipeline mapping …` and the API call these.

A decision (confirm / reject / override) is written to the overrides file (atomically, with who,
when and why) or to the database, and read again by the next scan, so it takes effect without a
restart. `mapping_overview` shows the decisions and how the latest stored snapshot (or a given
recording) resolved. The rules themselves live in `mapping/`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arb_pipeline.mapping import commands
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction
from arb_pipeline.services.operations import operator_name
from arb_pipeline.settings import Settings

ACTIONS = ("confirm", "reject", "override")
STORES = ("file", "db")

# Database rows say "override" where the mapping layer says "force" (same meaning: map it anyway).
_DB_ACTIONS = {"confirm": OverrideAction.CONFIRM, "reject": OverrideAction.REJECT, "override": OverrideAction.FORCE}


def stored_overrides(sessions) -> tuple[Override, ...]:
    """Active overrides kept in the database (market level), as the resolver's `Override` records."""
    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.repositories.mappings import MappingRepository

    with session_scope(sessions) as session:
        return tuple(_override(r.action, r.kalshi_ticker, r.sportsbook_event_id, r.outcome, r.who, r.why, r.created_at)
                     for r in MappingRepository(session).active_overrides())


def _override(action: str, kalshi_ticker: str, sportsbook_event_id: str | None, outcome: str | None, who: str,
              why: str, created_at: datetime) -> Override:
    """A stored override row (read through SQLAlchemy or `sqlite3`) as the resolver's `Override`."""
    return Override(action=_DB_ACTIONS[action], kalshi_market=kalshi_ticker, sportsbook_event_id=sportsbook_event_id,
                    outcome=outcome, who=who, when=created_at, why=why)


def _store_in_database(action: str, ticker: str, *, who: str, why: str, game: str | None, outcome: str | None,
                       event: bool, settings: Settings) -> dict[str, Any]:
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.repositories.mappings import MappingRepository

    if event:
        raise ValueError("mapping: the database keeps market-level decisions; give a market ticker without --event")
    _validate(action, ticker, who=who, why=why, game=game, outcome=outcome)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.effective_database_url)
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        row = MappingRepository(session).add_override(kalshi_ticker=ticker, action=action, who=who, why=why,
                                                      sportsbook_event_id=game, outcome=outcome,
                                                      at=datetime.now(UTC))
        return {"id": row.id, "action": row.action, "kalshi_market": row.kalshi_ticker,
                "sportsbook_event_id": row.sportsbook_event_id, "outcome": row.outcome, "who": row.who,
                "when": row.created_at.isoformat(), "why": row.why}


def _validate(action: str, ticker: str, *, who: str, why: str, game: str | None, outcome: str | None) -> None:
    """Refuse a database decision the resolver could not read back: stored, it would break every scan
    (`stored_overrides` turns each row into an `Override`, whose rules are checked here first)."""
    from datetime import UTC

    from arb_pipeline.mapping.manual_overrides import OverrideError

    try:
        Override(action=_DB_ACTIONS[action], kalshi_market=ticker, sportsbook_event_id=game, outcome=outcome,
                 who=who, when=datetime.now(UTC), why=why)
    except (OverrideError, ValueError) as exc:
        raise ValueError(f"mapping {action}: {exc}") from None


def record_decision(action: str, ticker: str, *, why: str, settings: Settings, who: str | None = None,
                    game: str | None = None, outcome: str | None = None, event: bool = False,
                    store: str = "file") -> dict[str, Any]:
    """Record one mapping decision; returns it as stored. Bad input raises ValueError saying what."""
    if action not in ACTIONS:
        raise ValueError(f"mapping: unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if store not in STORES:
        raise ValueError(f"mapping: unknown store {store!r} (file or db)")
    if not ticker.strip():
        raise ValueError("mapping: a Kalshi ticker is required")
    if not why.strip():
        raise ValueError("mapping: say why (it is kept with the decision)")
    operator = operator_name(who)
    if store == "db":
        return _store_in_database(action, ticker, who=operator, why=why, game=game, outcome=outcome, event=event,
                                  settings=settings)
    target = {"kalshi_event": ticker} if event else {"kalshi_market": ticker}
    path = settings.overrides_path
    try:
        if action == "confirm":
            return commands.confirm(who=operator, why=why, sportsbook_event_id=game, path=path, **target)
        if action == "reject":
            return commands.reject(who=operator, why=why, sportsbook_event_id=game, path=path, **target)
        if not game:
            raise commands.CommandError("an override needs the sportsbook game (--game EVENT_ID)")
        return commands.override(who=operator, why=why, sportsbook_event_id=game, outcome=outcome, path=path,
                                 **target)
    except commands.CommandError as exc:
        raise ValueError(f"mapping {action}: {exc}") from exc


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    from arb_pipeline.arb.money import decimal_text

    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _latest_stored_resolution(settings: Settings):
    """(resolution, where) of the latest stored snapshot at its capture time, or (None, reason)."""
    from arb_pipeline.services.market_history import rebuild
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.repositories import SnapshotRepository

    if not _database_has(settings, "snapshots"):
        return None, {"note": "no scan stored yet: run a scan (make demo, arb-pipeline run) or pass --snapshot DIR"}
    with session_scope(session_factory(get_engine(settings.effective_database_url))) as session:
        stored = SnapshotRepository(session).latest()
    if stored is None:
        return None, {"note": "no scan stored yet: run a scan (make demo, arb-pipeline run) or pass --snapshot DIR"}
    from arb_pipeline.services.scan import resolve_snapshot

    snapshot = rebuild(stored)
    where = {"snapshot_id": stored.id, "captured_at": stored.captured_at.isoformat(), "source": stored.source}
    return resolve_snapshot(snapshot, configured_scan(settings), snapshot.captured_at), where


def mapping_overview(settings: Settings, *, snapshot_dir: Path | None = None) -> dict[str, Any]:
    """The decisions (file and database) and the mappings in force: how the given recording, else the
    latest stored snapshot, resolved every Kalshi market (rows) and what did not resolve (why)."""
    if snapshot_dir is not None:
        from arb_pipeline.services.scan import resolve_directory

        resolution, as_of = resolve_directory(Path(snapshot_dir), configured_scan(settings))
        where: dict[str, Any] = {"directory": str(snapshot_dir), "captured_at": as_of.isoformat()}
    else:
        resolution, where = _latest_stored_resolution(settings)
    try:
        payload: dict[str, Any] = dict(commands.list_mappings(settings.overrides_path, resolution=resolution))
    except commands.CommandError as exc:
        raise ValueError(f"mapping list: {exc}") from exc
    payload.setdefault("rows", [])
    payload.setdefault("unresolved", [])
    payload["stored_overrides"] = [o.to_dict() for o in configured_scan(settings).extra_overrides]
    payload["resolved_from"] = where
    return _jsonable(payload)


def render_overview(overview: dict[str, Any]) -> str:
    """`arb-pipeline mapping list` for a person: the decisions, then every mapping in force."""
    from arb_pipeline.services.report import _table

    entries = [("file", o) for o in overview["overrides"]] + [("db", o) for o in overview["stored_overrides"]]
    lines = [f"{len(entries)} decision(s) (overrides)"]
    lines += [
        f"  [{store}] {o['when']}  {o['action']:<8} {o.get('kalshi_market') or o.get('kalshi_event')}"
        f" -> {o.get('sportsbook_event_id') or '*'}"
        f"{' (' + str(o['outcome']) + ')' if o.get('outcome') else ''}  by {o['who']}: {o['why']}"
        for store, o in entries
    ]
    where = overview["resolved_from"]
    if "note" in where:
        lines += ["", f"mappings in force: {where['note']}"]
        return "\n".join(lines)
    origin = where.get("directory") or f"stored snapshot {where.get('snapshot_id')} ({where.get('source')})"
    rows, unresolved = overview["rows"], overview["unresolved"]
    lines += ["", f"mappings in force: {len(rows)} resolved, {len(unresolved)} unresolved — {origin} "
                  f"captured {where.get('captured_at')}"]
    if rows:
        lines.append(_table(
            ["kalshi market", "YES backs", "game", "method", "conf", "tradable"],
            [[r["kalshi_market"], f"{r['outcome']}: {r['team_name']}",
              f"{r['away_team']} @ {r['home_team']} ({r['sportsbook_event_id']})", r["method"],
              f"{float(r['confidence']):.2f}", "yes" if r["tradable"] else "no: " + "; ".join(r["guards"])]
             for r in rows]))
    if unresolved:
        lines += ["unresolved:", _table(["kind", "id", "reason"], [[u["kind"], u["id"], u["reason"]] for u in unresolved])]
    return "\n".join(lines)


def _database_has(settings: Settings, table: str) -> bool:
    """Whether the configured database exists and holds `table` (never creates a SQLite file to ask)."""
    if settings.database_url is None and not settings.sqlite_path.exists():
        return False
    from sqlalchemy import inspect

    from arb_pipeline.storage.db import get_engine

    return inspect(get_engine(settings.effective_database_url)).has_table(table)


def configured_scan(settings: Settings, *, engine=None):  # noqa: ANN001 - a SQLAlchemy Engine
    """THE scan configuration, for every caller - CLI scan/resolve/mapping list, `arb-pipeline run`, the
    Dagster scan assets and the history replay: `ScanConfig` from the settings with the overrides
    stored in the database (`mapping … --store db`, the API) added. Read on every scan, so a decision
    applies to the next one.

    `engine`: the application database to read (the Dagster resources pass theirs). Without one, the
    settings' database - and with the default SQLite database and no file yet there is nothing stored:
    no database is created just to read it (a scan of a snapshot needs no database).
    """
    from arb_pipeline.services.scan import ScanConfig

    if engine is None and settings.database_url is None:
        if not settings.sqlite_path.exists():
            return ScanConfig.from_settings(settings)  # nothing stored, and no import to learn it
        return _configured_from_sqlite_file(settings)
    from sqlalchemy import inspect

    from arb_pipeline.storage.db import get_engine, session_factory

    if engine is None:
        if not _database_has(settings, "mapping_overrides"):
            return ScanConfig.from_settings(settings)
        engine = get_engine(settings.effective_database_url)
    elif not inspect(engine).has_table("mapping_overrides"):
        return ScanConfig.from_settings(settings)
    sessions = session_factory(engine)
    if inspect(engine).has_table("balance_checks"):  # the bankroll sizing uses comes from the ledger
        from arb_pipeline.services.ledger import sizing_bankroll
        from arb_pipeline.storage.db import session_scope

        with session_scope(sessions) as session:
            settings = settings.model_copy(update={"bankroll": sizing_bankroll(session, settings.mode,
                                                                               settings.bankroll)})
    return ScanConfig.from_settings(settings, extra_overrides=stored_overrides(sessions))


def _configured_from_sqlite_file(settings: Settings):
    """`configured_scan` of the default SQLite database (it exists): the same reads with `sqlite3`
    (`storage.sqlite_read`) instead of SQLAlchemy, the ORM models and the ledger, which a scan of a
    snapshot would otherwise import for two small queries (~0.27 s CPU, ~24 MiB at peak). Same
    `ScanConfig`: the same rows, values and bankroll rule (`services.bankroll`)."""
    from arb_pipeline.arb.money import ZERO
    from arb_pipeline.services.bankroll import sizing_bankroll_from
    from arb_pipeline.services.scan import ScanConfig
    from arb_pipeline.storage import sqlite_read

    with sqlite_read.connect_existing(settings.sqlite_path) as connection:
        if not sqlite_read.has_table(connection, "mapping_overrides"):
            return ScanConfig.from_settings(settings)
        if sqlite_read.has_table(connection, "balance_checks"):  # the bankroll sizing uses comes from the ledger
            bankroll = sizing_bankroll_from(
                settings.mode, settings.bankroll,
                paper_realized=lambda: sum(sqlite_read.realized_amounts(connection, "paper"), ZERO),
                live_balance=lambda: sqlite_read.last_venue_balance(connection, "live"))
            settings = settings.model_copy(update={"bankroll": bankroll})
        overrides = tuple(_override(*row) for row in sqlite_read.active_overrides(connection))
    return ScanConfig.from_settings(settings, extra_overrides=overrides)


def run_mapping_command(args, settings: Settings) -> str:
    """`arb-pipeline mapping list|confirm|reject|override` (argparse namespace in, text out)."""
    if args.action == "list":
        overview = mapping_overview(settings, snapshot_dir=Path(args.snapshot) if args.snapshot else None)
        return json.dumps(overview, indent=2) if args.json else render_overview(overview)
    entry = record_decision(args.action, args.ticker, why=args.why, settings=settings, who=args.who,
                            game=args.game, outcome=getattr(args, "outcome", None), event=args.event,
                            store=getattr(args, "store", "file"))
    where = "in the database" if getattr(args, "store", "file") == "db" else f"{args.action}"
    return f"recorded {where} (takes effect on the next scan):\n" + json.dumps(entry, indent=2, default=str)
