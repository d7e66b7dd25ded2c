"""Contract test of the simulator's websocket: every message it sends validates against Kalshi's
AsyncAPI file (`arb_pipeline_tests/data/kalshi-asyncapi.yaml`), and so does every command our
client sends. Also: the handshake is authenticated, commands are answered as the contract says."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
import websockets
import yaml
from jsonschema import Draft202012Validator

from arb_pipeline.connectors.kalshi import KalshiSigner
from arb_pipeline.connectors.kalshi.ws import KalshiWsClient, WsConfig, WsThread
from arb_pipeline.sim.auth import signed_headers
from arb_pipeline.sim.server import SimConfig, SimHandle, start_simulator
from arb_pipeline.sim.ws import WS_PATH, _levels
from arb_pipeline_tests.waiting import wait_until

SPEC = Path(__file__).resolve().parents[1] / "data" / "kalshi-asyncapi.yaml"
SPEC_SHA256 = "219f7967f2ed92bf15b02bfd4e7cefe3eb8a3da8c5d85335af2778992dba0400"
BY_TYPE = {
    "orderbook_snapshot": "orderbookSnapshotPayload",
    "orderbook_delta": "orderbookDeltaPayload",
    "ticker": "tickerPayload",
    "fill": "fillPayload",
    "market_lifecycle_v2": "marketLifecycleV2Payload",
    "subscribed": "subscribedResponsePayload",
    "unsubscribed": "unsubscribedResponsePayload",
    "error": "errorResponsePayload",
    "ok": "listSubscriptionsResponsePayload",
}
COMMANDS = {"subscribe": "subscribeCommandPayload", "unsubscribe": "unsubscribeCommandPayload",
            "list_subscriptions": "listSubscriptionsCommandPayload"}


@lru_cache(maxsize=1)
def spec() -> dict:
    data = SPEC.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SPEC_SHA256, "the vendored AsyncAPI file changed"
    return yaml.safe_load(data)


def validator(schema_name: str) -> Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(message: dict, schema_name: str) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema_name).iter_errors(message)]


@pytest.fixture
def sim(quiet) -> Iterator[SimHandle]:
    with start_simulator(SimConfig(scenario=quiet(), kalshi_tier=None, odds_calls_per_second=None)) as handle:
        yield handle


class Conn:
    """A signed websocket connection driven synchronously from the test (asyncio underneath: its
    timeouts are the event loop's, never a timed lock wait, so it behaves under libfaketime)."""

    def __init__(self, sim: SimHandle, headers: dict[str, str] | None = None) -> None:
        assert sim.private_key_pem is not None
        self.loop = asyncio.new_event_loop()
        headers = headers if headers is not None else signed_headers(sim.private_key_pem, sim.key_id, "GET", WS_PATH)
        self.ws = self.loop.run_until_complete(
            websockets.connect(sim.kalshi_ws_url, additional_headers=headers, open_timeout=20))

    def send(self, text: str) -> None:
        self.loop.run_until_complete(self.ws.send(text))

    def recv(self) -> str:
        return self.loop.run_until_complete(asyncio.wait_for(self.ws.recv(), 20))

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self.ws.close())
        self.loop.close()


def connect(sim: SimHandle, headers: dict[str, str] | None = None) -> Conn:
    return Conn(sim, headers)


def receive_until(ws: Conn, done, limit: int = 20_000) -> list[dict]:
    seen: list[dict] = []
    for _ in range(limit):
        seen.append(json.loads(ws.recv()))
        if done(seen):
            return seen
    raise AssertionError(f"condition not met after {limit} messages")


