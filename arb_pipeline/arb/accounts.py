"""Which books a trader can bet, and the one rule that says whether an opportunity is executable.

Two different sets of sportsbooks matter and they are not the same:
- the **account books** (`ARB_ACCOUNT_BOOKS`): where the trader holds an account, so where a hedge
  can really be placed. A cover is chosen at an account book whenever one prices it; a cover that
  only exists at other books is still reported, labelled not executable with the reason (what
  OddsBridge calls "PAPER"), and is never sent to execution;
- the **consensus books** (`ARB_CONSENSUS_BOOKS`): whose prices make the de-vigged fair value of
  the value (+EV) detection. A sharp book the trader cannot bet is still a good source of truth.
`None` for either means every book (the behaviour before these settings existed).

Executable kinds: arbitrage always; value bets only when the trader opts in (`ARB_TRADE_VALUE`).

`not_executable` is the rule. Detection stamps its reasons on every `Opportunity`
(`Opportunity.not_executable`), the desk stores that label, and execution re-applies the same
function to what it is about to trade - so what the desk calls executable and what is executed can
never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

ARBITRAGE, VALUE, SPORTSBOOK = "arbitrage", "value", "sportsbook"
PAPER = "PAPER"  # the label's first word: a person reading a table sees at once it cannot be traded


def parse_books(text: str, what: str) -> frozenset[str] | None:
    """`book,book,...` (bookmaker keys as the odds provider spells them) -> a set; empty -> None (all)."""
    names = [part.strip() for part in text.split(",")]
    if not any(names):
        return None
    if not all(names):
        raise ValueError(f"{what}: empty bookmaker name in {text!r} (expected book,book,...)")
    bad = [n for n in names if any(c.isspace() for c in n) or ":" in n]
    if bad:
        raise ValueError(f"{what}: {bad[0]!r} is not a bookmaker key (expected book,book,...)")
    return frozenset(names)


def executable_kinds(trade_value: bool) -> frozenset[str]:
    """Arbitrage always; value (+EV) bets only when the trader opted in."""
    return frozenset({ARBITRAGE, VALUE}) if trade_value else frozenset({ARBITRAGE})


def is_account_book(book: str, account_books: frozenset[str] | None) -> bool:
    return account_books is None or book in account_books


def in_consensus(book: str, consensus_books: frozenset[str] | None) -> bool:
    return consensus_books is None or book in consensus_books


def not_executable(kind: str, legs: Sequence[Any], *, kinds: Iterable[str],
                   account_books: frozenset[str] | None) -> tuple[str, ...]:
    """Every reason the opportunity cannot be executed (empty: it can).

    `legs` are `results.Leg`s (or anything with `venue` and `market`): a sportsbook leg's `market` is
    its bookmaker.
    """
    reasons: list[str] = []
    if kind not in frozenset(kinds):
        why = " (set ARB_TRADE_VALUE=true to trade them)" if kind == VALUE else ""
        reasons.append(f"{PAPER}: {kind} opportunities are not executed{why}")
    missing = sorted({leg.market for leg in legs
                      if leg.venue == SPORTSBOOK and not is_account_book(leg.market, account_books)})
    if missing:
        reasons.append(f"{PAPER}: no account at {', '.join(missing)} (ARB_ACCOUNT_BOOKS)")
    return tuple(reasons)


def labelled(opportunity: Any, account_books: frozenset[str] | None, trade_value: bool) -> Any:
    """`opportunity` (an `arb.results.Opportunity`) with its `not_executable` reasons filled in."""
    from dataclasses import replace

    reasons = not_executable(opportunity.kind, opportunity.legs, kinds=executable_kinds(trade_value),
                             account_books=account_books)
    # already so (e.g. an executable arbitrage, no reasons): the same record, not a copy of it
    return opportunity if reasons == opportunity.not_executable else replace(opportunity, not_executable=reasons)


def at_account_books_note(reasons: Sequence[str]) -> str:
    """The note a not-executable cover carries when the same cover at the account books was rejected."""
    return "at your account books: " + "; ".join(reasons)
