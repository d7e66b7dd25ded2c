"""A Kalshi order book as asks we can lift, and walking it at a real size (kalshi-api.md §5.3, §6.1).

Kalshi sends bids only: YES bids and NO bids. Buying YES lifts the best NO bid (YES ask = 1 − NO bid,
size of that NO level) and buying NO lifts the best YES bid. No sort order is assumed.

Fee choice for a walk: one immediate-or-cancel order that sweeps several levels is one order, so its
fee is the sum of each level's trade fee (each rounded up to $0.0001) rounded up to the cent once.
That is what Kalshi's per-order accumulator converges to (§7.2 item 4) and never below it, i.e.
accurate for one order and conservative if the order were split.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from arb_pipeline.arb.fees import check_contracts, fee_rate, kalshi_order_fee
from arb_pipeline.arb.money import ONE, ZERO, ceil_to, to_decimal
from arb_pipeline.domain import ContractSide, OrderBookLevels, PriceRange

VWAP_QUANTUM = Decimal("0.000001")
_set = object.__setattr__  # how a frozen dataclass's fields are set


class InsufficientDepth(ValueError):
    """The book cannot fill the requested size on that side."""


class OffGrid(ValueError):
    """A price that is not on the market's `price_ranges` tick grid (Kalshi rejects such orders)."""


