"""Execution resources: the DB-backed circuit breaker and the execution mode (paper by default).

The breaker's state lives in the application database (`execution.breaker`), so the webserver,
the daemon and every run process see one state; this resource only builds it on the right database
with the settings' limits and an alert sink that persists and de-duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import dagster as dg
from pydantic import Field

from arb_pipeline.defs.shared.resources import (
    AppDatabaseResource,
    alert_sink,
    current_settings,
    database,
    env_or,
)

CIRCUIT_BREAKER_KEY = "circuit_breaker"
EXECUTION_KEY = "execution"


class CircuitBreakerResource(dg.ConfigurableResource):
    """The circuit breaker (`execution.breaker.CircuitBreaker`) on the application database."""

    database: AppDatabaseResource
    name: str = Field(default="kalshi", description="breaker name (one per venue)")

    def sessions(self) -> Any:
        from arb_pipeline.storage.db import session_factory

        return session_factory(self.database.engine())

    def breaker(self, clock: Callable[[], datetime] | None = None) -> Any:
        """The breaker; `clock` replaces the wall clock for a replay (see `executed_orders`)."""
        from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker

        extra = {"clock": clock} if clock is not None else {}
        return CircuitBreaker(
            self.sessions(),
            BreakerConfig.from_settings(current_settings()),
            alert=alert_sink(self.database),
            name=self.name,
            **extra,
        )

    def status(self) -> Any:
        return self.breaker().status()


class ExecutionResource(dg.ConfigurableResource):
    """How orders are placed: `paper` (default: simulated fills, nothing leaves the machine) or `live`.

    Live needs ARB_MODE=live *and* Kalshi credentials, and says so loudly at the start of every
    execution step (Money rule 5).
    """

    # str, not Literal: a field bound to an EnvVar is validated with the variable's name at load time
    mode: str = Field(default="paper", description="paper | live (ARB_MODE)")

    def live_problems(self) -> list[str]:
        if self.mode not in ("paper", "live"):
            return [f"execution mode must be 'paper' or 'live', got {self.mode!r} (ARB_MODE)"]
        if self.mode != "live":
            return []
        settings = current_settings()
        problems = []
        if settings.mode != "live":
            problems.append("ARB_MODE is not 'live' in the settings")
        if not settings.kalshi_key_id:
            problems.append("KALSHI_API_KEY_ID is not set")
        if settings.kalshi_private_key_path is None and settings.kalshi_private_key_pem is None:
            problems.append("no Kalshi private key (KALSHI_PRIVATE_KEY_PATH or KALSHI_PRIVATE_KEY_PEM)")
        return problems

    def announce(self, log: Any) -> None:
        if self.mode == "live":
            log.warning("!!! LIVE MODE: executed_orders will place REAL orders on Kalshi with real money !!!")
        else:
            log.info("paper mode: orders are simulated and recorded; nothing is sent to Kalshi")


circuit_breaker = CircuitBreakerResource(database=database)
execution = ExecutionResource(mode=env_or("ARB_MODE", "paper"))
