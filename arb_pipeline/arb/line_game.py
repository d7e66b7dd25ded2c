"""The input of line detection: one spread or total line of one matched game, at one point.

Built by the services layer from resolved line markets (`mapping.results.ResolvedLine`) and the
books' quotes of the same line; `arb/` only reads it. Everything that must be true for the maths to
hold is checked here, at construction: every Kalshi contract's YES is a side of this line at this
point, and every sportsbook quote is exactly this line at exactly this point (a quote at another
point is a different bet and would silently break the cover).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from arb_pipeline.arb.lines import line_outcomes
from arb_pipeline.arb.market import KalshiContract
from arb_pipeline.domain import Outcome, SportsbookQuote, line_position, line_sides


def _aware(ts: datetime, where: str) -> datetime:
    if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{where} must be a timezone-aware datetime, got {ts!r}")
    return ts


def is_whole(point: Decimal) -> bool:
    return point == point.to_integral_value()


@dataclass(frozen=True, slots=True)
class LineGame:
    """One line (sportsbook `market` "spreads" or "totals") of one game at `point` on its axis.

    `kalshi[side]` is the Kalshi market whose YES is `side` of this line at this point (usually one
    side only: Kalshi lists "X wins by more than p"). `labels[side]` names each side for a trader
    ("Boston Celtics -3.5", "Over 221.5"); `quotes` are the books' prices of this line at this point.
    """

    event_ticker: str
    league: str
    commence_time: datetime
    market: str  # domain.SPREADS | domain.TOTALS
    point: Decimal
    labels: Mapping[Outcome, str]
    kalshi: Mapping[Outcome, KalshiContract]
    quotes: Sequence[SportsbookQuote] = ()
    tradable: bool = True
    blocked_reasons: tuple[str, ...] = ()
    sides: tuple[Outcome, Outcome] = field(init=False)
    whole: bool = field(init=False)  # a whole-number point: the push is an outcome
    outcomes: tuple[Outcome, ...] = field(init=False)  # (above, [push,] below)

    def __post_init__(self) -> None:
        sides = line_sides(self.market)
        _aware(self.commence_time, f"line {self.event_ticker} commence_time")
        if not isinstance(self.point, Decimal) or not self.point.is_finite():
            raise ValueError(f"line {self.event_ticker}: point must be a finite Decimal, got {self.point!r}")
        if (self.point * 2) % 1 != 0:
            raise ValueError(f"line {self.event_ticker}: point {self.point} is not a whole or half point "
                             "(quarter lines split the stake over two lines; not supported)")
        object.__setattr__(self, "sides", sides)
        object.__setattr__(self, "whole", is_whole(self.point))
        object.__setattr__(self, "outcomes", line_outcomes(sides, self.whole))
        for side, contract in self.kalshi.items():
            if side not in sides or contract.outcome != side:
                raise ValueError(f"line {self.event_ticker}: Kalshi contract {contract.ticker} keyed {side!r} "
                                 f"pays on {contract.outcome!r}; the sides are {sides}")
        for q in self.quotes:
            where = f"line {self.event_ticker}: quote from {q.bookmaker} ({q.market} {q.outcome} {q.point})"
            if q.market != self.market or q.point is None:
                raise ValueError(f"{where} is not a {self.market} quote with a point")
            side, at = line_position(q.market, q.outcome, q.point)
            if at != self.point:
                raise ValueError(f"{where} is at {at} on the line's axis, not {self.point}")
            _aware(q.last_update, where + " last_update")
        missing = [s for s in sides if s not in self.labels]
        if missing:
            raise ValueError(f"line {self.event_ticker}: no display label for side(s) {missing}")

    def label(self, outcome: Outcome) -> str:
        return self.labels.get(outcome, outcome.value)
