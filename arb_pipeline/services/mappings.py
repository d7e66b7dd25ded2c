"""`arb-pipeline mapping list|confirm|reject|override`: a person fixes a mapping with one command.

The decision is written to the overrides file (atomically, with who/when/why) and read again by the
next scan, so it takes effect without a restart. The rules themselves live in `mapping/`.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from arb_pipeline.mapping import commands
from arb_pipeline.mapping.manual_overrides import Override, OverrideAction
from arb_pipeline.services.operations import operator_name
from arb_pipeline.settings import Settings

# Database rows say "override" where the mapping layer says "force" (same meaning: map it anyway).
_DB_ACTIONS = {"confirm": OverrideAction.CONFIRM, "reject": OverrideAction.REJECT, "override": OverrideAction.FORCE}


def _target(args: argparse.Namespace) -> dict[str, str]:
    return {"kalshi_event": args.ticker} if args.event else {"kalshi_market": args.ticker}


def stored_overrides(sessions) -> tuple[Override, ...]:
    """Active overrides kept in the database (market level), as the resolver's `Override` records."""
    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.repositories.mappings import MappingRepository

    with session_scope(sessions) as session:
        rows = MappingRepository(session).active_overrides()
        return tuple(
            Override(action=_DB_ACTIONS[r.action], kalshi_market=r.kalshi_ticker, sportsbook_event_id=r.sportsbook_event_id,
                     outcome=r.outcome, who=r.who, when=r.created_at, why=r.why)
            for r in rows
        )


def _store_in_database(args: argparse.Namespace, settings: Settings) -> str:
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.repositories.mappings import MappingRepository

    if args.event:
        raise ValueError("mapping: the database keeps market-level decisions; give a market ticker without --event")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.effective_database_url)
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        row = MappingRepository(session).add_override(
            kalshi_ticker=args.ticker, action=args.action, who=operator_name(args.who), why=args.why,
            sportsbook_event_id=args.game, outcome=getattr(args, "outcome", None), at=datetime.now(UTC))
        entry = {"id": row.id, "action": row.action, "kalshi_market": row.kalshi_ticker,
                 "sportsbook_event_id": row.sportsbook_event_id, "outcome": row.outcome, "who": row.who,
                 "when": row.created_at, "why": row.why}
    return "recorded in the database (takes effect on the next scan):\n" + json.dumps(entry, indent=2, default=str)


def run_mapping_command(args: argparse.Namespace, settings: Settings) -> str:
    path = settings.overrides_path
    try:
        if args.action == "list":
            return _list(args, settings)
        if getattr(args, "store", "file") == "db":
            return _store_in_database(args, settings)
        if args.action == "confirm":
            entry = commands.confirm(who=operator_name(args.who), why=args.why, sportsbook_event_id=args.game,
                                     path=path, **_target(args))
        elif args.action == "reject":
            entry = commands.reject(who=operator_name(args.who), why=args.why, sportsbook_event_id=args.game,
                                    path=path, **_target(args))
        elif args.action == "override":
            entry = commands.override(who=operator_name(args.who), why=args.why, sportsbook_event_id=args.game,
                                      outcome=args.outcome, path=path, **_target(args))
        else:  # argparse restricts the choices; this guards a future addition
            raise ValueError(f"unknown mapping action {args.action!r}")
    except commands.CommandError as exc:
        raise ValueError(f"mapping {args.action}: {exc}") from exc
    return f"recorded {args.action} (takes effect on the next scan):\n" + json.dumps(entry, indent=2, default=str)


def _list(args: argparse.Namespace, settings: Settings) -> str:
    resolution = None
    if args.snapshot:
        from pathlib import Path

        from arb_pipeline.services.scan import resolve_directory

        resolution, _ = resolve_directory(Path(args.snapshot), configured_scan(settings))
    payload: dict[str, object] = dict(commands.list_mappings(settings.overrides_path, resolution=resolution))
    payload["stored_overrides"] = [o.to_dict() for o in configured_scan(settings).extra_overrides]
    if args.json:
        return json.dumps(payload, indent=2, default=str)
    entries = [("file", o) for o in payload["overrides"]] + [("db", o) for o in payload["stored_overrides"]]
    lines = [f"{len(entries)} override(s)"]
    lines += [
        f"  [{store}] {o['when']}  {o['action']:<8} {o.get('kalshi_market') or o.get('kalshi_event')}"
        f" -> {o.get('sportsbook_event_id') or '*'}"
        f"{' (' + str(o['outcome']) + ')' if o.get('outcome') else ''}  by {o['who']}: {o['why']}"
        for store, o in entries
    ]
    if resolution is not None:
        lines.append(f"{len(resolution.rows)} resolved market(s), {len(resolution.unresolved)} unresolved")
    return "\n".join(lines)


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

    if engine is None:
        if settings.database_url is None and not settings.sqlite_path.exists():
            return ScanConfig.from_settings(settings)
        from arb_pipeline.storage.db import get_engine

        engine = get_engine(settings.effective_database_url)
    from sqlalchemy import inspect

    from arb_pipeline.storage.db import session_factory

    if not inspect(engine).has_table("mapping_overrides"):
        return ScanConfig.from_settings(settings)
    return ScanConfig.from_settings(settings, extra_overrides=stored_overrides(session_factory(engine)))
