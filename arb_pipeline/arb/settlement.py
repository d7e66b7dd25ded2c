"""What a Kalshi position pays when its market settles: one rule for the ledger, the CLI and reconciliation.

A market's result is carried as text everywhere (the CLI's `--result`, the game marks, the ledger's
detail): `yes`, `no`, `void`, or - for Kalshi's `scalar` result (kalshi-api.md §7.4, §12: a binary
market settled at a value, e.g. a cancelled game settled at a fair price) - the settlement value
itself as a decimal between 0 and 1, so `0.43` means "each YES contract pays $0.43, each NO $0.57".

UNVERIFIED (the reference documents neither payout): a scalar payout is rounded *down* to the cent
(kalshi-api.md §7.2 says only that sub-cent scalar settlements may cost a rounding fee, and Money rule 1
never counts money we may not get), and a `void` result (API 3.15 only) refunds the position's cost,
fees included. In live mode the venue's settlement revenue overrides both, so only paper mode relies
on them.
"""

from __future__ import annotations

from decimal import Decimal

from arb_pipeline.arb.money import CENT, ONE, ZERO, floor_to, to_decimal

YES, NO, VOID = "yes", "no", "void"
WHOLE = (YES, NO)


def parse_result(text: str, where: str = "result") -> str:
    """A result as this project writes it (`yes`/`no`/`void`/a value in [0, 1]); anything else is a clear
    error naming `where`. A value of exactly 1 or 0 is the plain `yes`/`no`."""
    cleaned = str(text).strip().lower()
    if cleaned in (YES, NO, VOID):
        return cleaned
    try:
        value = to_decimal(cleaned, where)
    except ValueError:
        raise ValueError(f"{where}: expected yes, no, void or a settlement value between 0 and 1, "
                         f"got {text!r}") from None
    if not ZERO <= value <= ONE:
        raise ValueError(f"{where}: a settlement value is between 0 and 1, got {text!r}")
    if value != 0 and value.normalize().as_tuple().exponent < -6:
        raise ValueError(f"{where}: a settlement value has at most 6 decimals (Kalshi sends 4), got {text!r}")
    if value == ONE:
        return YES
    if value == ZERO:
        return NO
    return format(value.normalize(), "f")


def scalar_value(result: str) -> Decimal | None:
    """The settlement value of a scalar result, None for yes/no/void."""
    return None if result in (YES, NO, VOID) else Decimal(result)


def decides_winner(result: str) -> bool:
    """Whether the result names a winner (yes/no); a void or scalar settlement says the game did not
    end in a result the market's outcome describes (cancelled, postponed, ...)."""
    return result in WHOLE


def position_payout(result: str, contracts: Decimal, cost: Decimal) -> Decimal:
    """What a position of `contracts` (signed: > 0 holds YES, < 0 holds NO) pays on `result`.
    `cost` is what the position cost in total, fees included (a void refunds it)."""
    result = parse_result(result)
    held = abs(contracts)
    if result == VOID:
        return cost
    if result in WHOLE:
        return held if contracts != 0 and (result == YES) == (contracts > 0) else ZERO
    value = Decimal(result)
    per_contract = value if contracts > 0 else ONE - value
    return floor_to(held * per_contract, CENT)
