"""Parsing of Kalshi game tickers, used ONLY as a cross-check (Kalshi warns against relying on it).

Observed grammar (kalshi-api.md §8.3, not documented by Kalshi):
event `{SERIES}-{YY}{MON}{DD}[{HHMM}]{TEAM1}{TEAM2}`, market `{EVENT}-{CODE}` with CODE a team code or
`TIE`. The date (and the MLB start HHMM that separates doubleheaders) appear to be US Eastern, so a
7:30 pm ET game on Nov 3 is `26NOV03` although it commences at 00:30Z on Nov 4. Team order is NOT a
reliable home/away signal, so `split_team_codes` returns an unordered pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from arb_pipeline.mapping.catalogue import LeagueCatalogue
from arb_pipeline.slotted import fast_init

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_EVENT_RE = re.compile(r"^(?P<series>[A-Z0-9]+)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<hhmm>\d{4})?(?P<teams>[A-Z][A-Z0-9]*)$")
TIE_CODE = "TIE"


class TickerError(ValueError):
    """A ticker does not follow the observed grammar."""


@fast_init
@dataclass(frozen=True, slots=True)
class EventTicker:
    ticker: str
    series: str
    game_date: date  # as written in the ticker (apparently US Eastern)
    start_hhmm: time | None  # only some series (MLB) carry it
    team_blob: str  # the concatenated team codes, e.g. "BOSNYK"

    def local_start(self) -> datetime | None:
        """Naive date+time from the ticker (US Eastern wall clock), when the ticker has HHMM."""
        return datetime.combine(self.game_date, self.start_hhmm) if self.start_hhmm else None


def parse_event_ticker(ticker: str) -> EventTicker:
    m = _EVENT_RE.match(ticker)
    if not m:
        raise TickerError(f"event ticker {ticker!r} does not match SERIES-YYMONDD[HHMM]TEAMS")
    month = _MONTHS.get(m["mon"])
    if month is None:
        raise TickerError(f"event ticker {ticker!r}: unknown month {m['mon']!r}")
    try:
        game_date = date(2000 + int(m["yy"]), month, int(m["dd"]))
    except ValueError as exc:
        raise TickerError(f"event ticker {ticker!r}: invalid date: {exc}") from None
    start = None
    if m["hhmm"]:
        hh, mm = int(m["hhmm"][:2]), int(m["hhmm"][2:])
        if hh > 23 or mm > 59:
            raise TickerError(f"event ticker {ticker!r}: invalid start time {m['hhmm']!r}")
        start = time(hh, mm)
    return EventTicker(ticker, m["series"], game_date, start, m["teams"])


def market_code(market_ticker: str, event_ticker: str) -> str:
    """The suffix code of a market ticker (`-NYK`, `-TIE`); the market must belong to the event."""
    prefix = event_ticker + "-"
    if not market_ticker.startswith(prefix) or len(market_ticker) == len(prefix):
        raise TickerError(f"market ticker {market_ticker!r} is not '{event_ticker}-<CODE>'")
    code = market_ticker[len(prefix):]
    if "-" in code:
        raise TickerError(f"market ticker {market_ticker!r}: suffix {code!r} is not a single code")
    return code


def split_team_codes(blob: str, league: LeagueCatalogue) -> frozenset[str] | None:
    """Split `blob` into two known Kalshi codes of `league` → the pair of team ids.

    Returns None when no split, or more than one distinct split, uses two known codes: an ambiguous
    split is never guessed.
    """
    return league.memo(("split_team_codes", blob), lambda: _split(blob, league))


def _split(blob: str, league: LeagueCatalogue) -> frozenset[str] | None:
    found: set[frozenset[str]] = set()
    for cut in range(1, len(blob)):
        # the second half is looked up only when the first is a code: most cuts end there (same result)
        first = league.by_code(blob[:cut])
        if first is None:
            continue
        second = league.by_code(blob[cut:])
        if second is not None and first.id != second.id:
            found.add(frozenset((first.id, second.id)))
    return next(iter(found)) if len(found) == 1 else None