def test_every_message_of_every_channel_validates_against_the_asyncapi_contract(sim):
    tickers = sorted(sim.scenario.exchange.books)
    with connect(sim) as ws:
        ws.send(json.dumps({"id": 1, "cmd": "subscribe",
                            "params": {"channels": ["orderbook_delta"], "market_tickers": tickers}}))
        ws.send(json.dumps({"id": 2, "cmd": "subscribe",
                            "params": {"channels": ["ticker", "fill", "market_lifecycle_v2"],
                                       "market_tickers": tickers}}))
        seen = receive_until(ws, lambda s: sum(m["type"] == "orderbook_snapshot" for m in s) == len(tickers)
                             and sum(m["type"] == "subscribed" for m in s) == 4)
        # a fill: buy YES at the best ask of the first market
        engine = sim.scenario
        with engine.lock:
            ask = 1 - max(_levels(engine, tickers[0])[1])
            engine.exchange.place(tickers[0], "bid", ask, Decimal("2"), time_in_force="immediate_or_cancel",
                                  client_order_id="contract-1")
        seen += receive_until(ws, lambda s: any(m["type"] == "fill" for m in s))
        engine.advance(60)  # every market maker requotes: deltas and tickers
        seen += receive_until(ws, lambda s: any(m["type"] == "ticker" for m in s))
        # run the earliest game to its settlement: close, determination, settlement
        first_end = min(s.game.ends for s in engine.states.values())
        engine.advance((first_end - engine.now()).total_seconds() + 60)
        engine.advance(engine.config.determination_delay_s + 60)
        seen += receive_until(ws, lambda s: any(m["type"] == "market_lifecycle_v2"
                                                and m["msg"]["event_type"] == "determined" for m in s))
        engine.advance(engine.config.settlement_timer_seconds + 60)
        seen += receive_until(ws, lambda s: any(m["type"] == "market_lifecycle_v2"
                                                and m["msg"]["event_type"] == "settled" for m in s))
        ws.send(json.dumps({"id": 3, "cmd": "list_subscriptions"}))
        ws.send(json.dumps({"id": 4, "cmd": "unsubscribe", "params": {"sids": [1]}}))
        ws.send(json.dumps({"id": 5, "cmd": "frobnicate"}))
        seen += receive_until(ws, lambda s: any(m.get("id") == 5 for m in s))
    kinds = {m["type"] for m in seen}
    assert kinds == set(BY_TYPE), kinds ^ set(BY_TYPE)
    events = {m["msg"]["event_type"] for m in seen if m["type"] == "market_lifecycle_v2"}
    assert events == {"close_date_updated", "determined", "settled"}
    bad = {}
    for message in seen:
        found = problems(message, BY_TYPE[message["type"]])
        if found:
            bad.setdefault(message["type"], (message, found))
    assert not bad, bad
    error = next(m for m in seen if m["type"] == "error")
    assert (error["id"], error["msg"]["code"]) == (5, 5)


def test_the_contract_catches_a_wrong_message():
    assert problems({"type": "orderbook_delta", "sid": 1, "seq": 0,
                     "msg": {"market_ticker": "T", "market_id": "x", "price_dollars": "0.5", "side": "up"}},
                    "orderbookDeltaPayload")


def test_every_command_our_client_sends_validates(sim):
    tickers = tuple(sorted(sim.scenario.exchange.books))
    signer = KalshiSigner.from_pem(sim.key_id, sim.private_key_pem)
    client = KalshiWsClient(WsConfig(sim.kalshi_ws_url, tickers, max_markets_per_sub=5), signer)
    thread = WsThread(client).start()
    try:
        assert wait_until(lambda: client.books.snapshots == len(tickers), 20)
        sim.faults.set("ws_gap", count=1)  # the gap makes the client unsubscribe and subscribe again
        sim.scenario.advance(60)
        assert wait_until(lambda: client.stats.resubscribes == 1, 20)
        assert wait_until(lambda: any(c.get("cmd") == "unsubscribe" for c in sim.app.state.ws_hub.commands), 20)
    finally:
        thread.stop()
        assert wait_until(lambda: not thread.alive, 10)
    sent = list(sim.app.state.ws_hub.commands)
    assert {c["cmd"] for c in sent} == {"subscribe", "unsubscribe"}
    for command in sent:
        assert problems(command, COMMANDS[command["cmd"]]) == [], command


