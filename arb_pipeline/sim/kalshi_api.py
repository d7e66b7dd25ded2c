"""Kalshi Trade API v2 routes of the simulator (mounted under /trade-api/v2).

Every route first passes `kalshi_gate`: a signed request must carry a valid signature (portfolio
routes must be signed; public market data may be signed or not), then the Basic-tier token buckets
are charged. Errors use Kalshi's nested body `{"error": {"code", "message", "details"}}`; a rate
limit answers 429 with the literal `{"error": "too many requests"}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from arb_pipeline.sim.auth import AuthError, SignatureVerifier
from arb_pipeline.sim.exchange import USER, ExchangeError
from arb_pipeline.sim.kalshi_views import (
    STATUS_FILTER,
    event_json,
    event_status,
    line_events,
    line_market_json,
    market_close_time,
    market_json,
    market_status,
    milestone_json,
    order_json,
    orderbook_json,
    series_json,
    structured_targets,
)
from arb_pipeline.sim.money import count_fp, dollars, parse_decimal, to_cents
from arb_pipeline.sim.portfolio import ZERO
from arb_pipeline.sim.ratelimit import KalshiRateLimiter
from arb_pipeline.sim.scenario import ScenarioEngine
from arb_pipeline.sim.wire import BadParam, bool_param, int_param, list_param, paginate

PREFIX = "/trade-api/v2"


class KalshiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class KalshiRateLimited(Exception):
    pass


@dataclass
class KalshiContext:
    engine: ScenarioEngine
    verifier: SignatureVerifier
    limiter: KalshiRateLimiter | None


def error_response(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status)


def rate_limited_response() -> JSONResponse:
    return JSONResponse({"error": "too many requests"}, status_code=429)


def signed_path(request: Request) -> str:
    """The path a client signs: from the root, as received, never with the query string."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    return path.split("?", 1)[0]


def _ctx(request: Request) -> KalshiContext:
    return request.app.state.kalshi  # type: ignore[no-any-return]


