"""How loud a run is: the run's console logger at ARB_LOG_LEVEL (INFO by default).

Dagster's console logger defaults to DEBUG, which prints every step event: ~190 lines per scan run,
2,280 in twelve minutes of `make demo`, burying the hedge alerts a trader must act on. Every job of
this code location (and the headless runner) takes this as its default run config; a person can
still raise it for one run in the launchpad, or for all with ARB_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import os

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def run_log_level() -> str:
    level = (os.environ.get("ARB_LOG_LEVEL") or "INFO").strip().upper()
    if level not in LEVELS:
        raise ValueError(f"ARB_LOG_LEVEL must be one of {', '.join(LEVELS)}, got {level!r}")
    return level


def run_logging_config() -> dict:
    return {"loggers": {"console": {"config": {"log_level": run_log_level()}}}}
