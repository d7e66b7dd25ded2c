"""Kalshi wire objects (Market, EventData, Milestone, Series) built from the scenario's state.

Every object carries every field kalshi-api.md §14 lists as required in spec 3.34 (plus the
deprecated-but-still-sent ones the saved 3.15 spec requires, like `available_on_brokers` and the
legacy order `side`/`action`), so both Kalshi's generated clients and ours accept them. Prices and
counts are fixed-point strings computed with Decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from arb_pipeline.mapping.catalogue import LeagueCatalogue
from arb_pipeline.sim import lines
from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.exchange import Order
from arb_pipeline.sim.lines import LineMarket
from arb_pipeline.sim.money import ONE, count_fp, dollars
from arb_pipeline.sim.scenario import GameState, ScenarioEngine
from arb_pipeline.sim.slate import COMPETITION, EASTERN, RULES_LEAGUE, Game, kalshi_code, kalshi_label

ZERO = Decimal(0)
SPORT_TAG = {"NFL": "Football", "NBA": "Basketball", "NHL": "Hockey", "MLB": "Baseball", "EPL": "Soccer",
             "NCAAF": "Football", "NCAAMB": "Basketball", "WNBA": "Basketball", "MLS": "Soccer", "UCL": "Soccer",
             "UEL": "Soccer", "LALIGA": "Soccer", "SERIEA": "Soccer", "BUNDESLIGA": "Soccer", "LIGUE1": "Soccer",
             "ATP": "Tennis", "WTA": "Tennis", "UFC": "MMA"}
SERIES_TITLE = {"NFL": "Pro Football Game", "NBA": "Pro Basketball Game", "NHL": "Pro Hockey Game",
                "MLB": "Pro Baseball Game", "EPL": "English Premier League Game"}
KIND_TITLE = {"spread": "Spread", "total": "Total"}
SETTLEMENT_SOURCES = [{"name": "ESPN", "url": "https://www.espn.com"}]
STATUS_FILTER = {"unopened": ("initialized",), "open": ("active",), "paused": ("inactive",),
                 "closed": ("closed", "determined", "disputed", "amended"), "settled": ("finalized",)}
PRICE_RANGES = [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]


def market_close_time(state: GameState) -> datetime:
    """Two weeks after the scheduled date (room for a postponement), or when it closed early after the game."""
    return state.closed_at or state.game.scheduled + timedelta(days=14)


def market_status(state: GameState) -> str:
    return {"scheduled": "active", "live": "active"}.get(state.phase, state.phase)


def event_status(state: GameState) -> str:
    return {"scheduled": "open", "live": "open", "finalized": "settled"}.get(state.phase, "closed")


def _scheduled_text(game: Game) -> str:
    local = game.scheduled.astimezone(EASTERN)
    text = f"{local:%b} {local.day}, {local.year}"
    if game.code == "MLB":
        hour = local.hour % 12 or 12
        text += f" at {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'} ET"
    return text


def _matchup(game: Game) -> str:
    return f"{kalshi_label(game.away)} vs {kalshi_label(game.home)} {RULES_LEAGUE[game.code]} game"


def rules_primary(game: Game, outcome: str) -> str:
    matchup = _matchup(game)
    when = f"originally scheduled for {_scheduled_text(game)}"
    team = game.team(outcome)
    if team is None:
        return f"If the {matchup} {when} ends in a tie, then the market resolves to Yes."
    return f"If {kalshi_label(team)} wins the {matchup} {when}, then the market resolves to Yes."


def line_rules_primary(game: Game, market: LineMarket) -> str:
    """Kalshi's wording for spreads and totals (kalshi-api.md §8.6): "wins by more than" / "more than"."""
    unit = lines.unit(game)
    where = f"in the {_matchup(game)} originally scheduled for {_scheduled_text(game)}"
    if market.kind == "total":
        return f"If the teams collectively score more than {market.strike} {unit} {where}, then the market resolves to Yes."
    team = game.team(market.subject or "home")
    return f"If {kalshi_label(team)} wins by more than {market.strike} {unit} {where}, then the market resolves to Yes."  # type: ignore[arg-type]


