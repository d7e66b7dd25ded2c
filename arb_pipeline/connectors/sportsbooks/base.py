"""The one interface every odds provider implements, and the records it returns.

A provider turns some odds source (a live HTTP API, a recorded snapshot) into normalized
`SportsbookQuote`s. Everything downstream (mapping, devig, detection) sees only those records, so a
second live provider is one new module plus a registry entry, with no change elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from arb_pipeline.domain import QuoteColumns, SportsbookQuote

# Provider sport keys → our league codes (the catalogue's, mapping/data/*.yaml; a test keeps them in
# step). A sport key not listed here maps to the key upper-cased (e.g. "cricket_ipl" → "CRICKET_IPL"):
# visibly not one of ours, yet stable and traceable.
LEAGUE_BY_SPORT_KEY: Mapping[str, str] = {
    "americanfootball_nfl": "NFL",
    "basketball_nba": "NBA",
    "icehockey_nhl": "NHL",
    "baseball_mlb": "MLB",
    "soccer_epl": "EPL",
    "americanfootball_ncaaf": "NCAAF",
    "basketball_ncaab": "NCAAMB",
    "basketball_wnba": "WNBA",
    "soccer_usa_mls": "MLS",
    "soccer_uefa_champs_league": "UCL",
    "soccer_uefa_europa_league": "UEL",  # UNVERIFIED key (not in sportsbook-odds.md §1.7): UCL's pattern
    "soccer_spain_la_liga": "LALIGA",
    "soccer_italy_serie_a": "SERIEA",
    "soccer_germany_bundesliga": "BUNDESLIGA",
    "soccer_france_ligue_one": "LIGUE1",
    "mma_mixed_martial_arts": "UFC",
}
# Tennis is keyed per tournament ("tennis_atp_us_open"): matched by prefix (UNVERIFIED, as the catalogue says).
LEAGUE_BY_SPORT_KEY_PREFIX: Mapping[str, str] = {"tennis_atp_": "ATP", "tennis_wta_": "WTA"}


def league_for_sport(sport_key: str) -> str:
    """Our league code for a provider sport key; unknown keys map to the key upper-cased."""
    league = LEAGUE_BY_SPORT_KEY.get(sport_key)
    if league is not None:
        return league
    for prefix, code in LEAGUE_BY_SPORT_KEY_PREFIX.items():
        if sport_key.startswith(prefix):
            return code
    return sport_key.upper()


def split_names(names: str | Sequence[str]) -> tuple[str, ...]:
    """A comma list ("us,eu") or a sequence of names as a tuple; a bare string is never read as letters."""
    parts = names.split(",") if isinstance(names, str) else names
    return tuple(part.strip() for part in parts if part.strip())


@dataclass(frozen=True, slots=True)
class NormalizeProblem:
    """One item that could not become a quote, with enough context to find it in the raw response."""

    source: str  # file or URL path the payload came from ("" when unknown)
    path: str  # JSON path inside the payload, e.g. "$[2].bookmakers[0].markets[0].outcomes[1].price"
    message: str
    event_id: str | None = None
    bookmaker: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:" if self.source else ""
        ctx = ", ".join(
            f"{k} {v}" for k, v in (("event", self.event_id), ("bookmaker", self.bookmaker)) if v
        )
        return f"{where}{self.path}" + (f" ({ctx})" if ctx else "") + f": {self.message}"


@dataclass(frozen=True, slots=True)
class NormalizeResult:
    """Quotes made from one odds response, plus every problem met on the way (nothing is dropped silently).

    `ignored_markets` counts market keys present in the response that we do not model (e.g. exchange
    `h2h_lay`): they are neither quotes nor errors. `odds_format` is the format the prices were read in.
    """

    quotes: tuple[SportsbookQuote, ...]
    problems: tuple[NormalizeProblem, ...] = ()
    ignored_markets: Mapping[str, int] = field(default_factory=dict)
    odds_format: str | None = None
    columns: QuoteColumns | None = field(default=None, repr=False, compare=False)  # `quotes` column-wise


@runtime_checkable
class OddsProvider(Protocol):
    """What the scan needs from any odds source: normalized quotes for one sport.

    `markets` and the commence-time window are filters with the same meaning for every provider
    (a replay applies them to the recorded data; a live API sends them as query parameters).
    Datetimes are timezone-aware UTC.
    """

    name: str

    def fetch_quotes(
        self,
        sport_key: str,
        *,
        markets: Sequence[str] = ("h2h",),
        commence_time_from: datetime | None = None,
        commence_time_to: datetime | None = None,
    ) -> NormalizeResult: ...

    def close(self) -> None: ...
