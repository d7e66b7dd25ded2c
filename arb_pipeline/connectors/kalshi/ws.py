"""Kalshi websocket API v2 client (kalshi-asyncapi.yaml, kalshi-api.md §11) on `websockets`.

* **Authenticated handshake**: the REST signer's three KALSHI-ACCESS-* headers on the upgrade request,
  signing `timestamp + "GET" + <url path>` (`/trade-api/ws/v2`); a fresh signature per connect.
* **Subscriptions**: `orderbook_delta` for the given markets (in chunks of `max_markets_per_sub`:
  Kalshi caps markets per subscription, error 26; the cap is UNVERIFIED, hence configurable), plus
  `ticker`, `fill` and `market_lifecycle_v2` on the same markets.
* **Books kept exactly** in a `ws_book.BookStore` (Decimal levels as the wire sends them).
* **Gaps**: a seq that is not the previous + 1 discards that subscription's books and resubscribes it,
  which starts with fresh snapshots (the re-snapshot); `stats.gaps` counts them.
* **Drops**: any connection loss discards every book and reconnects with exponential backoff
  (`backoff_initial_s` doubling to `backoff_max_s`, reset once a connection delivered data).
* **Staleness**: `stale_books()` are markets with no message within `stale_s` (or no book at all);
  `feed_age()` is the time since any message arrived - the breaker's "stale feed".

`on_book(ticker)` is called on the client's event loop after every applied snapshot or delta, and
`on_message(message)` for every other data message (ticker, fill, lifecycle); keep both cheap (hand
the work to another thread). `WsThread` runs a client on its own thread for synchronous callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from .ws_book import BookStore, SequenceGap, WireError

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

    from .signing import KalshiSigner

log = logging.getLogger(__name__)
BOOK_CHANNEL = "orderbook_delta"
DEFAULT_CHANNELS = (BOOK_CHANNEL, "ticker", "fill", "market_lifecycle_v2")
TERMINAL_ERRORS = frozenset({10, 17, 25})  # kalshi-api.md §11.1: resubscribe


@dataclass(frozen=True)
class WsConfig:
    url: str
    tickers: tuple[str, ...]
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    stale_s: float = 10.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 10.0
    open_timeout_s: float = 10.0
    max_markets_per_sub: int = 500  # UNVERIFIED per-subscription cap (error 26)

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("ws", "wss"):
            raise ValueError(f"KALSHI_WS_URL must be a ws:// or wss:// URL, got {self.url!r}")
        if self.stale_s <= 0 or self.backoff_initial_s <= 0 or self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("KALSHI_WS_STALE_S and the backoff times must be positive (max >= initial)")
        if self.max_markets_per_sub < 1:
            raise ValueError("KALSHI_WS_MAX_MARKETS_PER_SUB must be >= 1")

    @classmethod
    def from_settings(cls, settings: Settings, tickers: Iterable[str]) -> WsConfig:
        return cls(settings.effective_kalshi_ws_url, tuple(tickers), stale_s=settings.kalshi_ws_stale_s,
                   backoff_initial_s=settings.kalshi_ws_backoff_initial_s,
                   backoff_max_s=settings.kalshi_ws_backoff_max_s,
                   max_markets_per_sub=settings.kalshi_ws_max_markets_per_sub)


@dataclass
class WsStats:
    connects: int = 0
    drops: int = 0
    resubscribes: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)

    def note_error(self, text: str) -> None:
        self.errors.append(text)
        del self.errors[:-20]


class KalshiWsClient:
    def __init__(self, config: WsConfig, signer: KalshiSigner | None, *,
                 on_book: Callable[[str], None] | None = None,
                 on_message: Callable[[Mapping[str, Any]], None] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._signer = signer
        self._on_book = on_book or (lambda _t: None)
        self._on_message = on_message or (lambda _m: None)
        self._monotonic = monotonic
        self.books = BookStore(monotonic)
        self.stats = WsStats()
        self.connected = False
        self.last_message_at: float | None = None
        self._stop = asyncio.Event()
        self._ids = 0
        self._pending: dict[int, tuple[str, tuple[str, ...]]] = {}  # command id -> (channel, tickers)
        self._subs: dict[int, tuple[str, tuple[str, ...]]] = {}  # sid -> (channel, tickers)
        self._ws: ClientConnection | None = None

    @property
    def gaps(self) -> int:
        return self.books.gaps

    # ---------------------------------------------------------------- health

    def feed_age(self) -> float | None:
        """Seconds since the last message of any kind; None before the first."""
        return None if self.last_message_at is None else self._monotonic() - self.last_message_at

    def stale_books(self) -> list[str]:
        return self.books.stale(self.config.stale_s, self.config.tickers)

    def feed_stale(self) -> str | None:
        """Why the feed as a whole cannot be trusted now, or None."""
        age = self.feed_age()  # a drop with a quick reconnect is not stale: its books are re-snapshotted
        if age is None or age > self.config.stale_s:
            state = "" if self.connected else " (disconnected)"
            return f"no Kalshi websocket message for more than {self.config.stale_s:g} s{state}"
        return None

    # ---------------------------------------------------------------- running

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Connect, subscribe and keep the books until `stop()`; reconnects after every drop."""
        attempt = 0
        while not self._stop.is_set():
            delivered = False
            try:
                delivered = await self._session()
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
                self.stats.note_error(f"{type(exc).__name__}: {str(exc)[:200]}")
                log.warning("Kalshi websocket dropped (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected = False
                self._ws = None
                self.books.discard_all()
            if self._stop.is_set():
                break
            self.stats.drops += 1
            attempt = 0 if delivered else attempt + 1
            delay = min(self.config.backoff_max_s, self.config.backoff_initial_s * (2 ** attempt))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    def _headers(self) -> dict[str, str]:
        if self._signer is None:
            return {}
        return self._signer.headers("GET", urlsplit(self.config.url).path)

    async def _session(self) -> bool:
        delivered = False
        async with websockets.connect(self.config.url, additional_headers=self._headers(),
                                      open_timeout=self.config.open_timeout_s, max_size=2 ** 24,
                                      max_queue=None) as ws:
            self._ws = ws
            self.connected = True
            self.stats.connects += 1
            self._pending.clear()
            self._subs.clear()
            await self._subscribe_all(ws)
            stopper = asyncio.ensure_future(self._stop.wait())
            try:
                while not self._stop.is_set():
                    receiver = asyncio.ensure_future(ws.recv())
                    done, _ = await asyncio.wait({receiver, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    if receiver not in done:
                        receiver.cancel()
                        break
                    raw = receiver.result()
                    self.last_message_at = self._monotonic()
                    self.stats.messages += 1
                    delivered = await self._handle(ws, raw) or delivered
            finally:
                stopper.cancel()
        return delivered

    async def _send(self, ws: ClientConnection, cmd: str, params: dict[str, Any]) -> int:
        self._ids += 1
        await ws.send(json.dumps({"id": self._ids, "cmd": cmd, "params": params}))
        return self._ids

    async def _subscribe(self, ws: ClientConnection, channel: str, tickers: tuple[str, ...]) -> None:
        cid = await self._send(ws, "subscribe", {"channels": [channel], "market_tickers": list(tickers)})
        self._pending[cid] = (channel, tickers)

    async def _subscribe_all(self, ws: ClientConnection) -> None:
        tickers, size = self.config.tickers, self.config.max_markets_per_sub
        chunks = [tickers[i:i + size] for i in range(0, len(tickers), size)] or [()]
        for channel in self.config.channels:
            for chunk in chunks if channel == BOOK_CHANNEL else [tickers]:
                if chunk or channel != BOOK_CHANNEL:
                    await self._subscribe(ws, channel, chunk)

    async def _resubscribe(self, ws: ClientConnection, sid: int) -> None:
        """Re-snapshot one order book subscription: drop it (and its books) and subscribe afresh."""
        channel, tickers = self._subs.pop(sid, (BOOK_CHANNEL, ()))
        self.books.close_subscription(sid)
        self.stats.resubscribes += 1
        await self._send(ws, "unsubscribe", {"sids": [sid]})
        await self._subscribe(ws, channel, tickers)

    async def _handle(self, ws: ClientConnection, raw: str | bytes) -> bool:
        try:
            message = json.loads(raw)
        except ValueError:
            self.stats.note_error(f"not JSON: {str(raw)[:120]!r}")
            return False
        if not isinstance(message, dict):
            self.stats.note_error(f"not a JSON object: {str(raw)[:120]!r}")
            return False
        kind = message.get("type")
        if kind in ("orderbook_snapshot", "orderbook_delta"):
            try:
                ticker = self.books.apply(message)
            except SequenceGap as gap:
                log.warning("Kalshi websocket: %s; re-snapshotting", gap)
                await self._resubscribe(ws, gap.sid)
                return True
            except WireError as exc:  # an unreadable book is not a known book: re-snapshot it
                self.stats.note_error(str(exc))
                sid = message.get("sid")
                if isinstance(sid, int) and sid in self._subs:
                    await self._resubscribe(ws, sid)
                return True
            if ticker is not None:
                self._on_book(ticker)
            return True
        if kind == "subscribed":
            msg = message.get("msg") or {}
            pending = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            sid = msg.get("sid") if isinstance(msg, dict) else None
            if pending is not None and isinstance(sid, int):
                self._subs[sid] = pending
                if pending[0] == BOOK_CHANNEL:
                    self.books.open_subscription(sid)
            return False
        if kind == "error":
            msg = message.get("msg") if isinstance(message.get("msg"), dict) else {}
            code = msg.get("code")  # type: ignore[union-attr]
            self.stats.note_error(f"error {code}: {msg.get('msg')}")  # type: ignore[union-attr]
            self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if code in TERMINAL_ERRORS:  # terminal: start the connection over, every book re-snapshotted
                await ws.close()
            return False
        if kind in ("unsubscribed", "ok", "list_subscriptions"):
            return False
        self._on_message(message)
        return True


class WsThread:
    """A `KalshiWsClient` on its own thread and event loop, for synchronous callers."""

    def __init__(self, client: KalshiWsClient) -> None:
        self.client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="kalshi-ws", daemon=True)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.client.run())
        finally:
            loop.close()

    def start(self) -> WsThread:
        self._thread.start()
        return self

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the client's loop (e.g. to read the books consistently)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.client.stop)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
