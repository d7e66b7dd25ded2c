"""Provider registry: a new odds provider is one module plus one `register_provider` call.

Factories are called as `factory(settings, **options)` and import their module lazily, so choosing
the replay never imports the HTTP stack and a broken optional provider cannot break the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arb_pipeline.connectors.sportsbooks.base import OddsProvider

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

ProviderFactory = Callable[..., OddsProvider]

_FACTORIES: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Make `get_provider(name, ...)` build providers with `factory(settings, **options)`."""
    if not name or name != name.strip():
        raise ValueError(f"invalid provider name {name!r}")
    if name in _FACTORIES and not replace:
        raise ValueError(f"odds provider {name!r} is already registered")
    _FACTORIES[name] = factory


def registered_providers() -> tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


def get_provider(name: str, settings: Settings, **options: Any) -> OddsProvider:
    """A new provider instance; `name` is usually `settings.odds_provider` (ODDS_PROVIDER)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown odds provider {name!r}; registered: {', '.join(registered_providers())}") from None
    return factory(settings, **options)


def _the_odds_api(settings: Settings, **options: Any) -> OddsProvider:
    """Options are passed to `TheOddsApiProvider.from_settings` (e.g. `on_alert=`, `timeout=`)."""
    from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider

    return TheOddsApiProvider.from_settings(settings, **options)


def _pinnacle(settings: Settings, **options: Any) -> OddsProvider:
    """Options are passed to `PinnacleProvider.from_settings` (`on_alert=` is accepted and unused)."""
    from arb_pipeline.connectors.sportsbooks.pinnacle import PinnacleProvider

    return PinnacleProvider.from_settings(settings, **options)


LIVE_PROVIDERS = ("the_odds_api", "pinnacle")  # the ones a capture can poll (a replay reads a recording)


def live_provider(settings: Settings, **options: Any) -> OddsProvider:
    """The provider ODDS_PROVIDER names, for a live capture; a clear error for any other name."""
    name = settings.odds_provider.strip()
    if name not in LIVE_PROVIDERS:
        known = ", ".join(LIVE_PROVIDERS)
        raise ValueError(f"ODDS_PROVIDER={settings.odds_provider!r} is not a live odds provider; choose one of {known}"
                         + (" (replay reads recorded snapshots: use --source sample/recorded)" if name == "replay"
                            else ""))
    return get_provider(name, settings, **options)


def _replay(settings: Settings, *, snapshot_dir: str | Path | None = None, source: Any = None) -> OddsProvider:
    """Needs `snapshot_dir=` (a snapshot directory) or `source=` (a `SnapshotSource`, e.g. the database)."""
    from arb_pipeline.connectors.snapshot import DirectorySnapshotSource
    from arb_pipeline.connectors.sportsbooks.replay import ReplayProvider

    if (snapshot_dir is None) == (source is None):
        raise ValueError("the replay odds provider needs exactly one of snapshot_dir= or source=")
    return ReplayProvider(DirectorySnapshotSource(Path(snapshot_dir)) if source is None else source)


register_provider("the_odds_api", _the_odds_api)
register_provider("pinnacle", _pinnacle)
register_provider("replay", _replay)
