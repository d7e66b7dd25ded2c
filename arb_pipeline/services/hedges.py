"""The hedge lifecycle: what a person does with a sportsbook leg, for the CLI, the API and Dagster.

pending -> placed   (`mark_placed`: the odds and stake actually taken; the arbitrage's locked profit
                     is recomputed from them, commission included)
pending -> abandoned (`abandon`: a person gives up on it - the Kalshi leg stays open, one-sided)
pending -> expired  (`expire_due`: not placed by `expires_at`, ARB_HEDGE_EXPIRY_BEFORE_START_S before
                     the game starts; decided with the caller's `at`)

Placing beyond the worst acceptable odds - or at any odds and stake that leave some game outcome
losing money - is refused with the numbers, unless `force` is given: then it is recorded as placed,
the note says it was forced and what it locks, and a critical alert names it. Abandoned and expired
hedges leave open exposure that the breaker counts (`services.ledger.risk`) and one alert names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.arb.money import CENT, ZERO
from arb_pipeline.services.desk import hedge_dict
from arb_pipeline.services.ledger import Arbitrage, load_arbitrage
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import HedgeInstruction, OpportunityRecord
from arb_pipeline.storage.repositories.hedges import HedgeRepository, HedgeTransitionError

AlertSink = Callable[[str, str, str, str], object]
MAX_ODDS = Decimal("1000")


class HedgeNotFound(KeyError):
    """No hedge instruction with that id."""

    def __str__(self) -> str:  # KeyError quotes its message; a person reads this one
        return str(self.args[0])


class HedgeRefused(ValueError):
    """The action is well-formed but refused (a state it cannot leave, odds beyond the worst acceptable)."""


def parse_amount(text: str | Decimal, what: str, *, places: int) -> Decimal:
    """A positive decimal given by a person, with at most `places` decimals: refused with what was wrong."""
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{what} must be a positive number, got {text!r}")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{what} has at most {places} decimals, got {text!r}")
    return value


@dataclass(frozen=True)
class Placed:
    hedge: dict[str, Any]
    locked_before: Decimal  # the arbitrage's worst case as planned (this leg at its quoted terms)
    locked_after: Decimal  # with this leg as placed
    forced: bool


def _money(value: Decimal) -> str:
    return f"${value.quantize(CENT)}" if value >= 0 else f"-${(-value).quantize(CENT)}"


def _arbitrage(session: Session, row: HedgeInstruction) -> Arbitrage | None:
    record = session.get(OpportunityRecord, row.opportunity_id)
    return load_arbitrage(session, record, row.mode) if record is not None else None


def _require(repo: HedgeRepository, hedge_id: int) -> HedgeInstruction:
    row = repo.get(hedge_id)
    if row is None:
        raise HedgeNotFound(f"no hedge instruction {hedge_id}")
    return row


def mark_placed(sessions: sessionmaker[Session], hedge_id: int, *, odds: str | Decimal, stake: str | Decimal,
                who: str, at: datetime, force: bool = False, alert: AlertSink | None = None) -> Placed:
    """Record that a person placed this hedge at `odds` for `stake` (what the book actually took)."""
    odds_d = parse_amount(odds, "odds", places=4)
    stake_d = parse_amount(stake, "stake", places=2)
    if odds_d <= 1 or odds_d > MAX_ODDS:
        raise ValueError(f"odds are decimal odds above 1 (at most {MAX_ODDS}), got {odds}")
    if not who.strip():
        raise ValueError("say who placed it (who)")
    with session_scope(sessions) as session:
        repo = HedgeRepository(session)
        row = _require(repo, hedge_id)
        if row.status != "pending":
            raise HedgeRefused(f"hedge {hedge_id} is {row.status}, not pending: it cannot be marked placed")
        arb = _arbitrage(session, row)
        before = arb.locked_profit(planned=True) if arb else ZERO
        after = _locked_with(arb, row, odds_d, stake_d) if arb else None
        problems = []
        if row.worst_acceptable_odds is not None and odds_d < row.worst_acceptable_odds:
            problems.append(f"odds {odds_d} are below the worst acceptable {row.worst_acceptable_odds}")
        if after is not None and after < 0:
            problems.append(f"placed at {odds_d} for {_money(stake_d)} the arbitrage would lock {_money(after)}")
        if problems and not force:
            raise HedgeRefused(f"hedge {hedge_id} refused: {'; '.join(problems)}. Place it at better odds, "
                               "or record what was really taken with force (--force / \"force\": true)")
        note = row.note
        if odds_d < row.odds:
            note = (f"placed at {odds_d}, worse than the quoted {row.odds}: locked profit "
                    f"{_money(before)} -> {_money(after if after is not None else ZERO)}")
        if problems:
            note = f"FORCED by {who}: {'; '.join(problems)}"
        row = repo.place(hedge_id, odds=odds_d, stake=stake_d, who=who.strip(), note=note, at=at)
        result = hedge_dict(row)
    if problems and alert is not None:
        alert("critical", f"hedge {hedge_id} placed beyond its worst acceptable odds",
              f"{result['bookmaker']}: {result['event']} - {result['selection']}: {'; '.join(problems)} "
              f"(forced by {who})", f"hedge-forced:{hedge_id}")
    return Placed(result, before, after if after is not None else ZERO, bool(problems))


def _locked_with(arb: Arbitrage, row: HedgeInstruction, odds: Decimal, stake: Decimal) -> Decimal:
    from dataclasses import replace

    arb.books = [replace(b, status="placed", odds=odds, stake=stake) if b.hedge_id == row.id else b
                 for b in arb.books]
    return arb.locked_profit(planned=False)


def abandon(sessions: sessionmaker[Session], hedge_id: int, *, who: str, why: str, at: datetime,
            alert: AlertSink | None = None) -> dict[str, Any]:
    """A person gives up on this hedge: the Kalshi leg stays open and one-sided (alerted once)."""
    if not who.strip() or not why.strip():
        raise ValueError("abandoning a hedge needs who and why")
    return _close(sessions, hedge_id, "abandoned", who=who.strip(), why=why.strip(), at=at, alert=alert)


def _close(sessions: sessionmaker[Session], hedge_id: int, status: str, *, who: str, why: str, at: datetime,
           alert: AlertSink | None) -> dict[str, Any]:
    with session_scope(sessions) as session:
        repo = HedgeRepository(session)
        row = _require(repo, hedge_id)
        try:
            row = repo.close(hedge_id, status, who=who, note=f"{status}: {why}", at=at)
        except HedgeTransitionError as exc:
            raise HedgeRefused(str(exc)) from None
        arb = _arbitrage(session, row)
        exposure = arb.kalshi_cost if arb else ZERO
        result = hedge_dict(row)
    if alert is not None:
        alert("critical", f"unhedged exposure: hedge {hedge_id} {status}",
              f"{result['bookmaker']}: {result['event']} - back {result['selection']} for {_money(Decimal(result['stake']))} "
              f"was {status} ({why}). The Kalshi leg ({_money(exposure)}) is open and one-sided until its market "
              "settles; the breaker counts it as exposure.", f"hedge-unhedged:{hedge_id}")
    return result


def expire_due(sessions: sessionmaker[Session], mode: str, at: datetime, alert: AlertSink | None = None) -> list[int]:
    """Expire every pending hedge of `mode` whose `expires_at` has passed at `at`; alerts each once."""
    with session_scope(sessions) as session:
        due = [h.id for h in HedgeRepository(session).due_to_expire(mode, at)]
    expired = []
    for hedge_id in due:
        try:
            _close(sessions, hedge_id, "expired", who="system", why=f"not placed by its expiry (checked at "
                   f"{at.isoformat()})", at=at, alert=alert)
        except HedgeRefused:  # a person placed or abandoned it meanwhile: theirs stands
            continue
        expired.append(hedge_id)
    return expired


def list_hedges(sessions: sessionmaker[Session], *, statuses: Iterable[str] | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    from arb_pipeline.services.desk import hedges

    with session_scope(sessions) as session:
        return hedges(session, statuses=statuses, limit=limit)


def render_hedges(rows: list[dict[str, Any]]) -> str:
    """`arb-pipeline hedge list` for a person: money to the cent, odds as quoted."""
    if not rows:
        return "no hedge instruction"
    header = f"{'id':>4}  {'status':<12} {'book':<14} {'back':<26} {'stake':>10} {'odds':>8} {'worst':>8}  " \
             f"{'expires':<20} game"
    lines = [header]
    for h in rows:
        stake = h.get("placed_stake") or h["stake"]
        odds = h.get("placed_odds") or h["odds"]
        lines.append(f"{h['id']:>4}  {h['status']:<12} {h['bookmaker'][:14]:<14} {h['selection'][:26]:<26} "
                     f"{_money(Decimal(stake)):>10} {_odds(odds):>8} {_odds(h['worst_acceptable_odds']):>8}  "
                     f"{(h.get('expires_at') or '-')[:19]:<20} {h['event']}")
        if h.get("note"):
            lines.append(f"      {h['note']}")
    return "\n".join(lines)


def _odds(text: str | None) -> str:
    if text is None:
        return "-"
    whole, _, frac = str(text).partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"