def rules_secondary(game: Game) -> str:
    if game.league.three_way:
        tie = "The result is the score at the end of regulation time, including stoppage time. "
    elif game.code == "NFL":
        tie = "If the game ends in a tie, both team markets resolve to No. "
    else:
        tie = "Overtime and shootouts count toward the result. "
    return (tie + "If the game is postponed, the market stays open until the game is played, up to two weeks "
            "after the originally scheduled date; if it is cancelled or not completed in that time, the "
            "market resolves to No.")


def lifecycle_key(state: GameState) -> tuple[object, ...]:
    """Everything of a game's state that a rendering depends on besides its books and the clock: its
    lifecycle (phase, stamps, result, final score) and its start (the postponement trap moves it).
    A cached rendering is reused only while this compares equal."""
    return (state.phase, state.updated, state.result, state.closed_at, state.determined_at, state.finalized_at,
            state.final, state.inverted, state.game.commence, state.game.scheduled)


def _cached(engine: ScenarioEngine, key: object, state: GameState, render: Callable[[], dict[str, object]]
            ) -> dict[str, object]:
    """`render()`'s value from `engine.render_cache` while the state's `lifecycle_key` is unchanged."""
    version = lifecycle_key(state)
    hit = engine.render_cache.get(key)
    if hit is None or hit[0] != version:
        hit = engine.render_cache[key] = (version, render())
    return hit[1]


def market_json(engine: ScenarioEngine, state: GameState, outcome: str) -> dict[str, object]:
    """A game-winner market. What does not depend on its book or the clock is rendered once per lifecycle
    change (`_cached`); the quote, last price, volume and interest fields are filled in afresh."""
    template = _cached(engine, ("market", state.game.event_ticker, outcome), state,
                       lambda: _market_template(engine, state, outcome))
    return _with_book(engine, state, template)


def line_market_json(engine: ScenarioEngine, state: GameState, line: LineMarket) -> dict[str, object]:
    """A spread or total market (see `market_json` for what is cached)."""
    template = _cached(engine, ("line", line.ticker), state, lambda: _line_template(engine, state, line))
    return _with_book(engine, state, template)


def _market_template(engine: ScenarioEngine, state: GameState, outcome: str) -> dict[str, object]:
    game = state.game
    ticker = game.market_ticker(outcome)
    team = game.team(outcome)
    label = kalshi_label(team) if team else "Tie"
    result = engine.market_result(state, outcome) if state.phase in ("determined", "finalized") else ""
    market = _market_base(engine, state, ticker, label, result)
    market.update({"title": f"{label} wins" if team else "Tie", "expiration_value": _winner_label(state),
                   "rules_primary": rules_primary(game, outcome)})
    if team is not None:
        market["strike_type"] = "structured"
        market["custom_strike"] = {game.league.target_type: game.target_ids[team.id]}
    return _settled(market, state, result)


def _line_template(engine: ScenarioEngine, state: GameState, line: LineMarket) -> dict[str, object]:
    """A spread or total market: the line in `floor_strike` with strike_type "greater" (§8.6)."""
    game = state.game
    unit = lines.unit(game)
    if line.kind == "total":
        label = f"Over {line.strike} {unit} scored"
        title = f"Full Game: Over {line.strike} {unit} scored"
    else:
        label = f"{kalshi_label(game.team(line.subject or 'home'))} wins by over {line.strike} {unit}"  # type: ignore[arg-type]
        title = label
    result = engine.line_result(state, line) if state.phase in ("determined", "finalized") else ""
    market = _market_base(engine, state, line.ticker, label, result)
    value = str(sum(state.final)) if line.kind == "total" and state.final and result else ""
    if line.kind == "spread" and state.final and result:
        home, away = state.final
        value = str(home - away if line.subject == "home" else away - home)
    market.update({"event_ticker": line.event_ticker, "title": title, "expiration_value": value,
                   "rules_primary": line_rules_primary(game, line), "strike_type": "greater",
                   "floor_strike": float(line.strike)})
    return _settled(market, state, result)


