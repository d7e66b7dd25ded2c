"""What-if over a past day: simulated P&L of the stored snapshots under the configured rules and under
variants of the thresholds, the de-vig method or any other detection setting, side by side.

Nothing here places, records or sends an order: each variant re-runs `services.scan.scan` (the live
scan's own code) on every snapshot and *simulates* the trading rule on what it finds:

* only opportunities labelled executable under that variant are taken (`arb.accounts`: account
  books, ARB_TRADE_VALUE);
* an opportunity is taken once: the same Kalshi market and side is not re-entered within
  ARB_REENTRY_COOLDOWN_S (what execution's cooldown does), so one window seen on ten consecutive
  captures counts once;
* the day's open outlay never exceeds ARB_MAX_TOTAL_EXPOSURE (positions of a past day are held to
  settlement, so the outlay only grows).

P&L per taken opportunity: an arbitrage's **locked** profit (its worst outcome, net of Kalshi fees and
exchange commission, hedges at the quoted odds) and a value bet's **expected** profit against the
de-vigged consensus. Realized P&L needs game results, which stored snapshots do not carry: not claimed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from arb_pipeline.arb.money import decimal_text
from arb_pipeline.settings import Settings

ZERO = Decimal(0)
BASE = "as configured"


class WhatIfError(ValueError):
    """A what-if variant that cannot be applied (unknown setting, bad value): says which and why."""


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    overrides: Mapping[str, str]  # ARB_... variable -> value, as in .env
    settings: Settings


def parse_variant(text: str, base: Settings) -> Variant:
    """`[label:] ARB_X=value; ARB_Y=value` -> the base settings with those variables changed.

    Assignments are separated by `;` (values such as ARB_ACCOUNT_BOOKS contain commas). Only
    variables of the settings are accepted, each validated exactly as at start-up.
    """
    label, sep, body = text.partition(":")
    if not sep or "=" in label:
        label, body = "", text
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in body.split(";"))):
        name, eq, value = item.partition("=")
        name = name.strip().upper()
        if not eq or not name:
            raise WhatIfError(f"what-if {text!r}: expected ARB_NAME=value, got {item!r}")
        if name not in _ALIASES:
            raise WhatIfError(f"what-if {text!r}: {name} is not a setting (see .env.example)")
        if name in _NOT_WHAT_IF:
            raise WhatIfError(f"what-if {text!r}: {name} cannot vary in a replay (secrets, venues, storage)")
        overrides[name] = value.strip()
    if not overrides:
        raise WhatIfError(f"what-if {text!r}: no ARB_NAME=value assignment")
    try:
        settings = Settings.model_validate({**base.model_dump(by_alias=True), **overrides})
        settings.book_commission_rates(), settings.book_stake_limit_map(), settings.account_book_set()
        settings.consensus_book_set(), settings.sharp_book_weights()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise WhatIfError(f"what-if {text!r}: {problems}") from None
    except ValueError as exc:
        raise WhatIfError(f"what-if {text!r}: {exc}") from None
    name = label.strip() or "; ".join(f"{k}={v}" for k, v in overrides.items())
    return Variant(name, overrides, settings)


_ALIASES = {f.alias for f in Settings.model_fields.values() if f.alias}
_NOT_WHAT_IF = {"DATABASE_URL", "ARB_DATA_DIR", "ARB_MODE", "KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH",
                "KALSHI_PRIVATE_KEY_PEM", "KALSHI_BASE_URL", "ODDS_API_KEY", "ODDS_API_BASE_URL",
                "ARB_ALERT_WEBHOOK_URL", "ARB_SMTP_PASSWORD", "ARB_API_TOKEN", "ARB_API_TOKEN_FILE"}


@dataclass(slots=True)
class DayResult:
    """One variant's simulated day."""

    name: str
    overrides: Mapping[str, str]
    snapshots: int = 0
    found: int = 0  # opportunities detected, over all snapshots (the same one seen twice counts twice)
    not_executable: int = 0
    taken_arbitrage: int = 0
    taken_value: int = 0
    skipped_reentry: int = 0
    skipped_exposure: int = 0
    outlay: Decimal = ZERO
    locked_profit: Decimal = ZERO  # arbitrage: worst-case profit, guaranteed at placement
    expected_value: Decimal = ZERO  # value bets: expected profit against the consensus
    _last_entry: dict[tuple[str, str], datetime] = field(default_factory=dict, repr=False)

    @property
    def pnl(self) -> Decimal:
        return self.locked_profit + self.expected_value

    def to_dict(self) -> dict[str, Any]:
        return {"variant": self.name, "overrides": dict(self.overrides), "snapshots": self.snapshots,
                "found": self.found, "not_executable": self.not_executable,
                "taken_arbitrage": self.taken_arbitrage, "taken_value": self.taken_value,
                "skipped_reentry": self.skipped_reentry, "skipped_exposure": self.skipped_exposure,
                "outlay": decimal_text(self.outlay), "locked_profit": decimal_text(self.locked_profit),
                "expected_value": decimal_text(self.expected_value), "simulated_pnl": decimal_text(self.pnl)}


