"""Kalshi spread and total markets: the line each one trades and which side its YES takes.

Kalshi lists a game's spreads and totals as separate events (`KXNBASPREAD-…`, `KXNBATOTAL-…`) tied to
the game by the milestone's `related_event_tickers` (kalshi-api.md §8.6), so they reach the same
sportsbook game through the same identifiers as the winner markets. The line is the market's strike
(`floor_strike` with `strike_type` "greater": YES iff the result is *more than* the strike), never
its title or ticker suffix (whose encoding varies). A spread market's team is its `custom_strike`
target when it has one; otherwise — whether Kalshi sends one is UNVERIFIED — the team named by
`rules_primary` ("If <team> wins by more than X points ..."), which must be a participant. Every
other text (`yes_sub_title`, title, the ticker's code) is a cross-check that can only block.

On the line's axis (`domain.line_position`): a total's YES is OVER the strike; "home wins by more
than X" is HOME at X, "away wins by more than X" is AWAY at −X (the home margin below −X).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from arb_pipeline.domain import KalshiMarket, Outcome
from arb_pipeline.mapping.catalogue import SPREAD, TOTAL, Team
from arb_pipeline.mapping.rules import (
    Participants,
    ResolverConfig,
    RuleError,
    TeamLookup,
    named_participant,
    rules_date,
)

_NUMBER = r"(?P<x>\d+(?:\.\d+)?)"
_SPREAD_RULES = re.compile(rf"^\s*If\s+(?P<team>.+?)\s+wins\s+by\s+(?:more\s+than|over)\s+{_NUMBER}\b", re.I)
_SPREAD_LABEL = re.compile(rf"^\s*(?P<team>.+?)\s+wins\s+by\s+(?:over|more\s+than)\s+{_NUMBER}\b", re.I)
_TOTAL_RULES = re.compile(rf"\b(?:more\s+than|over)\s+{_NUMBER}\s+(?:total\s+)?(?:points|goals|runs)\b", re.I)
_TOTAL_LABEL = re.compile(rf"\bover\s+{_NUMBER}\b", re.I)
_SUFFIX_CODE = re.compile(r"^(?P<code>[A-Z]+)\d*[A-Z]?$")
_HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class LineSide:
    """What a spread/total market's YES pays on: the result strictly above `strike`."""

    market: KalshiMarket
    kind: str  # catalogue.SPREAD | catalogue.TOTAL
    strike: Decimal
    subject: Team | None  # spread: the team whose winning margin is measured; None for a total

    def position(self, home_id: str | None) -> tuple[Outcome, Decimal]:
        """YES as (side, point) on the line's axis, given the sportsbook game's home team."""
        if self.kind == TOTAL:
            return Outcome.OVER, self.strike
        assert self.subject is not None
        if self.subject.id == home_id:
            return Outcome.HOME, self.strike
        return Outcome.AWAY, -self.strike if self.strike else self.strike


# the unmapped Kalshi fields (`KalshiMarket.extra`) this module reads - all that resolution, pricing and
# detection read of `extra`: a scan keeps only these (`services.scan.SCAN_EXTRA_FIELDS`)
STRIKE_FIELDS = frozenset(("floor_strike", "cap_strike", "strike_type"))


def read_strike(market: KalshiMarket, config: ResolverConfig) -> Decimal:
    """The market's line from its strike fields; RuleError unless it is a plain "more than X" strike."""
    extra = market.extra
    raw = extra.get("floor_strike")
    if raw is None or isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise RuleError(f"market {market.ticker}: no floor_strike, so its line is unknown (never read from the title)")
    try:
        strike = Decimal(str(raw).strip())
    except InvalidOperation:
        raise RuleError(f"market {market.ticker}: floor_strike {raw!r} is not a number") from None
    if not strike.is_finite():
        raise RuleError(f"market {market.ticker}: floor_strike {raw!r} is not finite")
    if extra.get("cap_strike") is not None:
        raise RuleError(f"market {market.ticker}: has a cap_strike {extra['cap_strike']!r}: a range, not a line")
    strike_type = extra.get("strike_type")
    if strike_type is not None and strike_type not in config.line_strike_types:
        raise RuleError(f"market {market.ticker}: strike_type {strike_type!r} is not one of "
                        f"{list(config.line_strike_types)} (YES iff result > floor_strike)")
    if (strike / _HALF) % 1 != 0:
        raise RuleError(f"market {market.ticker}: strike {strike} is not a whole or half point; no sportsbook "
                        "line at exactly that point can pair with it")
    return strike


