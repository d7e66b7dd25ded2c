"""`arb-pipeline mapping list|confirm|reject|override`: a person fixes a mapping with one command.

The decision is written to the overrides file (atomically, with who/when/why) and read again by the
next scan, so it takes effect without a restart. The rules themselves live in `mapping/`.
"""

from __future__ import annotations

import argparse
import getpass
import json

from arb_pipeline.mapping import commands
from arb_pipeline.settings import Settings


def _who(value: str | None) -> str:
    if value:
        return value
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (e.g. a container): still record something honest
        return "unknown"


def _target(args: argparse.Namespace) -> dict[str, str]:
    return {"kalshi_event": args.ticker} if args.event else {"kalshi_market": args.ticker}


def run_mapping_command(args: argparse.Namespace, settings: Settings) -> str:
    path = settings.overrides_path
    try:
        if args.action == "list":
            return _list(args, settings)
        if args.action == "confirm":
            entry = commands.confirm(who=_who(args.who), why=args.why, sportsbook_event_id=args.game,
                                     path=path, **_target(args))
        elif args.action == "reject":
            entry = commands.reject(who=_who(args.who), why=args.why, sportsbook_event_id=args.game,
                                    path=path, **_target(args))
        elif args.action == "override":
            entry = commands.override(who=_who(args.who), why=args.why, sportsbook_event_id=args.game,
                                      outcome=args.outcome, path=path, **_target(args))
        else:  # argparse restricts the choices; this guards a future addition
            raise ValueError(f"unknown mapping action {args.action!r}")
    except commands.CommandError as exc:
        raise ValueError(f"mapping {args.action}: {exc}") from exc
    return f"recorded {args.action} (takes effect on the next scan):\n" + json.dumps(entry, indent=2, default=str)


def _list(args: argparse.Namespace, settings: Settings) -> str:
    overrides = commands.list_mappings(settings.overrides_path)
    payload: dict[str, object] = {"overrides": overrides}
    if args.snapshot:
        from pathlib import Path

        from arb_pipeline.services.scan import ScanConfig, resolve_directory

        resolution, _ = resolve_directory(Path(args.snapshot), ScanConfig.from_settings(settings))
        payload["resolution"] = resolution.to_dict()
    if args.json:
        return json.dumps(payload, indent=2, default=str)
    lines = [f"{len(overrides)} override(s)"]
    lines += [
        f"  {o['when']}  {o['action']:<8} {o.get('kalshi_market') or o.get('kalshi_event')}"
        f" -> {o.get('sportsbook_event_id') or '*'}"
        f"{' (' + str(o['outcome']) + ')' if o.get('outcome') else ''}  by {o['who']}: {o['why']}"
        for o in overrides
    ]
    if args.snapshot:
        res = payload["resolution"]
        lines.append(f"{len(res['rows'])} resolved market(s), {len(res['unresolved'])} unresolved")  # type: ignore[index]
    return "\n".join(lines)
