"""Operator actions shared by the CLI and Dagster: the circuit breaker's status, kill switch, reset.

The breaker's state lives in the database (Money rule 6), so a trip made here stops every run
process on its next order check.
"""

from __future__ import annotations

import getpass

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


def breaker_command(action: str, *, reason: str, who: str | None, settings: Settings) -> str:
    breaker = breaker_for(settings)
    operator = operator_name(who)
    if action == "status":
        status = breaker.status()
    elif action == "trip":
        status = breaker.trip(reason, operator)
    elif action == "reset":
        status = breaker.reset(operator)
    else:
        raise ValueError(f"breaker: unknown action {action!r} (status, trip, reset)")
    lines = [status.describe()]
    events = breaker.events(limit=5)
    if events:
        lines.append("recent transitions:")
        lines += [
            f"  {e.get('at')}  {e.get('from')} -> {e.get('to')}  {e.get('trigger')}: "
            f"{e.get('reason')} (by {e.get('who')})"
            for e in events
        ]
    return "\n".join(lines)