async def kalshi_gate(request: Request) -> None:
    ctx = _ctx(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    path = signed_path(request)
    principal = f"anon:{request.client.host if request.client else '-'}"
    if path.startswith(PREFIX + "/portfolio") or SignatureVerifier.has_signature(headers):
        try:
            principal = ctx.verifier.verify(headers, request.method, path)
        except AuthError as exc:
            raise KalshiError(401, "authentication_error", "request signature could not be verified",
                              str(exc)) from None
    if ctx.limiter is not None and not ctx.limiter.allow(principal, request.method, path):
        raise KalshiRateLimited()


router = APIRouter(prefix=PREFIX, dependencies=[Depends(kalshi_gate)])


def _synced(request: Request) -> ScenarioEngine:
    engine = _ctx(request).engine
    engine.sync()
    return engine


def _bad(exc: BadParam) -> KalshiError:
    return KalshiError(400, "invalid_parameters", str(exc))


# ---------------------------------------------------------------------------- market data

@router.get("/exchange/status")
def exchange_status(request: Request) -> dict[str, object]:
    engine = _synced(request)
    return {"exchange_active": True, "trading_active": engine.exchange.trading_active,
            "exchange_estimated_resume_time": None}


@router.get("/series")
def list_series(request: Request) -> dict[str, object]:
    engine = _synced(request)
    category = request.query_params.get("category")
    tags = set(list_param(request.query_params, "tags"))
    with engine.lock:
        leagues = sorted({s.game.league.code: s.game.league for s in engine.states.values()}.values(),
                         key=lambda lg: lg.kalshi_series)
        listed = {s.game.league.code: {series for _, series, _ in line_events(s)} for s in engine.states.values()}
        out = [series_json(engine, lg, t) for lg in leagues
               for t in (lg.kalshi_series, *sorted(listed.get(lg.code, ())))]
    out = [s for s in out if (not category or s["category"] == category)
           and (not tags or tags & set(s["tags"]))]  # type: ignore[arg-type]
    return {"series": out}


@router.get("/series/{series_ticker}")
def get_series(series_ticker: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    league = engine.catalogue.by_series(series_ticker)
    if league is None:
        raise KalshiError(404, "not_found", f"series {series_ticker} not found")
    with engine.lock:
        return {"series": series_json(engine, league, series_ticker)}


@router.get("/events")
def list_events(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 200, 1, 200)
        nested, with_milestones = bool_param(q, "with_nested_markets"), bool_param(q, "with_milestones")
        statuses = list_param(q, "status")
        if any(s not in ("unopened", "open", "closed", "settled") for s in statuses):
            raise BadParam("status must be one of unopened, open, closed, settled")
        series = q.get("series_ticker")
        tickers = set(list_param(q, "event_ticker")) | set(list_param(q, "tickers"))
        min_close = int_param(q, "min_close_ts", 0, 0, 2**62)
        with engine.lock:
            # every game's winner event, then its spread and total events (the extended slate's)
            views = [(s, event, series) for s in engine.states.values()
                     for event, series in ((s.game.event_ticker, s.game.league.kalshi_series),
                                           *((t, sr) for t, sr, _ in line_events(s)))]
            views = [(s, event, sr) for s, event, sr in views
                     if (not series or sr == series) and (not tickers or event in tickers)
                     and (not statuses or event_status(s) in statuses)
                     and (not min_close or market_close_time(s).timestamp() >= min_close)]
            page, cursor = paginate(views, q, limit)
            body: dict[str, object] = {
                "events": [event_json(engine, s, nested, None if event == s.game.event_ticker else event)
                           for s, event, _ in page], "cursor": cursor}
            if with_milestones:
                states = list({id(s): s for s, _, _ in page}.values())
                body["milestones"] = [milestone_json(engine, s) for s in states]
    except BadParam as exc:
        raise _bad(exc) from None
    return body


@router.get("/events/{event_ticker}")
def get_event(event_ticker: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    try:
        nested = bool_param(request.query_params, "with_nested_markets")
    except BadParam as exc:
        raise _bad(exc) from None
    with engine.lock:
        state = engine.states.get(event_ticker)
        line = None
        if state is None:
            state = next((s for s in engine.states.values() if any(t == event_ticker for t, _, _ in line_events(s))),
                         None)
            line = event_ticker
        if state is None:
            raise KalshiError(404, "not_found", f"event {event_ticker} not found")
        markets = ([line_market_json(engine, state, m) for m in state.line_markets if m.event_ticker == line] if line
                   else [market_json(engine, state, o) for o in state.game.outcomes])
        return {"event": event_json(engine, state, nested, line), "markets": markets}


@router.get("/markets")
def list_markets(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, 1000)
        status = q.get("status")
        if status and status not in STATUS_FILTER:
            raise BadParam(f"status must be one of {', '.join(STATUS_FILTER)}")
        event, series = q.get("event_ticker"), q.get("series_ticker")
        tickers = set(list_param(q, "tickers"))
        min_close = int_param(q, "min_close_ts", 0, 0, 2**62)
        max_close = int_param(q, "max_close_ts", 0, 0, 2**62)
        with engine.lock:
            rows: list[tuple[object, object]] = []
            for state in engine.states.values():
                game = state.game
                if status and market_status(state) not in STATUS_FILTER[status]:
                    continue
                close = market_close_time(state).timestamp()
                if (min_close and close < min_close) or (max_close and close > max_close):
                    continue
                if (not event or game.event_ticker == event) and (not series or game.league.kalshi_series == series):
                    rows += [(state, o) for o in game.outcomes if not tickers or game.market_ticker(o) in tickers]
                rows += [(state, m) for m in state.line_markets
                         if (not event or m.event_ticker == event) and (not tickers or m.ticker in tickers)
                         and (not series or m.event_ticker.split("-", 1)[0] == series)]
            page, cursor = paginate(rows, q, limit)
            markets = [market_json(engine, s, o) if isinstance(o, str) else line_market_json(engine, s, o)
                       for s, o in page]  # type: ignore[arg-type]
    except BadParam as exc:
        raise _bad(exc) from None
    return {"markets": markets, "cursor": cursor}


@router.get("/markets/orderbooks")
def get_orderbooks(request: Request) -> dict[str, object]:
    engine = _synced(request)
    tickers = list_param(request.query_params, "tickers")
    if not 1 <= len(tickers) <= 100:
        raise KalshiError(400, "invalid_parameters", "tickers must name between 1 and 100 markets")
    with engine.lock:
        missing = [t for t in tickers if t not in engine.exchange.books]
        if missing:
            raise KalshiError(404, "not_found", f"markets not found: {', '.join(missing)}")
        return {"orderbooks": [{"ticker": t, "orderbook_fp": orderbook_json(engine, t)} for t in tickers]}


@router.get("/markets/{ticker}")
def get_market(ticker: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    with engine.lock:
        found = engine.market_index.get(ticker)
        line = engine.line_index.get(ticker)
        if found is None and line is None:
            raise KalshiError(404, "not_found", f"market {ticker} not found")
        return {"market": market_json(engine, *found) if found else line_market_json(engine, *line)}  # type: ignore[misc]


@router.get("/markets/{ticker}/orderbook")
def get_orderbook(ticker: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    try:
        depth = int_param(request.query_params, "depth", 0, 0, 100)
    except BadParam as exc:
        raise _bad(exc) from None
    with engine.lock:
        if ticker not in engine.exchange.books:
            raise KalshiError(404, "not_found", f"market {ticker} not found")
        return {"orderbook_fp": orderbook_json(engine, ticker, depth)}


@router.get("/structured_targets")
def list_structured_targets(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "page_size", 100, 1, 2000)
        ids = set(list_param(q, "ids"))
        kind, competition = q.get("type"), q.get("competition")
        with engine.lock:
            targets = [t for t in structured_targets(engine) if (not ids or t["id"] in ids)
                       and (not kind or t["type"] == kind)
                       and (not competition or t["details"]["competition"] == competition)]  # type: ignore[index]
        page, cursor = paginate(targets, q, limit)
    except BadParam as exc:
        raise _bad(exc) from None
    return {"structured_targets": page, "cursor": cursor}


@router.get("/structured_targets/{target_id}")
def get_structured_target(target_id: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    with engine.lock:
        found = next((t for t in structured_targets(engine) if t["id"] == target_id), None)
    if found is None:
        raise KalshiError(404, "not_found", f"structured target {target_id} not found")
    return {"structured_target": found}


# ---------------------------------------------------------------------------- trading

def _ts_ms(engine: ScenarioEngine) -> int:
    return int(engine.now().timestamp() * 1000)


@router.post("/portfolio/events/orders", status_code=201)
async def create_order(request: Request) -> JSONResponse:
    engine = _ctx(request).engine
    try:
        body = await request.json()
    except ValueError:
        raise KalshiError(400, "invalid_parameters", "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise KalshiError(400, "invalid_parameters", "request body must be a JSON object")
    missing = [f for f in ("ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type")
               if f not in body]
    if missing:
        raise KalshiError(400, "missing_parameters", f"missing required fields: {', '.join(missing)}")
    count, price = parse_decimal(body["count"]), parse_decimal(body["price"])
    if count is None or price is None:
        raise KalshiError(400, "invalid_parameters", "count and price must be decimal strings")
    client_order_id = body.get("client_order_id") or ""
    if not isinstance(client_order_id, str):
        raise KalshiError(400, "invalid_parameters", "client_order_id must be a string")
    if body.get("reduce_only") and body["time_in_force"] != "immediate_or_cancel":
        raise KalshiError(400, "invalid_parameters", "reduce_only requires immediate_or_cancel")
    with engine.lock:
        engine.sync()
        try:
            tif = str(body["time_in_force"])
            # the `no_fill` fault: the book is empty for this immediate order (its liquidity was just taken)
            gone = tif != "good_till_canceled" and engine.faults is not None \
                and engine.faults.take_no_fill(str(body["ticker"]))
            order, fills = engine.exchange.place(
                str(body["ticker"]), str(body["side"]), price, count, owner=USER,
                time_in_force=tif, client_order_id=client_order_id,
                stp=str(body["self_trade_prevention_type"]), post_only=bool(body.get("post_only")),
                expiration_ts=body.get("expiration_time") if isinstance(body.get("expiration_time"), int) else None,
                cancel_on_pause=bool(body.get("cancel_order_on_pause")), reduce_only=bool(body.get("reduce_only")),
                liquidity_gone=bool(gone))
        except ExchangeError as exc:
            raise KalshiError(exc.status, exc.code, exc.message, exc.details) from None
        own = [f for f in fills if f["order_id"] == order.order_id]
        result: dict[str, object] = {"order_id": order.order_id, "client_order_id": order.client_order_id,
                                     "fill_count": count_fp(order.filled), "remaining_count": count_fp(order.remaining),
                                     "ts_ms": _ts_ms(engine)}
        if order.filled > 0:
            notional = sum((Decimal(str(f["count_fp"])) * Decimal(str(f["yes_price_dollars"])) for f in own), ZERO)
            fees = sum((Decimal(str(f["fee_cost"])) for f in own), ZERO)
            result["average_fill_price"] = dollars(notional / order.filled)
            result["average_fee_paid"] = dollars(fees / order.filled)
    return JSONResponse(result, status_code=201)


@router.delete("/portfolio/events/orders/{order_id}")
def cancel_order(order_id: str, request: Request) -> dict[str, object]:
    engine = _ctx(request).engine
    with engine.lock:
        engine.sync()
        try:
            order = engine.exchange.cancel(order_id)
        except ExchangeError as exc:
            raise KalshiError(exc.status, exc.code, exc.message, exc.details) from None
        return {"order_id": order.order_id, "client_order_id": order.client_order_id,
                "reduced_by": count_fp(order.reduced_by), "ts_ms": _ts_ms(engine)}


@router.get("/portfolio/orders")
def list_orders(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, 1000)
        ticker, status = q.get("ticker"), q.get("status")
        events = set(list_param(q, "event_ticker"))
        with engine.lock:
            orders = [o for o in reversed(engine.exchange.orders.values())
                      if (not ticker or o.ticker == ticker) and (not status or o.status == status)
                      and (not events or engine.exchange.books[o.ticker].event_ticker in events)]
            page, cursor = paginate(orders, q, limit)
            user = engine.exchange.account.user_id
            return {"orders": [order_json(o, user, engine.exchange.books[o.ticker].exchange_index) for o in page],
                    "cursor": cursor}
    except BadParam as exc:
        raise _bad(exc) from None


@router.get("/portfolio/orders/{order_id}")
def get_order(order_id: str, request: Request) -> dict[str, object]:
    engine = _synced(request)
    with engine.lock:
        order = engine.exchange.orders.get(order_id)
        if order is None:
            raise KalshiError(404, "not_found", f"order {order_id} not found")
        return {"order": order_json(order, engine.exchange.account.user_id,
                                    engine.exchange.books[order.ticker].exchange_index)}


@router.get("/portfolio/fills")
def list_fills(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, 1000)
        ticker, order_id = q.get("ticker"), q.get("order_id")
        with engine.lock:
            fills = [f for f in reversed(engine.exchange.account.fills)
                     if (not ticker or f["ticker"] == ticker) and (not order_id or f["order_id"] == order_id)]
            page, cursor = paginate(fills, q, limit)
    except BadParam as exc:
        raise _bad(exc) from None
    return {"fills": page, "cursor": cursor}


@router.get("/portfolio/positions")
def list_positions(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, 1000)
        ticker, event = q.get("ticker"), q.get("event_ticker")
        count_filter = set(list_param(q, "count_filter"))
        with engine.lock:
            account = engine.exchange.account
            positions = [p for p in account.positions.values()
                         if (not ticker or p.ticker == ticker) and (not event or p.event_ticker == event)
                         and ("position" not in count_filter or p.position != 0)
                         and ("total_traded" not in count_filter or p.total_traded != 0)]
            page, cursor = paginate(positions, q, limit)
            events: dict[str, dict[str, Decimal]] = {}
            for p in page:
                agg = events.setdefault(p.event_ticker, {k: ZERO for k in ("cost", "shares", "pnl", "fees")})
                agg["cost"] += p.cost
                agg["shares"] += p.yes_bought + p.no_bought
                agg["pnl"] += p.realized_pnl
                agg["fees"] += p.fees_paid
            return {
                "market_positions": [account.market_position_json(p) for p in page],
                "event_positions": [{"event_ticker": e, "total_cost_dollars": dollars(a["cost"]),
                                     "total_cost_shares_fp": count_fp(a["shares"]),
                                     "event_exposure_dollars": dollars(a["cost"]),
                                     "realized_pnl_dollars": dollars(a["pnl"]),
                                     "fees_paid_dollars": dollars(a["fees"])} for e, a in events.items()],
                "cursor": cursor,
            }
    except BadParam as exc:
        raise _bad(exc) from None


@router.get("/portfolio/balance")
def get_balance(request: Request) -> dict[str, object]:
    engine = _synced(request)
    with engine.lock:
        account = engine.exchange.account
        value = ZERO
        for p in account.positions.values():
            if p.position == 0:
                continue
            yes, no = engine.exchange.books[p.ticker].levels()
            side = yes if p.position > 0 else no
            value += abs(p.position) * (side[-1][0] if side else ZERO)
        updated = account.updated or engine.start
        return {"balance": to_cents(account.balance), "balance_dollars": dollars(account.balance),
                "portfolio_value": to_cents(value), "updated_ts": int(updated.timestamp())}


@router.get("/portfolio/settlements")
def list_settlements(request: Request) -> dict[str, object]:
    engine = _synced(request)
    q = request.query_params
    try:
        limit = int_param(q, "limit", 100, 1, 1000)
        ticker, event = q.get("ticker"), q.get("event_ticker")
        with engine.lock:
            rows = [s for s in reversed(engine.exchange.account.settlements)
                    if (not ticker or s["ticker"] == ticker) and (not event or s["event_ticker"] == event)]
            page, cursor = paginate(rows, q, limit)
    except BadParam as exc:
        raise _bad(exc) from None
    return {"settlements": page, "cursor": cursor}
