"""Operator actions shared by the CLI and Dagster: the circuit breaker's status, kill switch, reset.

The breaker's state lives in the database (Money rule 6), so a trip made here stops every run
process on its next order check.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from arb_pipeline.settings import Settings


def operator_name(who: str | None) -> str:
    """Who an operator action is recorded as: the given name, else the login name."""
    if who:
        return who
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): still record something honest
        return "unknown"


def breaker_for(settings: Settings):
    """The application's circuit breaker on the configured database, alerting through `Alerter`."""
    from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
    from arb_pipeline.services.alerts import default_alerter
    from arb_pipeline.storage.db import get_engine, session_factory
    from arb_pipeline.storage.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.effective_database_url)
    upgrade(engine)  # idempotent: an operator may reach for the kill switch before the first scan
    alerter = default_alerter(settings)
    return CircuitBreaker(session_factory(engine), BreakerConfig.from_settings(settings), alert=alerter.send)


@dataclass(frozen=True)
class RiskNow:
    """The numbers the breaker judges before an order, both legs (Money rule 9): today's realized P&L
    (Kalshi settlements and netting + sportsbook bets settled) and the open exposure (open Kalshi
    positions at cost + placed sportsbook stakes not settled), with the Kalshi cost still unhedged."""

    mode: str
    day_start: datetime  # the UTC day the loss limit counts
    realized_today: Decimal
    open_exposure: Decimal
    kalshi_exposure: Decimal = Decimal(0)
    book_exposure: Decimal = Decimal(0)
    unhedged_exposure: Decimal = Decimal(0)


def risk_now(sessions, mode: str, at: datetime) -> RiskNow:
    """Today's (UTC) two-leg realized P&L and open exposure of `mode` (`services.ledger.risk`), the
    one computation `services.execute` (before each order), reconciliation and the desk use."""
    from arb_pipeline.services.ledger import risk
    from arb_pipeline.storage.db import session_scope

    with session_scope(sessions) as session:
        r = risk(session, mode, at)
    return RiskNow(mode, r.day_start, r.realized_today, r.open_exposure, r.kalshi_exposure, r.book_exposure,
                   r.unhedged_exposure)


def breaker_overview(breaker, settings: Settings, *, at: datetime | None = None, events: int = 10) -> dict[str, Any]:
    """Everything a person needs to judge the breaker: its state and why, its limits, today's loss,
    the open exposure and the recent transitions (the API's `/api/breaker` and `breaker status`)."""
    from arb_pipeline.arb.money import decimal_text

    now = at or datetime.now(UTC)
    status = breaker.status()
    risk = risk_now(breaker.sessions, settings.mode, now)
    limits = {k: (decimal_text(v) if isinstance(v, Decimal) else v) for k, v in asdict(breaker.config).items()}
    return {
        "name": status.name,
        "state": status.state.value,
        "reason": status.reason,
        "manual": status.manual,
        "opened_at": status.opened_at.isoformat() if status.opened_at else None,
        "cooldown_remaining_s": status.cooldown_remaining_s,
        "consecutive_errors": status.consecutive_errors,
        "updated_at": status.updated_at.isoformat(),
        "updated_by": status.updated_by,
        "description": status.describe(),
        "mode": risk.mode,
        "day_start": risk.day_start.isoformat(),
        "realized_pnl_today": decimal_text(risk.realized_today),
        "loss_today": decimal_text(max(-risk.realized_today, Decimal(0))),
        "open_exposure": decimal_text(risk.open_exposure),
        "kalshi_exposure": decimal_text(risk.kalshi_exposure),
        "book_exposure": decimal_text(risk.book_exposure),
        "unhedged_exposure": decimal_text(risk.unhedged_exposure),
        "limits": limits,
        "recent_transitions": [
            {**e, "at": e["at"].isoformat() if isinstance(e.get("at"), datetime) else e.get("at")}
            for e in breaker.events(limit=events)
        ],
    }


def act_on_breaker(breaker, action: str, *, reason: str, who: str | None):
    """Trip (the manual kill switch) or reset the breaker; `status` only reads. Returns the status."""
    operator = operator_name(who)
    if action == "status":
        return breaker.status()
    if action == "trip":
        return breaker.trip(reason, operator)
    if action == "reset":
        return breaker.reset(operator)
    raise ValueError(f"breaker: unknown action {action!r} (status, trip, reset)")


def render_breaker_overview(overview: dict[str, Any]) -> str:
    """`arb-pipeline breaker status` for a person: state, limits, today's loss and exposure, history."""
    from arb_pipeline.services.report import money

    limits = overview["limits"]
    lines = [
        overview["description"],
        f"mode {overview['mode']}: realized today (UTC) {money(Decimal(overview['realized_pnl_today']))} "
        f"(loss {money(Decimal(overview['loss_today']))} of the {money(Decimal(limits['max_daily_loss']))} limit); "
        f"open exposure {money(Decimal(overview['open_exposure']))} "
        f"of the {money(Decimal(limits['max_open_exposure']))} limit",
        f"limits: {limits['max_consecutive_errors']} consecutive order errors, market data older than "
        f"{limits['max_data_age_s']:.0f}s, API error rate over {limits['max_api_error_rate']:.0%} "
        f"(after {limits['api_min_calls']} calls in {limits['api_window_s']:.0f}s); half-open after "
        f"{limits['cooldown_s']:.0f}s (a manual trip waits for a reset)",
    ]
    events = overview["recent_transitions"][:5]
    if events:
        lines.append("recent transitions:")
        lines += [f"  {e.get('at')}  {e.get('from')} -> {e.get('to')}  {e.get('trigger')}: "
                  f"{e.get('reason')} (by {e.get('who')})" for e in events]
    return "\n".join(lines)


def breaker_command(action: str, *, reason: str, who: str | None, settings: Settings) -> str:
    breaker = breaker_for(settings)
    act_on_breaker(breaker, action, reason=reason, who=who)
    return render_breaker_overview(breaker_overview(breaker, settings))
