"""Kalshi's websocket API v2 in the simulator: `/trade-api/ws/v2`, served from the matching engine.

Channels (kalshi-asyncapi.yaml, kalshi-api.md §11): `orderbook_delta` (an `orderbook_snapshot` per
market on subscribe, then one `orderbook_delta` per changed level, `seq` consecutive per
subscription), `ticker` (top of book when it changes), `fill` (the member's fills) and
`market_lifecycle_v2` (close, determination, settlement). Commands: `subscribe`, `unsubscribe`,
`list_subscriptions`; anything else is error 5 (unknown command) - `update_subscription` is not
served, a client re-snapshots by resubscribing.

The handshake is authenticated like REST: the three KALSHI-ACCESS-* headers on the upgrade request,
signing `timestamp + "GET" + "/trade-api/ws/v2"`; a bad signature is refused before the upgrade.

One `BookHub` per app diffs the books the exchange marked changed (`Exchange.changed`: orders placed,
filled, cancelled, the market maker's requotes as the random walk and injected windows move prices)
against what it last published, every `interval_s`, and fans the deltas out to the subscribers. It
also calls `engine.sync()`, so a live-clock simulator moves without REST traffic.

Faults (`FaultController`, also `POST /_sim/faults`): `ws_drop` closes every open connection (count =
how many times), `ws_gap` swallows one `orderbook_delta` after its seq was taken (optionally on one
`ticker`), `ws_delay` holds every outgoing message `delay_s` (count = messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from arb_pipeline.sim.auth import AuthError, SignatureVerifier
from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.faults import FaultController
from arb_pipeline.sim.money import count_fp, dollars
from arb_pipeline.sim.scenario import ScenarioEngine

log = logging.getLogger(__name__)
WS_PATH = "/trade-api/ws/v2"
CHANNELS = ("orderbook_delta", "ticker", "fill", "market_lifecycle_v2")
KNOWN_CHANNELS = ("orderbook_delta", "ticker", "trade", "fill", "market_positions", "market_lifecycle_v2",
                  "multivariate_market_lifecycle", "communications", "order_group_updates", "user_orders",
                  "cfbenchmarks_value", "pyth_value")
ONE = Decimal(1)
ZERO = Decimal(0)
Levels = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]
_SHUTDOWN = object()
PHASES = ("live", "closed", "determined", "finalized")  # the scenario's phases a market moves through


def market_id(ticker: str) -> str:
    """A stable UUID per market (the simulator has no separate id; Kalshi sends one with every book)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"arb-pipeline-sim:{ticker}"))


def _levels(engine: ScenarioEngine, ticker: str) -> Levels:
    yes, no = engine.exchange.books[ticker].levels()
    return dict(yes), dict(no)


def _wire_levels(levels: dict[Decimal, Decimal]) -> list[list[str]]:
    return [[dollars(p), count_fp(c)] for p, c in sorted(levels.items())]


@dataclass
class Subscription:
    sid: int
    channel: str
    tickers: frozenset[str] | None  # None: every market (public channels without a filter)
    seq: int = 0

    def covers(self, ticker: str) -> bool:
        return self.tickers is None or ticker in self.tickers


