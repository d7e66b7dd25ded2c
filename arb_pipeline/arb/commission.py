"""Exchange commission on a sportsbook leg, exact: what a back bet pays after the book's cut.

Why a module of its own: betting exchanges (Betfair, Matchbook, Smarkets, ...) charge commission on
*net winnings* of a market, not on the stake, so a back at decimal odds `d` for stake `s` pays
`s + (d - 1) * s * (1 - c)` when it wins and loses `s` otherwise. The cover maths, the hedge sizing,
the ledger and settlement must all use that one formula, or a "locked" profit that ignores the cut
turns into a loss. Traditional sportsbooks charge nothing (rate 0), which reduces to `s * d`.

Rates are per book and configurable (`ARB_BOOK_COMMISSION`). The defaults below are the exchanges'
published base rates as far as we know them; they are UNVERIFIED here (no machine reaches the
exchanges) and a user on a discounted rate must set their own.

Simplification stated plainly: commission is charged per *market* on the net win of all bets in it;
for a single back bet per market (what a hedge instruction is) that equals the per-bet formula here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from arb_pipeline.arb.money import CENT, ONE, ZERO, ceil_to, floor_to, to_decimal

# UNVERIFIED defaults (exchange base rates on net winnings); override with ARB_BOOK_COMMISSION.
DEFAULT_BOOK_COMMISSION: Mapping[str, Decimal] = MappingProxyType(
    {
        "betfair_ex_eu": Decimal("0.05"),
        "betfair_ex_uk": Decimal("0.05"),
        "betfair_ex_au": Decimal("0.05"),
        "matchbook": Decimal("0.02"),
        "smarkets": Decimal("0.02"),
    }
)


class CommissionError(ValueError):
    """A commission rate or a commission setting that cannot be right."""


def check_rate(rate: Decimal, book: str) -> Decimal:
    """A commission rate is a fraction in [0, 1): 0.05 is 5 %. Anything else is refused by name."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate < ZERO or rate >= ONE:
        raise CommissionError(f"commission for book {book!r} must be a fraction in [0, 1), got {rate!r}")
    return rate


def parse_commission_setting(text: str, what: str = "ARB_BOOK_COMMISSION") -> dict[str, Decimal]:
    """Parse `book:rate,book:rate` (rates as fractions, e.g. `betfair_ex_eu:0.02`) over the defaults.

    A book named with no rate is an error rather than a silent 0: a missing cut is exactly the
    mistake this module exists to prevent.
    """
    rates = dict(DEFAULT_BOOK_COMMISSION)
    for item in filter(None, (part.strip() for part in text.split(","))):
        book, sep, raw = item.partition(":")
        book = book.strip()
        if not book or not sep or not raw.strip():
            raise CommissionError(f"{what}: expected book:rate, got {item!r}")
        try:
            rate = to_decimal(raw.strip(), f"{what} rate for {book!r}")
        except ValueError as exc:
            raise CommissionError(str(exc)) from None
        rates[book] = check_rate(rate, book)
    return rates


def commission_rate(book: str, rates: Mapping[str, Decimal] | None = None) -> Decimal:
    """The rate charged by `book` (0 for a book not listed: a traditional sportsbook)."""
    table = DEFAULT_BOOK_COMMISSION if rates is None else rates
    return table.get(book, ZERO)


def effective_decimal_odds(decimal_odds: Decimal, rate: Decimal) -> Decimal:
    """The decimal odds a winning back really pays after commission: `1 + (d - 1) * (1 - c)`.

    Exact (no rounding): the cover maths compares this with Kalshi's fee-inclusive cost.
    """
    return ONE + (decimal_odds - ONE) * (ONE - rate)


def commission_for(stake: Decimal, decimal_odds: Decimal, rate: Decimal) -> Decimal:
    """Commission on a winning back of `stake` at `decimal_odds`, in dollars, rounded *up* to the cent.

    Rounded against us, like Kalshi's fee (money rule: costs round up, payouts round down).
    """
    if rate == ZERO:
        return ZERO
    return ceil_to((decimal_odds - ONE) * stake * rate, CENT)


def book_net_payout(stake: Decimal, decimal_odds: Decimal, rate: Decimal) -> Decimal:
    """What a winning back of `stake` returns in total (stake included), net of commission.

    Gross winnings are floored to the cent (a book never pays a fraction of a cent), commission is
    rounded up: the conservative side on both.
    """
    gross = floor_to(stake * decimal_odds, CENT)
    return gross - commission_for(stake, decimal_odds, rate)