def take(day: DayResult, opportunities: Sequence[Any], settings: Settings) -> None:
    """Apply the simulated trading rule to one snapshot's opportunities (best first, as detection sorts)."""
    cooldown = timedelta(seconds=settings.reentry_cooldown_s)
    day.snapshots += 1
    for opp in opportunities:
        day.found += 1
        if not opp.executable:
            day.not_executable += 1
            continue
        keys = [(leg.market, leg.side) for leg in opp.legs if leg.venue == "kalshi"]
        if any((last := day._last_entry.get(k)) is not None and opp.detected_at - last < cooldown for k in keys):
            day.skipped_reentry += 1
            continue
        if day.outlay + opp.cost > settings.max_total_exposure:
            day.skipped_exposure += 1
            continue
        for k in keys:
            day._last_entry[k] = opp.detected_at
        day.outlay += opp.cost
        if opp.kind == "arbitrage":
            day.taken_arbitrage += 1
            day.locked_profit += opp.profit
        else:
            day.taken_value += 1
            day.expected_value += opp.profit


def simulate_day(snapshots: Iterable[Any], base: Settings, variants: Sequence[str],
                 config_for: Callable[[Settings], Any], *,
                 base_results: Callable[[Any], Sequence[Any]] | None = None) -> list[DayResult]:
    """Simulated P&L of `snapshots` (in capture order) under the base settings and each variant.

    `config_for(settings)` builds the scan configuration (`services.mappings.configured_scan`, so stored
    mapping decisions apply to every variant); `base_results(snapshot)` may supply the base variant's
    opportunities when the caller already scanned them (the history replay does).
    """
    from arb_pipeline.services.scan import scan

    parsed = [Variant(BASE, {}, base)] + [parse_variant(v, base) for v in variants]
    configs = [config_for(v.settings) for v in parsed]
    days = [DayResult(v.name, v.overrides) for v in parsed]
    for snapshot in snapshots:
        for i, (variant, config, day) in enumerate(zip(parsed, configs, days, strict=True)):
            if i == 0 and base_results is not None:
                found = base_results(snapshot)
            else:
                found = scan(snapshot, config, as_of=snapshot.captured_at).detection.opportunities
            take(day, found, variant.settings)
    return days


def render_table(days: Sequence[DayResult]) -> str:
    """The variants side by side (markdown, for Dagster metadata and the CLI)."""
    head = ["variant", "snapshots", "found", "PAPER", "arbs taken", "value taken", "outlay", "locked arb profit",
            "expected value", "simulated P&L"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in days:
        cells = [d.name.replace("|", "\\|"), str(d.snapshots), str(d.found), str(d.not_executable),
                 str(d.taken_arbitrage), str(d.taken_value), f"${d.outlay:,.2f}", f"${d.locked_profit:,.2f}",
                 f"${d.expected_value:,.2f}", f"${d.pnl:,.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