@dataclass(eq=False)  # hashed by identity: the hub keeps a set of live sessions
class Session:
    """One websocket connection: its subscriptions and its outgoing queue (drained by its writer)."""

    ws: WebSocket
    subs: dict[int, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def push(self, sub: Subscription | None, message: dict[str, object], *, sequenced: bool = False) -> None:
        if sub is not None:
            message["sid"] = sub.sid
            if sequenced:
                sub.seq += 1
                message["seq"] = sub.seq
        self.queue.put_nowait(message)


class BookHub:
    """Publishes the exchange's book changes to every session (see the module docstring)."""

    def __init__(self, engine: ScenarioEngine, faults: FaultController, interval_s: float = 0.02) -> None:
        self.engine, self.faults, self.interval_s = engine, faults, interval_s
        self.published: dict[str, Levels] = {}
        self.phases: dict[str, str] = {}
        self.sessions: set[Session] = set()
        self._sids = 0
        self._fills_seen = len(engine.exchange.account.fills)
        self._task: asyncio.Task[None] | None = None
        self.pumps = 0
        self.commands: deque[dict[str, object]] = deque(maxlen=1000)  # what clients sent (contract tests)

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """Pump while anyone listens; the next connection starts it again."""
        while self.sessions:
            try:
                self.pump()
            except Exception:  # noqa: BLE001 - the feed must outlive one bad pump; logged
                log.exception("websocket hub: pump failed")
            await asyncio.sleep(self.interval_s)

    def next_sid(self) -> int:
        self._sids += 1
        return self._sids

    # ---------------------------------------------------------------- publishing

    def pump(self) -> None:
        """Sync the world, then send every change since the last pump (runs on the event loop)."""
        self.pumps += 1
        if self.faults.has_ws() and self.faults.take_ws("ws_drop") is not None:
            for session in list(self.sessions):
                session.closed = True
                session.queue.put_nowait(_SHUTDOWN)
        engine = self.engine
        with engine.lock:
            engine.sync()
            changed = engine.exchange.changed
            engine.exchange.changed = {}
            watched = [t for t in changed if t in self.published]
            updates = {t: _levels(engine, t) for t in watched}
            fills = engine.exchange.account.fills[self._fills_seen:]
            self._fills_seen += len(fills)
            # phases move without touching a book too (determination, settlement): look at all every 25 pumps
            phased = self.published if self.pumps % 25 == 0 else watched
            phases = {t: self._phase(t) for t in phased}
            volumes = {t: engine.exchange.books[t].volume for t in watched}
        for ticker, new in updates.items():
            self._publish_book(ticker, new, volumes[ticker])
        for ticker, phase in phases.items():
            self._publish_phase(ticker, phase)
        for fill in fills:
            self._publish_fill(fill)

    def _phase(self, ticker: str) -> str:
        entry = self.engine.market_index.get(ticker) or self.engine.line_index.get(ticker)
        phase = entry[0].phase if entry is not None else "live"
        return "live" if phase == "scheduled" else phase

    def _publish_book(self, ticker: str, new: Levels, volume: Decimal) -> None:
        old = self.published[ticker]
        self.published[ticker] = new
        deltas: list[tuple[str, Decimal, Decimal]] = []
        for side, before, after in (("yes", old[0], new[0]), ("no", old[1], new[1])):
            for price in sorted(set(before) | set(after)):
                delta = after.get(price, ZERO) - before.get(price, ZERO)
                if delta != 0:
                    deltas.append((side, price, delta))
        if not deltas:
            return
        now_ms = int(self.engine.now().timestamp() * 1000)
        mid = market_id(ticker)
        top_changed = _top(old) != _top(new)
        for session in list(self.sessions):
            for sub in list(session.subs.values()):
                if not sub.covers(ticker):
                    continue
                if sub.channel == "orderbook_delta":
                    for side, price, delta in deltas:
                        session.push(sub, {"type": "orderbook_delta", "msg": {
                            "market_ticker": ticker, "market_id": mid, "price_dollars": dollars(price),
                            "delta_fp": count_fp(delta), "side": side, "ts_ms": now_ms}}, sequenced=True)
                elif sub.channel == "ticker" and top_changed:
                    session.push(sub, self._ticker_message(ticker, new, volume, now_ms))

    def _ticker_message(self, ticker: str, levels: Levels, volume: Decimal, now_ms: int) -> dict[str, object]:
        (bid, bid_size), (ask, ask_size) = _top(levels)
        book = self.engine.exchange.books[ticker]
        return {"type": "ticker", "msg": {
            "market_ticker": ticker, "market_id": market_id(ticker),
            "price_dollars": dollars(book.last_price if book.last_price is not None else ZERO),
            "yes_bid_dollars": dollars(bid), "yes_ask_dollars": dollars(ask),
            "yes_bid_size_fp": count_fp(bid_size), "yes_ask_size_fp": count_fp(ask_size),
            "last_trade_size_fp": count_fp(ZERO), "volume_fp": count_fp(volume), "open_interest_fp": count_fp(ZERO),
            "dollar_volume": 0, "dollar_open_interest": 0, "ts": now_ms // 1000, "ts_ms": now_ms,
            "time": rfc3339(self.engine.now())}}

    def _publish_phase(self, ticker: str, phase: str) -> None:
        """Lifecycle events for every step from the last phase seen to this one (a pump can see a market
        jump from live to settled; Kalshi would have sent each event)."""
        before = self.phases.get(ticker)
        self.phases[ticker] = phase
        if before is None or before == phase or phase not in PHASES or before not in PHASES:
            return
        now = int(self.engine.now().timestamp())
        for step in PHASES[PHASES.index(before) + 1:PHASES.index(phase) + 1]:
            msg: dict[str, object] = {"market_ticker": ticker}
            if step == "closed":
                msg.update(event_type="close_date_updated", close_ts=now)
            elif step == "determined":
                entry = self.engine.market_index.get(ticker)
                result = self.engine.market_result(entry[0], entry[1]) if entry is not None else ""
                msg.update(event_type="determined", result=result, determination_ts=now,
                           settlement_value="1.0000" if result == "yes" else "0.0000")
            else:
                msg.update(event_type="settled", settled_ts=now)
            for session in list(self.sessions):
                for sub in list(session.subs.values()):
                    if sub.channel == "market_lifecycle_v2" and sub.covers(ticker):
                        session.push(sub, {"type": "market_lifecycle_v2", "msg": dict(msg)})

    def _publish_fill(self, fill: dict[str, object]) -> None:
        ticker = str(fill["market_ticker"])
        ts = int(fill["ts"])  # type: ignore[call-overload]
        msg = {key: fill[key] for key in ("trade_id", "order_id", "market_ticker", "exchange_index", "is_taker",
                                          "side", "yes_price_dollars", "count_fp", "fee_cost", "action",
                                          "outcome_side", "book_side")}
        msg.update(ts=ts, ts_ms=ts * 1000, purchased_side=fill["outcome_side"], post_position_fp=self._position(ticker))
        if fill.get("client_order_id"):
            msg["client_order_id"] = fill["client_order_id"]
        for session in list(self.sessions):
            for sub in list(session.subs.values()):
                if sub.channel == "fill" and sub.covers(ticker):
                    session.push(sub, {"type": "fill", "msg": dict(msg)})

    def _position(self, ticker: str) -> str:
        pos = self.engine.exchange.account.positions.get(ticker)
        return count_fp(pos.position if pos is not None else ZERO)

    # ---------------------------------------------------------------- subscribing

    def subscribe(self, session: Session, sub: Subscription) -> None:
        """Start `sub`: an order book subscription begins with one snapshot per market."""
        channel, tickers = sub.channel, sub.tickers
        session.subs[sub.sid] = sub
        if channel == "orderbook_delta":
            assert tickers is not None
            with self.engine.lock:
                for ticker in sorted(tickers):
                    if ticker not in self.published:
                        self.published[ticker] = _levels(self.engine, ticker)
                        self.phases[ticker] = self._phase(ticker)
            for ticker in sorted(tickers):
                yes, no = self.published[ticker]
                msg: dict[str, object] = {"market_ticker": ticker, "market_id": market_id(ticker)}
                if yes:
                    msg["yes_dollars_fp"] = _wire_levels(yes)
                if no:
                    msg["no_dollars_fp"] = _wire_levels(no)
                session.push(sub, {"type": "orderbook_snapshot", "msg": msg}, sequenced=True)
        elif tickers is not None:
            with self.engine.lock:
                for ticker in tickers:
                    if ticker not in self.published:
                        self.published[ticker] = _levels(self.engine, ticker)
                        self.phases[ticker] = self._phase(ticker)


def _top(levels: Levels) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    yes, no = levels
    bid = max(yes) if yes else ZERO
    no_bid = max(no) if no else ZERO
    return (bid, yes.get(bid, ZERO)), ((ONE - no_bid) if no else ONE, no.get(no_bid, ZERO))


# ---------------------------------------------------------------------------- the endpoint

router = APIRouter()


def _error(command_id: object, code: int, text: str) -> dict[str, object]:
    out: dict[str, object] = {"type": "error", "msg": {"code": code, "msg": text}}
    if isinstance(command_id, int) and not isinstance(command_id, bool):
        out["id"] = command_id
    return out


def hub_of(ws: WebSocket) -> BookHub:
    state = ws.app.state
    hub = getattr(state, "ws_hub", None)
    if hub is None:
        hub = state.ws_hub = BookHub(state.sim.engine, state.sim.faults)
    return hub  # type: ignore[no-any-return]


@router.websocket(WS_PATH)
async def kalshi_ws(ws: WebSocket) -> None:
    verifier: SignatureVerifier = ws.app.state.kalshi.verifier
    headers = {k.lower(): v for k, v in ws.headers.items()}
    try:
        verifier.verify(headers, "GET", WS_PATH)
    except AuthError as exc:
        log.info("websocket handshake refused: %s", exc)
        await ws.close(code=1008)  # before accept: the upgrade is answered 403
        return
    await ws.accept()
    hub = hub_of(ws)
    session = Session(ws)
    hub.sessions.add(session)
    hub.ensure_running()
    writer = asyncio.get_running_loop().create_task(_write(session, hub))
    try:
        while not session.closed:
            try:
                text = await ws.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                break
            _command(hub, session, text)
    finally:
        session.closed = True
        hub.sessions.discard(session)
        session.queue.put_nowait(_SHUTDOWN)
        with contextlib.suppress(Exception):
            await writer


async def _write(session: Session, hub: BookHub) -> None:
    ws = session.ws
    try:
        while True:
            message = await session.queue.get()
            if message is _SHUTDOWN:
                break
            assert isinstance(message, dict)
            if hub.faults.has_ws():
                delay = hub.faults.take_ws("ws_delay")
                if delay is not None:
                    await asyncio.sleep(float(delay["delay_s"]))  # type: ignore[arg-type]
                if message.get("type") == "orderbook_delta" and hub.faults.take_ws(
                        "ws_gap", str(message["msg"]["market_ticker"])) is not None:  # type: ignore[index]
                    continue  # its seq was taken: the client sees the gap on the next message
            await ws.send_text(json.dumps(message))
    except Exception:  # noqa: BLE001 - a client gone mid-send ends its writer quietly
        pass
    finally:
        session.closed = True
        hub.sessions.discard(session)
        with contextlib.suppress(Exception):
            await ws.close(code=1011)


def _command(hub: BookHub, session: Session, text: str) -> None:
    try:
        command = json.loads(text)
    except ValueError:
        session.push(None, _error(None, 1, "Unable to process message"))
        return
    if not isinstance(command, dict):
        session.push(None, _error(None, 1, "Unable to process message"))
        return
    hub.commands.append(command)
    cid, cmd, params = command.get("id"), command.get("cmd"), command.get("params")
    if cmd == "list_subscriptions":
        reply: dict[str, object] = {"id": cid if isinstance(cid, int) else 0, "type": "ok", "msg": [
            {"channel": s.channel, "sid": s.sid} for s in session.subs.values()]}
        session.push(None, reply)
        return
    if cmd not in ("subscribe", "unsubscribe"):
        session.push(None, _error(cid, 5, f"Unknown command {cmd!r}"))
        return
    if not isinstance(params, dict):
        session.push(None, _error(cid, 2, "Params required"))
        return
    if cmd == "unsubscribe":
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids:
            session.push(None, _error(cid, 4, "Subscription IDs required"))
            return
        for sid in sids:
            sub = session.subs.pop(sid, None) if isinstance(sid, int) else None
            if sub is None:
                session.push(None, _error(cid, 7, f"Unknown subscription ID {sid!r}"))
                continue
            out: dict[str, object] = {"type": "unsubscribed", "sid": sub.sid, "seq": sub.seq + 1}
            if isinstance(cid, int):
                out["id"] = cid
            session.push(None, out)
        return
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        session.push(None, _error(cid, 3, "Channels required"))
        return
    tickers = params.get("market_tickers")
    if tickers is None and isinstance(params.get("market_ticker"), str):
        tickers = [params["market_ticker"]]
    if tickers is not None and (not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers)):
        session.push(None, _error(cid, 11, "market_tickers must be a list of strings"))
        return
    wanted = frozenset(tickers) if tickers is not None else None
    unknown = sorted(t for t in (wanted or ()) if t not in hub.engine.exchange.books)
    if unknown:
        session.push(None, _error(cid, 16, f"Market not found: {unknown[0]}"))
        return
    for channel in channels:
        if channel not in KNOWN_CHANNELS:
            session.push(None, _error(cid, 8, f"Unknown channel name {channel!r}"))
            continue
        if channel not in CHANNELS:
            session.push(None, _error(cid, 10, f"channel {channel} is not served by the simulator"))
            continue
        if channel == "orderbook_delta" and not wanted:
            session.push(None, _error(cid, 14, "Market Ticker required"))
            continue
        if any(s.channel == channel and (s.tickers is None or wanted is None or s.tickers & wanted)
               for s in session.subs.values()):
            session.push(None, _error(cid, 6, "Already subscribed"))
            continue
        sub = Subscription(hub.next_sid(), channel, wanted)
        reply = {"type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}
        if isinstance(cid, int):
            reply["id"] = cid
        session.push(None, reply)  # the reply precedes the subscription's first message
        hub.subscribe(session, sub)
