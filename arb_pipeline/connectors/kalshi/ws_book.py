"""Local Kalshi order books kept exactly from the websocket's `orderbook_delta` channel.

Pure bookkeeping, no I/O (the client in `ws.py` feeds it): an `orderbook_snapshot` replaces a
market's book, an `orderbook_delta` adds its signed `delta_fp` to one level and removes the level at
zero (kalshi-api.md §11.2). Prices and counts stay `Decimal` exactly as the wire sends them
(`"0.5400"`, `"1200.00"`); NO levels are NO prices (the default `use_yes_price: false`), like REST.

`seq` is per subscription and consecutive. A message whose seq is not the previous one + 1 is a gap:
every book of that subscription is discarded (it may have missed an update of any of its markets)
and the caller re-snapshots by resubscribing. A delta that would drive a level negative, or arrives
for a market without a snapshot, is also treated as a gap - the book is no longer known exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from arb_pipeline.arb.money import to_decimal
from arb_pipeline.domain import OrderBookLevels

ZERO = Decimal(0)
ONE = Decimal(1)


class WireError(ValueError):
    """A websocket message does not have the contract's shape; the message says which field and where."""


class SequenceGap(Exception):
    """The subscription `sid` skipped from `expected` to `got`: its books are discarded."""

    def __init__(self, sid: int, expected: int, got: int, reason: str = "") -> None:
        super().__init__(f"subscription {sid}: expected seq {expected}, got {got}" + (f" ({reason})" if reason else ""))
        self.sid, self.expected, self.got, self.reason = sid, expected, got, reason


@dataclass
class LocalBook:
    """One market's bids, both sides, as the exchange last told us."""

    ticker: str
    market_id: str
    sid: int
    yes: dict[Decimal, Decimal] = field(default_factory=dict)
    no: dict[Decimal, Decimal] = field(default_factory=dict)
    updated_at: float = 0.0  # the caller's monotonic clock at the last message for this market
    updates: int = 0

    def levels(self) -> OrderBookLevels:
        """The book in the shape every scan stage takes (`arb.book.OrderBook.from_levels`)."""
        return OrderBookLevels(self.ticker, tuple(sorted(self.yes.items())), tuple(sorted(self.no.items())))


def _text(msg: Mapping[str, object], key: str, where: str) -> str:
    value = msg.get(key)
    if not isinstance(value, str) or not value:
        raise WireError(f"{where}: `{key}` must be a non-empty string, got {value!r}")
    return value


def _int(payload: Mapping[str, object], key: str, where: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"{where}: `{key}` must be an integer, got {value!r}")
    return value


def _price(text: object, where: str) -> Decimal:
    try:
        price = to_decimal(text if isinstance(text, str) else None, where)
    except ValueError as exc:
        raise WireError(str(exc)) from None
    if not ZERO < price < ONE:
        raise WireError(f"{where}: price must be strictly between 0 and 1, got {text!r}")
    return price


def _count(text: object, where: str) -> Decimal:
    try:
        return to_decimal(text if isinstance(text, str) else None, where)
    except ValueError as exc:
        raise WireError(str(exc)) from None


def _side_levels(rows: object, where: str) -> dict[Decimal, Decimal]:
    if rows is None:  # "This key will not exist if there are no ... offers"
        return {}
    if not isinstance(rows, list):
        raise WireError(f"{where}: levels must be a list of [price, count], got {rows!r}")
    out: dict[Decimal, Decimal] = {}
    for i, row in enumerate(rows):
        at = f"{where}[{i}]"
        if not isinstance(row, list) or len(row) != 2:
            raise WireError(f"{at}: a level must be [price_dollars, count_fp], got {row!r}")
        price, count = _price(row[0], f"{at} price"), _count(row[1], f"{at} count")
        if count < 0 or price in out:
            raise WireError(f"{at}: negative count or duplicate price level {row!r}")
        if count > 0:
            out[price] = count
    return out