def _market_base(engine: ScenarioEngine, state: GameState, ticker: str, label: str, result: str) -> dict[str, object]:
    """Every field in Kalshi's order; the book's and the clock's (`BOOK_FIELDS`) are left for `_with_book`."""
    game = state.game
    close_time = market_close_time(state)
    status = market_status(state)
    prev_bid, prev_ask, prev_last = state.previous[ticker]
    market: dict[str, object] = {
        "ticker": ticker,
        "event_ticker": game.event_ticker,
        "market_type": "binary",
        "title": "",
        "subtitle": "",
        "yes_sub_title": label,
        "no_sub_title": label,
        "created_time": rfc3339(engine.created),
        "updated_time": rfc3339(state.updated or engine.created),
        "open_time": rfc3339(engine.created),
        "close_time": rfc3339(close_time),
        "expected_expiration_time": rfc3339(game.ends + timedelta(hours=1)),
        "expiration_time": rfc3339(game.scheduled + timedelta(days=21)),
        "latest_expiration_time": rfc3339(game.scheduled + timedelta(days=21)),
        "settlement_timer_seconds": engine.config.settlement_timer_seconds,
        "status": status,
        "yes_bid_dollars": "",
        "yes_bid_size_fp": "",
        "yes_ask_dollars": "",
        "yes_ask_size_fp": "",
        "no_bid_dollars": "",
        "no_ask_dollars": "",
        "last_price_dollars": "",
        "volume_fp": "",
        "volume_24h_fp": "",
        "result": result,
        "can_close_early": True,
        "early_close_condition": "This market will close and expire early after the game ends.",
        "open_interest_fp": "",
        "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": dollars(prev_bid),
        "previous_yes_ask_dollars": dollars(prev_ask),
        "previous_price_dollars": dollars(prev_last),
        "settlement_bounds_type": "default",
        "expiration_value": "",
        "rules_primary": "",
        "rules_secondary": rules_secondary(game),
        "price_level_structure": "linear_cent",
        "price_ranges": PRICE_RANGES,
        "exchange_index": game.exchange_index,
        "is_provisional": False,
    }
    return market