def test_a_bad_signature_is_refused_before_the_upgrade(sim):
    headers = signed_headers(sim.private_key_pem, sim.key_id, "GET", "/trade-api/v2/markets")  # wrong path
    with pytest.raises(websockets.exceptions.InvalidStatus, match="403"):
        connect(sim, headers)


def test_orderbook_needs_market_tickers_and_unknown_markets_are_refused(sim):
    with connect(sim) as ws:
        ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}))
        ws.send(json.dumps({"id": 2, "cmd": "subscribe",
                            "params": {"channels": ["orderbook_delta"], "market_tickers": ["NOPE-1"]}}))
        ws.send("not json")
        seen = receive_until(ws, lambda s: len(s) == 3)
    assert [(m.get("id"), m["msg"]["code"]) for m in seen] == [(1, 14), (2, 16), (None, 1)]
    assert all(problems(m, "errorResponsePayload") == [] for m in seen)


def test_ws_faults_are_switchable_over_http(sim):
    import httpx

    reply = httpx.post(sim.url + "/_sim/faults", json={"fault": "ws_gap", "count": 2, "ticker": "T-1"})
    assert reply.status_code in (200, 201), reply.text
    assert sim.faults.active()[0]["kind"] == "ws_gap"


def test_a_client_applying_every_delta_never_sees_a_kalshi_only_arbitrage_from_a_window(sim):
    """The hub publishes books in the order they changed: a window's siblings are lifted before its
    cheap ask, so a client that acts on every single delta (as the worker does) never holds a moment
    where every YES of the game costs less than 1 together - a Kalshi-only arbitrage the window is
    documented never to make."""
    engine = sim.scenario
    games = {s.game.event_ticker: [s.game.market_ticker(o) for o in s.game.outcomes] for s in engine.states.values()}
    tickers = sorted(t for markets in games.values() for t in markets)
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}

    def apply(message: dict) -> None:
        msg = message["msg"]
        if message["type"] == "orderbook_snapshot":
            books[msg["market_ticker"]] = {
                side: {Decimal(p): Decimal(c) for p, c in msg.get(f"{side}_dollars_fp", [])} for side in ("yes", "no")}
        elif message["type"] == "orderbook_delta":
            side = books[msg["market_ticker"]][msg["side"]]
            price = Decimal(msg["price_dollars"])
            side[price] = side.get(price, Decimal(0)) + Decimal(msg["delta_fp"])
            if side[price] == 0:
                del side[price]

    def yes_ask(ticker: str) -> Decimal:  # the YES ask is 1 - the best NO bid
        no = books[ticker]["no"]
        return 1 - max(no) if no else Decimal(1)

    with connect(sim) as ws:
        ws.send(json.dumps({"id": 1, "cmd": "subscribe",
                            "params": {"channels": ["orderbook_delta"], "market_tickers": tickers}}))
        for m in receive_until(ws, lambda s: sum(m["type"] == "orderbook_snapshot" for m in s) == len(tickers)):
            if m["type"] == "orderbook_snapshot":
                apply(m)
        windows = [engine.inject_arbitrage(edge="0.03", lifetime_s=3600) for _ in range(3)]
        windowed = {w["event_ticker"] for w in windows}
        cheap = {w["market_ticker"]: Decimal(w["kalshi_yes_ask"]) for w in windows}
        lowest: list[Decimal] = []

        def caught_up(expected: dict[str, Decimal]):
            def step(seen: list[dict]) -> bool:
                apply(seen[-1])
                lowest.append(min(sum(yes_ask(t) for t in games[g]) for g in windowed))
                return all(yes_ask(t) == price for t, price in expected.items())
            return step

        def venue_asks() -> dict[str, Decimal]:
            with engine.lock:
                return {t: 1 - max(_levels(engine, t)[1]) for g in windowed for t in games[g]}

        receive_until(ws, caught_up(cheap))  # until every window's cheap ask has arrived
        for _ in range(4):  # and the ticks after: windows repriced with their siblings
            engine.advance(60)
            receive_until(ws, caught_up(venue_asks()))
    assert lowest and min(lowest) >= 1, f"a Kalshi-only arbitrage was visible between two deltas: {min(lowest)}"