def line_market_side(market: KalshiMarket, kind: str, parts: Participants, lookup: TeamLookup,
                     config: ResolverConfig, event_ticker: str, ticker_date: date | None = None) -> LineSide:
    """The line and YES side of one spread or total market (RuleError with every reason otherwise).

    `ticker_date`, when the event ticker follows the observed grammar: the rules' "originally
    scheduled for" date must be it (two Kalshi texts of one market must agree)."""
    written = rules_date(market)
    if ticker_date is not None and written is not None and written != ticker_date:
        raise RuleError(f"market {market.ticker}: rules_primary date {written:%b} {written.day}, {written.year} "
                        f"disagrees with ticker date {ticker_date}")
    strike = read_strike(market, config)
    if kind == TOTAL:
        if strike < 0:
            raise RuleError(f"market {market.ticker}: a total's strike cannot be negative ({strike})")
        texts = (("rules_primary", _TOTAL_RULES.search(market.rules_primary or "")),
                 ("yes_sub_title", _TOTAL_LABEL.search(market.yes_sub_title or "")),
                 ("title", _TOTAL_LABEL.search(market.title or "")))
        if market.extra.get("strike_type") is None and texts[0][1] is None:
            raise RuleError(f"market {market.ticker}: no strike_type and rules_primary does not say "
                            "'more than X points': the direction of the line is unknown")
        _check_numbers(market, strike, texts)
        return LineSide(market, kind, strike, None)
    if kind != SPREAD:
        raise ValueError(f"unknown line kind {kind!r}")
    rules = _SPREAD_RULES.search(market.rules_primary or "")
    label = _SPREAD_LABEL.search(market.yes_sub_title or "")
    if market.extra.get("strike_type") is None and rules is None:
        raise RuleError(f"market {market.ticker}: no strike_type and rules_primary does not say "
                        "'<team> wins by more than X': the direction of the line is unknown")
    _check_numbers(market, strike, (("rules_primary", rules), ("yes_sub_title", label)))
    subject = _spread_subject(market, parts, lookup, rules)
    disagree = []
    for what, found in (("rules_primary", rules), ("yes_sub_title", label)):
        named = named_participant(found["team"], parts, lookup) if found else None
        if named is not None and named.id != subject.id:
            disagree.append(f"{what} {found['team']!r}→{named.id}")  # type: ignore[index]
    suffix = market.ticker[len(event_ticker) + 1:] if market.ticker.startswith(event_ticker + "-") else ""
    code = _SUFFIX_CODE.match(suffix)
    by_code = lookup.code(code["code"]) if code else None
    if by_code is not None and by_code.id != subject.id:
        disagree.append(f"ticker code {code['code']!r}→{by_code.id}")  # type: ignore[index]
    if disagree:
        raise RuleError(f"market {market.ticker}: cross-checks disagree with its team {subject.id}: "
                        + "; ".join(disagree))
    return LineSide(market, kind, strike, subject)


def _spread_subject(market: KalshiMarket, parts: Participants, lookup: TeamLookup,
                    rules: re.Match[str] | None) -> Team:
    targets = {v for v in (market.custom_strike or {}).values() if isinstance(v, str) and v}
    if len(targets) > 1:
        raise RuleError(f"market {market.ticker}: custom_strike names several targets {sorted(targets)}")
    if targets:
        (target_id,) = targets
        try:
            team = lookup.identify(target_id)
        except RuleError as exc:
            raise RuleError(f"market {market.ticker}: {exc}") from None
        where = f"custom_strike target {target_id}"
    else:
        named = named_participant(rules["team"], parts, lookup) if rules else None
        if named is None:
            said = repr(rules["team"]) if rules else "no 'If <team> wins by' clause"
            raise RuleError(f"market {market.ticker}: a spread with no custom_strike target whose rules_primary "
                            f"names no participant ({said}): its team is unknown")
        team, where = named, f"rules_primary team {rules['team']!r}"  # type: ignore[index]
    if team.id not in parts.pair:
        raise RuleError(f"market {market.ticker}: {where} is {team.id}, not one of the milestone's teams "
                        f"{parts.home.id}/{parts.away.id}")
    return team


def _check_numbers(market: KalshiMarket, strike: Decimal,
                   texts: tuple[tuple[str, re.Match[str] | None], ...]) -> None:
    """Every text that states the line must state the strike (a text that does not is silent)."""
    wrong = [f"{what} says {found['x']}" for what, found in texts if found and Decimal(found["x"]) != strike]
    if wrong:
        raise RuleError(f"market {market.ticker}: floor_strike {strike} but " + "; ".join(wrong))