def _with_book(engine: ScenarioEngine, state: GameState, template: dict[str, object]) -> dict[str, object]:
    """A copy of a market's template with its book's quotes, last price and volumes (volume grows with the
    clock's ticks) written into their places (assigning an existing key keeps the field order)."""
    market = template.copy()
    ticker = str(market["ticker"])
    book = engine.exchange.books[ticker]
    yes, no = book.levels()
    best_bid = yes[-1] if yes else (ZERO, ZERO)
    best_no = no[-1] if no else (ZERO, ZERO)
    yes_ask = ONE - best_no[0] if no else ONE
    last = book.last_price if book.last_price is not None else state.previous[ticker][2]
    elapsed_ticks = int((engine.now() - engine.start).total_seconds() // engine.config.tick_s)
    volume = state.base_volume[ticker] + book.volume + Decimal(max(elapsed_ticks, 0) * 3)
    market["yes_bid_dollars"] = dollars(best_bid[0])
    market["yes_bid_size_fp"] = count_fp(best_bid[1])
    market["yes_ask_dollars"] = dollars(yes_ask)
    market["yes_ask_size_fp"] = count_fp(best_no[1])
    market["no_bid_dollars"] = dollars(best_no[0])
    market["no_ask_dollars"] = dollars(ONE - best_bid[0])
    market["last_price_dollars"] = dollars(last)
    market["volume_fp"] = count_fp(volume)
    market["volume_24h_fp"] = count_fp(volume * Decimal("0.3"))
    market["open_interest_fp"] = count_fp((volume * Decimal("0.4")).to_integral_value())
    return market


def _settled(market: dict[str, object], state: GameState, result: str) -> dict[str, object]:
    """The fields a market gains once determined and finalized."""
    if result:
        market["occurrence_datetime"] = rfc3339(state.game.ends)
        market["settlement_value_dollars"] = "1.0000" if result == "yes" else "0.0000"
    if state.phase == "finalized" and state.finalized_at is not None:
        market["settlement_ts"] = rfc3339(state.finalized_at)
    return market


def _winner_label(state: GameState) -> str:
    """`expiration_value`: the value the market settled on (the winner), empty until determined."""
    if state.result is None or state.phase not in ("determined", "finalized"):
        return ""
    team = state.game.team(state.result)
    return kalshi_label(team) if team else "Tie"


def order_json(order: Order, user_id: str, exchange_index: int) -> dict[str, object]:
    """An `Order` as GET /portfolio/orders returns it (V2 direction fields plus the legacy pair)."""
    return {
        "order_id": order.order_id,
        "user_id": user_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "outcome_side": order.outcome_side,
        "book_side": order.side,
        "side": order.outcome_side,
        "action": "buy",
        "type": "limit",
        "status": order.status,
        "yes_price_dollars": dollars(order.price),
        "no_price_dollars": dollars(ONE - order.price),
        "fill_count_fp": count_fp(order.filled),
        "remaining_count_fp": count_fp(order.remaining),
        "initial_count_fp": count_fp(order.initial),
        "taker_fill_cost_dollars": dollars(order.taker_cost),
        "maker_fill_cost_dollars": dollars(order.maker_cost),
        "taker_fees_dollars": dollars(order.taker_fees),
        "maker_fees_dollars": dollars(order.maker_fees),
        "expiration_time": rfc3339(datetime.fromtimestamp(order.expiration_ts, UTC)) if order.expiration_ts else None,
        "created_time": rfc3339(order.created) if order.created else None,
        "last_update_time": rfc3339(order.updated) if order.updated else None,
        "self_trade_prevention_type": order.stp,
        "order_group_id": None,
        "cancel_order_on_pause": order.cancel_on_pause,
        "subaccount_number": 0,
        "exchange_index": exchange_index,
    }


def event_title(game: Game) -> str:
    if game.league.three_way:
        return f"{kalshi_label(game.home)} vs {kalshi_label(game.away)}"
    return f"{kalshi_label(game.away)} at {kalshi_label(game.home)}"


def line_events(state: GameState) -> list[tuple[str, str, str]]:
    """(event ticker, series ticker, kind) of a game's spread and total events, in listing order."""
    seen: dict[str, tuple[str, str, str]] = {}
    for m in state.line_markets:
        series = m.event_ticker.split("-", 1)[0]
        seen.setdefault(m.event_ticker, (m.event_ticker, series, m.kind))
    return list(seen.values())


def event_json(engine: ScenarioEngine, state: GameState, nested: bool, line_event: str | None = None
               ) -> dict[str, object]:
    """A game's winner event, or (`line_event`) one of its spread/total events. Its own fields are rendered
    once per lifecycle change (`_cached`), its nested markets afresh."""
    event = _cached(engine, ("event", state.game.event_ticker, line_event), state,
                    lambda: _event_header(engine, state, line_event)).copy()
    if nested:
        event["markets"] = ([line_market_json(engine, state, m) for m in state.line_markets
                             if m.event_ticker == line_event] if line_event
                            else [market_json(engine, state, o) for o in state.game.outcomes])
    return event


def _event_header(engine: ScenarioEngine, state: GameState, line_event: str | None) -> dict[str, object]:
    game = state.game
    local = game.scheduled.astimezone(EASTERN)
    kind = next((k for t, _, k in line_events(state) if t == line_event), None) if line_event else None
    event: dict[str, object] = {
        "event_ticker": line_event or game.event_ticker,
        "series_ticker": line_event.split("-", 1)[0] if line_event else game.league.kalshi_series,
        "sub_title": f"{kalshi_code(game.away)} at {kalshi_code(game.home)} ({local:%b} {local.day})",
        "title": event_title(game) + (f": {KIND_TITLE[kind]}" if kind else ""),
        "collateral_return_type": "" if kind else "MECNET",
        "mutually_exclusive": kind is None,
        "category": "Sports",
        "available_on_brokers": False,
        "product_metadata": {"competition": COMPETITION[game.code], "competition_scope": "Game"},
        "settlement_sources": SETTLEMENT_SOURCES,
        "last_updated_ts": rfc3339(state.updated or engine.created),
        "exchange_index": game.exchange_index,
    }
    return event


def milestone_json(engine: ScenarioEngine, state: GameState) -> dict[str, object]:
    """A game's milestone (rendered once per lifecycle change, see `_cached`)."""
    return _cached(engine, ("milestone", state.game.event_ticker), state,
                   lambda: _milestone(engine, state)).copy()


def _milestone(engine: ScenarioEngine, state: GameState) -> dict[str, object]:
    game = state.game
    title = f"{game.away.full_name} at {game.home.full_name}"
    milestone: dict[str, object] = {
        "id": game.milestone_id,
        "category": "Sports",
        "type": game.league.milestone_type,
        "start_date": rfc3339(game.commence),
        "end_date": rfc3339(game.ends) if state.closed_at else None,
        "related_event_tickers": [game.event_ticker, *(t for t, _, _ in line_events(state))],
        "primary_event_tickers": [game.event_ticker],
        "title": title,
        "notification_message": f"{title} is starting soon",
        "details": {"home_team_id": game.target_ids[game.home.id], "away_team_id": game.target_ids[game.away.id],
                    "competition": COMPETITION[game.code], **({"neutral_site": True} if game.neutral else {})},
        "source_id": f"sr:match:{int(game.odds_id[:7], 16)}",
        "last_updated_ts": rfc3339(state.updated or engine.created),
    }
    return milestone


def series_json(engine: ScenarioEngine, league: LeagueCatalogue, ticker: str | None = None) -> dict[str, object]:
    """A series: the league's game-winner series, or `ticker`, one of its spread/total series."""
    ticker = ticker or league.kalshi_series
    kind = league.series_kind(ticker) or "game"
    volume = sum((st.base_volume[t] for st in engine.states.values() if st.game.league.code == league.code
                  for t in st.base_volume), ZERO)
    title = SERIES_TITLE.get(league.code, f"{league.code} Game")
    return {
        "ticker": ticker,
        "frequency": "custom",
        "title": title if kind == "game" else f"{league.code} {KIND_TITLE[kind]}",
        "category": "Sports",
        "categories": ["Sports"],
        "tags": [SPORT_TAG.get(league.code, "Sports")],
        "settlement_sources": SETTLEMENT_SOURCES,
        "contract_url": f"https://kalshi.com/series/{ticker.lower()}",
        "contract_terms_url": "https://kalshi.com/regulatory/rulebook",
        "fee_type": "quadratic_with_maker_fees",
        "fee_multiplier": 1,
        "additional_prohibitions": [],
        "product_metadata": {"competition": COMPETITION.get(league.code, league.code)},
        "volume_fp": count_fp(volume),
        "last_updated_ts": rfc3339(engine.created),
        "exchange_index": 3 if league.code in ("MLB", "ATP", "WTA") else 0,
    }


def orderbook_json(engine: ScenarioEngine, ticker: str, depth: int = 0) -> dict[str, object]:
    yes, no = engine.exchange.books[ticker].levels()
    if depth > 0:
        yes, no = yes[-depth:], no[-depth:]
    return {"yes_dollars": [[dollars(p), count_fp(c)] for p, c in yes],
            "no_dollars": [[dollars(p), count_fp(c)] for p, c in no]}


def structured_targets(engine: ScenarioEngine) -> list[dict[str, object]]:
    """The structured targets (teams) that the slate's `custom_strike` and milestone ids point to."""
    seen: dict[str, dict[str, object]] = {}
    for state in engine.states.values():
        game = state.game
        for team in (game.away, game.home):
            target = game.target_ids[team.id]
            seen.setdefault(target, {
                "id": target,
                "name": team.full_name,
                "type": game.league.target_type,
                "details": {"competition": COMPETITION[game.code], "abbreviation": kalshi_code(team)},
                "source_id": f"sr:competitor:{int(target[:6], 16)}",
                "source_ids": {"sportradar": f"sr:competitor:{int(target[:6], 16)}"},
                "last_updated_ts": rfc3339(engine.created),
            })
    return sorted(seen.values(), key=lambda t: str(t["name"]))
