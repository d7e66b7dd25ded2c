"""Replay: an `OddsProvider` that serves recorded odds responses, so any past scan re-runs offline.

Recorded responses come from a `SnapshotSource`: a snapshot directory (`DirectorySnapshotSource` in
`connectors/snapshot.py`) or the database (the storage layer supplies a callable of the same shape).
The recorded payload is normalized exactly as a live one was, with the fetch time of the recording,
so a replay sees what the live scan saw, through today's normalization rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from arb_pipeline.connectors.sportsbooks.base import NormalizeResult, split_names
from arb_pipeline.connectors.sportsbooks.errors import OddsReplayError
from arb_pipeline.connectors.sportsbooks.normalize import normalize_odds_response
from arb_pipeline.connectors.sportsbooks.prices import OddsFormat


@dataclass(frozen=True, slots=True)
class RecordedOdds:
    """One recorded `/v4/sports/{sport}/odds` response and when it was received.

    `payload` is the provider's JSON with fractional numbers parsed as `Decimal`. `odds_format=None`
    means "detect from the prices". `source` (file path, database row id) labels any problem found.
    """

    sport_key: str
    payload: Any
    fetched_at: datetime
    provider: str = "the_odds_api"
    odds_format: OddsFormat | None = None
    source: str = ""


class SnapshotSource(Protocol):
    """Where recorded odds come from. Calling it returns every recorded odds response of one scan
    (at most one per sport key). The storage engineer implements this over the database."""

    def __call__(self) -> Iterable[RecordedOdds]: ...


def _within(value: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or value >= start) and (end is None or value <= end)


class ReplayProvider:
    """Serves the quotes of a recorded scan; filters (markets, commence window) act like the live API's."""

    name = "replay"

    def __init__(self, source: SnapshotSource | Callable[[], Iterable[RecordedOdds]]) -> None:
        self._source = source
        self._recorded: dict[str, RecordedOdds] | None = None
        self._normalized: dict[str, NormalizeResult] = {}

    def _load(self) -> dict[str, RecordedOdds]:
        if self._recorded is None:
            recorded: dict[str, RecordedOdds] = {}
            for item in self._source():
                if item.sport_key in recorded:
                    raise OddsReplayError(
                        f"sport {item.sport_key!r} is recorded twice ({recorded[item.sport_key].source or '?'} "
                        f"and {item.source or '?'}); a replay serves one response per sport"
                    )
                if item.fetched_at.tzinfo is None:
                    raise OddsReplayError(f"{item.source or item.sport_key}: fetched_at has no timezone")
                recorded[item.sport_key] = item
            self._recorded = recorded
        return self._recorded

    def sport_keys(self) -> tuple[str, ...]:
        """The sports this recording holds (sorted)."""
        return tuple(sorted(self._load()))

    def fetch_quotes(
        self,
        sport_key: str,
        *,
        markets: Sequence[str] = ("h2h",),
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
    ) -> NormalizeResult:
        recorded = self._load()
        if sport_key not in recorded:
            raise OddsReplayError(f"no recorded odds for sport {sport_key!r}; recorded: {sorted(recorded) or 'none'}")
        if sport_key not in self._normalized:
            item = recorded[sport_key]
            self._normalized[sport_key] = normalize_odds_response(
                item.payload, sport_key=sport_key, fetched_at=item.fetched_at, provider=item.provider,
                odds_format=item.odds_format, source=item.source,
            )
        result = self._normalized[sport_key]
        wanted = set(split_names(markets))
        quotes = tuple(
            q for q in result.quotes
            if q.market in wanted and _within(q.commence_time, commence_time_from, commence_time_to)
        )
        return replace(result, quotes=quotes, columns=None)  # the parse's columns hold every quote

    def close(self) -> None:
        """Nothing to release: recordings are read into memory."""
