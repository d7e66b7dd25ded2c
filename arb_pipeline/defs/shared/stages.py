"""The scan's stages as the assets call them: `services.scan`, memoized per (snapshot, config).

The assets hand frames to each other (the checked, persisted, UI-visible contract); the services
work on domain records. Rather than rebuild domain records from frames, every stage re-derives
what it needs from the *stored snapshot* through the same service functions; within one
in-process run the memo below makes that one computation per stage. The result is identical to
`services.scan.scan(snapshot, config)` — there is no second implementation here.

Memo keys include the run id: a later run (e.g. after a mapping override changed) recomputes.
"""

from __future__ import annotations

from typing import Any

from arb_pipeline.defs.shared.resources import _LruCache

_MEMO = _LruCache(32)


def _key(stage: str, snapshot_key: Any, config: Any) -> tuple[str, Any, str]:
    return (stage, snapshot_key, repr(config))


def resolution(snapshot_key: Any, snapshot: Any, config: Any) -> Any:
    key = _key("resolution", snapshot_key, config)
    cached = _MEMO.get(key)
    if cached is None:
        from arb_pipeline.services.scan import resolve_snapshot

        cached = resolve_snapshot(snapshot, config, snapshot.captured_at)
        _MEMO.put(key, cached)
    return cached


def assembly(snapshot_key: Any, snapshot: Any, config: Any) -> Any:
    """The games detection can use and, per skipped game, why (`services.scan.GameAssembly`)."""
    key = _key("assembly", snapshot_key, config)
    cached = _MEMO.get(key)
    if cached is None:
        from arb_pipeline.services.scan import build_games

        cached = build_games(snapshot, resolution(snapshot_key, snapshot, config), config)
        _MEMO.put(key, cached)
    return cached


def games(snapshot_key: Any, snapshot: Any, config: Any) -> list[Any]:
    return assembly(snapshot_key, snapshot, config).games


def fair_lines(snapshot_key: Any, snapshot: Any, config: Any) -> list[Any]:
    key = _key("fair", snapshot_key, config)
    cached = _MEMO.get(key)
    if cached is None:
        from arb_pipeline.services.scan import price_games

        cached = price_games(games(snapshot_key, snapshot, config), config)
        _MEMO.put(key, cached)
    return cached


def detection(snapshot_key: Any, snapshot: Any, config: Any) -> Any:
    key = _key("detection", snapshot_key, config)
    cached = _MEMO.get(key)
    if cached is None:
        from arb_pipeline.services.scan import detect_opportunities

        cached = detect_opportunities(
            games(snapshot_key, snapshot, config), config, snapshot.captured_at,
            trading_active=snapshot.exchange.trading_active,
        )
        _MEMO.put(key, cached)
    return cached


def clear() -> None:
    _MEMO.clear()