class BookStore:
    """Every subscribed market's book and every subscription's last seq.

    `clock` is monotonic seconds (injected: tests and the stale rule never read the wall clock).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.books: dict[str, LocalBook] = {}
        self.last_seq: dict[int, int] = {}  # sid -> last seq applied
        self.sub_seen: dict[int, float] = {}  # sid -> clock at its last message
        self.retired: set[str] = set()  # markets determined or settled: their books are not kept
        self.gaps = 0
        self.snapshots = 0
        self.deltas = 0

    # ---------------------------------------------------------------- subscriptions

    def open_subscription(self, sid: int) -> None:
        self.last_seq[sid] = 0
        self.sub_seen[sid] = self.clock()

    def close_subscription(self, sid: int) -> list[str]:
        """Forget a subscription and discard its books; returns the tickers discarded."""
        self.last_seq.pop(sid, None)
        self.sub_seen.pop(sid, None)
        gone = [t for t, b in self.books.items() if b.sid == sid]
        for ticker in gone:
            del self.books[ticker]
        return gone

    def discard_all(self) -> None:
        """After a dropped connection nothing is known any more: every book waits for its snapshot."""
        self.books.clear()
        self.last_seq.clear()
        self.sub_seen.clear()

    def retire(self, ticker: str) -> None:
        """A market is finished (determined or settled): drop its book and keep none for it from now on
        (a long-running client would otherwise hold every finished market's book until it restarts)."""
        self.retired.add(ticker)
        self.books.pop(ticker, None)

    def active(self, sid: int) -> bool:
        return sid in self.last_seq

    def _check_seq(self, sid: int, seq: int) -> None:
        expected = self.last_seq[sid] + 1
        if seq != expected:
            self.gaps += 1
            raise SequenceGap(sid, expected, seq)
        self.last_seq[sid] = seq

    # ---------------------------------------------------------------- messages

    def apply(self, message: Mapping[str, object]) -> str | None:
        """Apply an `orderbook_snapshot` or `orderbook_delta`; returns the market it changed.

        Messages of a subscription that is not open (an old sid after a resubscribe), and of a retired
        market, are ignored (None). Raises `SequenceGap` (the caller resubscribes) or `WireError` (bad shape).
        """
        kind = message.get("type")
        where = f"{kind} message"
        sid, seq = _int(message, "sid", where), _int(message, "seq", where)
        if not self.active(sid):
            return None
        msg = message.get("msg")
        if not isinstance(msg, Mapping):
            raise WireError(f"{where} sid {sid} seq {seq}: `msg` must be an object")
        ticker = _text(msg, "market_ticker", where)
        where = f"{kind} {ticker} (sid {sid} seq {seq})"
        self._check_seq(sid, seq)
        if ticker in self.retired:
            return None  # seq accounted for; a finished market's book is not kept
        if kind == "orderbook_snapshot":
            book = LocalBook(ticker, _text(msg, "market_id", where), sid,
                             _side_levels(msg.get("yes_dollars_fp"), f"{where} yes_dollars_fp"),
                             _side_levels(msg.get("no_dollars_fp"), f"{where} no_dollars_fp"))
            self.books[ticker] = book
            self.snapshots += 1
        elif kind == "orderbook_delta":
            book = self.books.get(ticker)
            if book is None or book.sid != sid:
                self.gaps += 1
                raise SequenceGap(sid, seq, seq, f"delta for {ticker} before its snapshot")
            side = msg.get("side")
            if side not in ("yes", "no"):
                raise WireError(f"{where}: `side` must be yes or no, got {side!r}")
            price = _price(msg.get("price_dollars"), f"{where} price_dollars")
            delta = _count(msg.get("delta_fp"), f"{where} delta_fp")
            levels = book.yes if side == "yes" else book.no
            size = levels.get(price, ZERO) + delta
            if size < 0:
                self.gaps += 1
                del self.books[ticker]
                raise SequenceGap(sid, seq, seq, f"{ticker} {side} {price} would go to {size}")
            if size == 0:
                levels.pop(price, None)
            else:
                levels[price] = size
            self.deltas += 1
        else:
            raise WireError(f"{where}: not an order book message")
        book.updated_at = self.sub_seen[sid] = self.clock()
        book.updates += 1
        return ticker

    # ---------------------------------------------------------------- reading

    def get(self, ticker: str) -> LocalBook | None:
        return self.books.get(ticker)

    def stale(self, limit_s: float, tickers: Iterable[str] | None = None) -> list[str]:
        """Markets with no book (never snapshotted, or discarded after a gap or a drop), or whose
        subscription has carried no message within `limit_s`. Retired (finished) markets are not stale.

        A quiet market in a live, gap-free subscription is exact (nothing changed, or we would have
        been told), so silence is judged per subscription: a subscription that silently stops - the
        failure reported most - makes all of its books stale. The feed as a whole is judged by the
        client (`KalshiWsClient.feed_stale`).
        """
        now = self.clock()
        wanted = self.books.keys() if tickers is None else tickers
        return sorted(t for t in wanted if t not in self.retired and ((b := self.books.get(t)) is None
                      or now - max(b.updated_at, self.sub_seen.get(b.sid, b.updated_at)) > limit_s))