@dataclass(frozen=True, slots=True)
class Level:
    """One ask level: price in dollars per contract and contracts available."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class LevelFill:
    price: Decimal
    contracts: Decimal


@dataclass(frozen=True, slots=True)
class Fill:
    """The result of lifting `contracts` from one side: exact cost, fee and VWAP."""

    ticker: str
    side: ContractSide
    contracts: Decimal
    levels: tuple[LevelFill, ...]
    notional: Decimal  # Σ price × contracts
    fee: Decimal
    vwap: Decimal  # notional / contracts rounded up to $0.000001 (display; cost uses the exact notional)

    @property
    def total_cost(self) -> Decimal:
        return self.notional + self.fee


def check_on_grid(price: Decimal, price_ranges: Sequence[PriceRange]) -> Decimal:
    """Return `price` if it lies on a band of the tick grid, else raise `OffGrid` naming it."""
    value = to_decimal(price, "price")
    if not price_ranges:
        raise OffGrid(f"price {value} cannot be checked: market has no price_ranges")
    for band in price_ranges:
        if band.step <= 0:
            raise ValueError(f"price range {band!r} has a non-positive step")
        if band.start <= value <= band.end and (value - band.start) % band.step == 0:
            return value
    raise OffGrid(f"price {value} is off the tick grid {[(str(b.start), str(b.end), str(b.step)) for b in price_ranges]}")


def _decimal_levels(ticker: str, side: str, rows: Sequence[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """Bids {price: count} (zero counts dropped) from levels of exact Decimals, checked in one pass."""
    out: dict[Decimal, Decimal] = {}
    n = 0
    for row in rows:
        if type(row) is not tuple or len(row) != 2 or type(row[0]) is not Decimal or type(row[1]) is not Decimal:
            return _parse_levels(ticker, side, rows)  # not the parser's record: the full parse names the error
        price, count = row
        if not (price.is_finite() and count.is_finite() and ZERO < price < ONE and count >= 0):
            return _parse_levels(ticker, side, rows)
        if count:
            out[price] = count
        n += 1
    if n != len(out) and len({price for price, _ in rows}) != n:
        return _parse_levels(ticker, side, rows)  # a repeated price: the full parse reports it
    return out


def _parse_levels(ticker: str, side: str, rows: object) -> dict[Decimal, Decimal]:
    if rows is None:
        return {}
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise ValueError(f"{ticker} {side} levels must be a list of [price, count], got {rows!r}")
    out: dict[Decimal, Decimal] = {}
    for i, row in enumerate(rows):
        where = f"{ticker} {side}[{i}]"
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) != 2:
            raise ValueError(f"{where}: a level must be [price, count], got {row!r}")
        price = to_decimal(row[0], f"{where} price")
        count = to_decimal(row[1], f"{where} count")
        if not ZERO < price < ONE:
            raise ValueError(f"{where}: price must be strictly between 0 and 1, got {row[0]!r}")
        if count < 0:
            raise ValueError(f"{where}: count must be >= 0, got {row[1]!r}")
        if price in out:
            raise ValueError(f"{where}: duplicate price level {price} (malformed book)")
        if count > 0:
            out[price] = count
    return out


_COMPLEMENTS: dict[Decimal, tuple[Decimal, Decimal]] = {}  # bid price → (that price object, 1 − it)
_COMPLEMENTS_MAX = 50_000  # a few hundred on a cent grid; bounded for long-running processes


def _complement(price: Decimal) -> Decimal:
    """`ONE - price`, one shared Decimal per price object: a scan's 110,000 levels (5,000 games) use a
    few hundred prices, which the Kalshi parser already shares by text, so the asks share their
    complements too (~11 MiB). Keyed by value but used only for the very object it was computed from,
    so an equal price written with other digits ("0.54" / "0.5400") still gets its own exact result.
    Module-level and bounded, so every scan of a long-running process (whose parse brings new price
    objects, which replace the previous scan's) shares the same way."""
    kept = _COMPLEMENTS.get(price)
    if kept is not None and kept[0] is price:
        return kept[1]
    result = ONE - price
    if kept is None and len(_COMPLEMENTS) >= _COMPLEMENTS_MAX:
        _COMPLEMENTS.clear()
    _COMPLEMENTS[price] = (price, result)  # the latest object wins: each new snapshot parse brings its own
    return result


_LEVELS: dict[tuple[Decimal, Decimal], Level] = {}  # (ask price, size) → a Level of those very objects
_LEVELS_MAX = 200_000  # ~40,000 at 5,000 games; bounded for long-running processes


def _level(price: Decimal, size: Decimal) -> Level:
    """`Level(price, size)`, one shared (immutable) Level per pair of objects: a scan's 130,000 ask
    levels (5,000 games) are ~40,000 distinct pairs of the parser's shared prices and counts (~5 MiB).
    As `_complement`: keyed by value, but a kept Level is used only when it holds these very objects,
    so a count written with other digits ("10" / "10.00") keeps its own digits."""
    kept = _LEVELS.get((price, size))
    if kept is not None and kept.price is price and kept.size is size:
        return kept
    level = Level(price, size)
    if kept is None and len(_LEVELS) >= _LEVELS_MAX:
        _LEVELS.clear()
    _LEVELS[(price, size)] = level  # the latest objects win: each new snapshot parse brings its own
    return level


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Asks per side, best (cheapest) first, derived from the opposite side's bids."""

    ticker: str
    yes_asks: tuple[Level, ...]
    no_asks: tuple[Level, ...]
    # Float copies of the best asks (NaN when a side is empty) for the vectorized screen only.
    best_yes_f: float = field(init=False, repr=False, compare=False)
    best_no_f: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, asks in (("yes", self.yes_asks), ("no", self.no_asks)):
            prices = [lv.price for lv in asks]
            if prices != sorted(prices) or len(set(prices)) != len(prices):
                raise ValueError(f"{self.ticker} {name} asks must be strictly increasing in price, got {prices}")
            for lv in asks:
                if not ZERO < lv.price < ONE or lv.size <= 0:
                    raise ValueError(f"{self.ticker} {name} ask level {lv!r} needs 0 < price < 1 and size > 0")
        object.__setattr__(self, "best_yes_f", float(self.yes_asks[0].price) if self.yes_asks else math.nan)
        object.__setattr__(self, "best_no_f", float(self.no_asks[0].price) if self.no_asks else math.nan)

    @classmethod
    def from_bids(cls, ticker: str, yes_bids: Mapping[Decimal, Decimal], no_bids: Mapping[Decimal, Decimal]) -> OrderBook:
        yes_asks = tuple(Level(ONE - p, no_bids[p]) for p in sorted(no_bids, reverse=True))
        no_asks = tuple(Level(ONE - p, yes_bids[p]) for p in sorted(yes_bids, reverse=True))
        return cls(ticker, yes_asks, no_asks)

    @classmethod
    def from_levels(cls, levels: OrderBookLevels) -> OrderBook:
        """From the Kalshi parser's record (`connectors.kalshi.models`): its prices and counts are
        already exact `Decimal`s, so they are not parsed a second time. Each side is one pass that still
        enforces 0 < price < 1, count ≥ 0 and no repeated price; asks come out strictly increasing by
        construction. Levels that are not Decimals (a record built by hand) take the full parse."""
        yes = _decimal_levels(levels.ticker, "yes", levels.yes)
        no = _decimal_levels(levels.ticker, "no", levels.no)
        return cls._ordered(
            levels.ticker,
            tuple(_level(_complement(p), no[p]) for p in sorted(no, reverse=True)),
            tuple(_level(_complement(p), yes[p]) for p in sorted(yes, reverse=True)),
        )

    @classmethod
    def _ordered(cls, ticker: str, yes_asks: tuple[Level, ...], no_asks: tuple[Level, ...]) -> OrderBook:
        """An OrderBook from asks that are strictly increasing, in (0, 1) and of positive size by
        construction (`from_levels`): `__post_init__`'s re-check of the same facts is skipped."""
        book = object.__new__(cls)
        _set(book, "ticker", ticker)
        _set(book, "yes_asks", yes_asks)
        _set(book, "no_asks", no_asks)
        _set(book, "best_yes_f", float(yes_asks[0].price) if yes_asks else math.nan)
        _set(book, "best_no_f", float(no_asks[0].price) if no_asks else math.nan)
        return book

    @classmethod
    def from_orderbook_fp(cls, ticker: str, payload: Mapping[str, object]) -> OrderBook:
        """From the `orderbook_fp` object of GET /markets/{ticker}/orderbook (a missing key = no bids)."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"{ticker}: orderbook_fp must be an object, got {type(payload).__name__}")
        return cls.from_bids(
            ticker,
            _parse_levels(ticker, "yes_dollars", payload.get("yes_dollars")),
            _parse_levels(ticker, "no_dollars", payload.get("no_dollars")),
        )

    @property
    def crossed(self) -> bool:
        """Best YES ask ≤ best NO ask's mirror, i.e. YES bid + NO bid ≥ $1: such orders would have
        matched, so the snapshot is inconsistent (stale or mid-update) and must not be traded on."""
        if not self.yes_asks or not self.no_asks:
            return False
        return self.yes_asks[0].price + self.no_asks[0].price <= ONE

    def asks(self, side: ContractSide) -> tuple[Level, ...]:
        return self.yes_asks if ContractSide(side) is ContractSide.YES else self.no_asks

    def best_ask(self, side: ContractSide) -> Decimal | None:
        asks = self.asks(side)
        return asks[0].price if asks else None

    def depth(self, side: ContractSide) -> Decimal:
        return sum((lv.size for lv in self.asks(side)), ZERO)

    def walk(
        self,
        side: ContractSide,
        contracts: Decimal | int | str,
        *,
        fee_multiplier: Decimal | int | str = 1,
        fee_type: str = "quadratic_with_maker_fees",
        sub_penny: bool = False,
    ) -> Fill:
        """Lift `contracts` as one taker order, best level first; raise `InsufficientDepth` if short."""
        wanted = check_contracts(contracts)
        remaining = wanted
        fills: list[LevelFill] = []
        for level in self.asks(side):
            if remaining <= 0:
                break
            take = min(remaining, level.size)
            fills.append(LevelFill(level.price, take))
            remaining -= take
        if remaining > 0:
            raise InsufficientDepth(
                f"{self.ticker} {ContractSide(side).value}: wanted {wanted} contracts, book has {wanted - remaining}"
            )
        notional = sum((f.price * f.contracts for f in fills), ZERO)
        fee = kalshi_order_fee(
            [(f.contracts, f.price) for f in fills],
            fee_multiplier=fee_multiplier,
            fee_type=fee_type,
            sub_penny=sub_penny,
        )
        vwap = ceil_to(notional / wanted, VWAP_QUANTUM)
        return Fill(self.ticker, ContractSide(side), wanted, tuple(fills), notional, fee, vwap)

    def max_size_with_edge(
        self,
        side: ContractSide,
        value: Decimal | Callable[[Decimal], Decimal],
        required_edge: Decimal,
        *,
        fee_multiplier: Decimal | int | str = 1,
        fee_type: str = "quadratic_with_maker_fees",
    ) -> Decimal:
        """Largest size whose marginal contract is still worth `required_edge` more than it costs.

        `value` is what one more contract is worth (a fair probability in dollars, or a function of
        the contracts already bought). The marginal cost at a level is its price plus the unrounded
        fee rate × P(1−P): the rounding of the whole order is checked once the size is chosen.
        """
        return joint_max_size([(self.asks(side), fee_rate(maker=False, fee_multiplier=fee_multiplier, fee_type=fee_type))],
                              value, required_edge)


def marginal_cost(price: Decimal, rate: Decimal) -> Decimal:
    """Cost of one more contract at `price`, fee included before rounding."""
    return price + rate * price * (ONE - price)


def joint_max_size(
    legs: Sequence[tuple[Sequence[Level], Decimal]],
    value: Decimal | Callable[[Decimal], Decimal],
    required_edge: Decimal,
    *,
    extra_unit_cost: Decimal = ZERO,
    budget: Decimal | None = None,
) -> Decimal:
    """Largest common size C to buy on every leg (one contract of each per unit) such that the last
    unit still has value − Σ marginal leg costs − `extra_unit_cost` ≥ required_edge, and — when a
    `budget` is given — the units' summed marginal costs stay within it. Legs are (asks, fee rate).

    Walks the union of every leg's level boundaries, so an arbitrage of two Kalshi legs is sized
    where *both* books are still cheap enough. Returns 0 when even the first unit fails. Fee
    rounding is not included: callers price the chosen size exactly and step down if needed.
    """
    value_fn = value if callable(value) else (lambda _done, v=value: v)
    index = [0] * len(legs)
    used = [ZERO] * len(legs)
    done = ZERO
    left = budget
    while True:
        if any(index[i] >= len(asks) for i, (asks, _) in enumerate(legs)):
            return done
        unit_cost = extra_unit_cost + sum(
            (marginal_cost(asks[index[i]].price, rate) for i, (asks, rate) in enumerate(legs)), ZERO
        )
        if value_fn(done) - unit_cost < required_edge:
            return done
        step = min(asks[index[i]].size - used[i] for i, (asks, _) in enumerate(legs))
        if left is not None:
            if unit_cost * step > left:
                return done + left / unit_cost
            left -= unit_cost * step
        done += step
        for i, (asks, _) in enumerate(legs):
            used[i] += step
            if used[i] >= asks[index[i]].size:
                index[i] += 1
                used[i] = ZERO
