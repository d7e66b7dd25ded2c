"""Kalshi wire objects (Market, EventData, Milestone, Series) built from the scenario's state.

Every object carries every field kalshi-api.md §14 lists as required in spec 3.34 (plus the
deprecated-but-still-sent ones the saved 3.15 spec requires, like `available_on_brokers` and the
legacy order `side`/`action`), so both Kalshi's generated clients and ours accept them. Prices and
counts are fixed-point strings computed with Decimal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from arb_pipeline.mapping.catalogue import LeagueCatalogue
from arb_pipeline.sim.clock import rfc3339
from arb_pipeline.sim.exchange import Order
from arb_pipeline.sim.money import ONE, count_fp, dollars
from arb_pipeline.sim.scenario import GameState, ScenarioEngine
from arb_pipeline.sim.slate import COMPETITION, EASTERN, RULES_LEAGUE, Game

ZERO = Decimal(0)
SPORT_TAG = {"NFL": "Football", "NBA": "Basketball", "NHL": "Hockey", "MLB": "Baseball", "EPL": "Soccer"}
SERIES_TITLE = {"NFL": "Pro Football Game", "NBA": "Pro Basketball Game", "NHL": "Pro Hockey Game",
                "MLB": "Pro Baseball Game", "EPL": "English Premier League Game"}
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


def rules_primary(game: Game, outcome: str) -> str:
    matchup = f"{game.away.kalshi_label} vs {game.home.kalshi_label} {RULES_LEAGUE[game.code]} game"
    when = f"originally scheduled for {_scheduled_text(game)}"
    team = game.team(outcome)
    if team is None:
        return f"If the {matchup} {when} ends in a tie, then the market resolves to Yes."
    return f"If {team.kalshi_label} wins the {matchup} {when}, then the market resolves to Yes."


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


def market_json(engine: ScenarioEngine, state: GameState, outcome: str) -> dict[str, object]:
    game = state.game
    ticker = game.market_ticker(outcome)
    book = engine.exchange.books[ticker]
    yes, no = book.levels()
    best_bid = yes[-1] if yes else (ZERO, ZERO)
    best_no = no[-1] if no else (ZERO, ZERO)
    yes_ask = ONE - best_no[0] if no else ONE
    prev_bid, prev_ask, prev_last = state.previous[ticker]
    last = book.last_price if book.last_price is not None else prev_last
    elapsed_ticks = int((engine.now() - engine.start).total_seconds() // engine.config.tick_s)
    volume = state.base_volume[ticker] + book.volume + Decimal(max(elapsed_ticks, 0) * 3)
    team = game.team(outcome)
    label = team.kalshi_label if team else "Tie"
    close_time = market_close_time(state)
    status = market_status(state)
    result = engine.market_result(state, outcome) if state.phase in ("determined", "finalized") else ""
    market: dict[str, object] = {
        "ticker": ticker,
        "event_ticker": game.event_ticker,
        "market_type": "binary",
        "title": f"{label} wins" if team else "Tie",
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
        "yes_bid_dollars": dollars(best_bid[0]),
        "yes_bid_size_fp": count_fp(best_bid[1]),
        "yes_ask_dollars": dollars(yes_ask),
        "yes_ask_size_fp": count_fp(best_no[1]),
        "no_bid_dollars": dollars(best_no[0]),
        "no_ask_dollars": dollars(ONE - best_bid[0]),
        "last_price_dollars": dollars(last),
        "volume_fp": count_fp(volume),
        "volume_24h_fp": count_fp(volume * Decimal("0.3")),
        "result": result,
        "can_close_early": True,
        "early_close_condition": "This market will close and expire early after the game ends.",
        "open_interest_fp": count_fp((volume * Decimal("0.4")).to_integral_value()),
        "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": dollars(prev_bid),
        "previous_yes_ask_dollars": dollars(prev_ask),
        "previous_price_dollars": dollars(prev_last),
        "settlement_bounds_type": "default",
        "expiration_value": _winner_label(state),
        "rules_primary": rules_primary(game, outcome),
        "rules_secondary": rules_secondary(game),
        "price_level_structure": "linear_cent",
        "price_ranges": PRICE_RANGES,
        "exchange_index": game.exchange_index,
        "is_provisional": False,
    }
    if team is not None:
        market["strike_type"] = "structured"
        sport = game.league.milestone_type.split("_")[0]
        market["custom_strike"] = {f"{sport}_team": game.target_ids[team.id]}
    if result:
        market["occurrence_datetime"] = rfc3339(game.ends)
        market["settlement_value_dollars"] = "1.0000" if result == "yes" else "0.0000"
    if state.phase == "finalized" and state.finalized_at is not None:
        market["settlement_ts"] = rfc3339(state.finalized_at)
    return market


def _winner_label(state: GameState) -> str:
    """`expiration_value`: the value the market settled on (the winner), empty until determined."""
    if state.result is None or state.phase not in ("determined", "finalized"):
        return ""
    team = state.game.team(state.result)
    return team.kalshi_label if team else "Tie"


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
        return f"{game.home.kalshi_label} vs {game.away.kalshi_label}"
    return f"{game.away.kalshi_label} at {game.home.kalshi_label}"


def event_json(engine: ScenarioEngine, state: GameState, nested: bool) -> dict[str, object]:
    game = state.game
    local = game.scheduled.astimezone(EASTERN)
    event: dict[str, object] = {
        "event_ticker": game.event_ticker,
        "series_ticker": game.league.kalshi_series,
        "sub_title": f"{game.away.kalshi_code} at {game.home.kalshi_code} ({local:%b} {local.day})",
        "title": event_title(game),
        "collateral_return_type": "MECNET",
        "mutually_exclusive": True,
        "category": "Sports",
        "available_on_brokers": False,
        "product_metadata": {"competition": COMPETITION[game.code], "competition_scope": "Game"},
        "settlement_sources": SETTLEMENT_SOURCES,
        "last_updated_ts": rfc3339(state.updated or engine.created),
        "exchange_index": game.exchange_index,
    }
    if nested:
        event["markets"] = [market_json(engine, state, o) for o in game.outcomes]
    return event


def milestone_json(engine: ScenarioEngine, state: GameState) -> dict[str, object]:
    game = state.game
    title = f"{game.away.full_name} at {game.home.full_name}"
    milestone: dict[str, object] = {
        "id": game.milestone_id,
        "category": "Sports",
        "type": game.league.milestone_type,
        "start_date": rfc3339(game.commence),
        "end_date": rfc3339(game.ends) if state.closed_at else None,
        "related_event_tickers": [game.event_ticker],
        "primary_event_tickers": [game.event_ticker],
        "title": title,
        "notification_message": f"{title} is starting soon",
        "details": {"home_team_id": game.target_ids[game.home.id], "away_team_id": game.target_ids[game.away.id],
                    "competition": COMPETITION[game.code]},
        "source_id": f"sr:match:{int(game.odds_id[:7], 16)}",
        "last_updated_ts": rfc3339(state.updated or engine.created),
    }
    return milestone


def series_json(engine: ScenarioEngine, league: LeagueCatalogue) -> dict[str, object]:
    volume = sum((st.base_volume[t] for st in engine.states.values() if st.game.league.code == league.code
                  for t in st.base_volume), ZERO)
    return {
        "ticker": league.kalshi_series,
        "frequency": "custom",
        "title": SERIES_TITLE.get(league.code, f"{league.code} Game"),
        "category": "Sports",
        "categories": ["Sports"],
        "tags": [SPORT_TAG.get(league.code, "Sports")],
        "settlement_sources": SETTLEMENT_SOURCES,
        "contract_url": f"https://kalshi.com/series/{league.kalshi_series.lower()}",
        "contract_terms_url": "https://kalshi.com/regulatory/rulebook",
        "fee_type": "quadratic_with_maker_fees",
        "fee_multiplier": 1,
        "additional_prohibitions": [],
        "product_metadata": {"competition": COMPETITION.get(league.code, league.code)},
        "volume_fp": count_fp(volume),
        "last_updated_ts": rfc3339(engine.created),
        "exchange_index": 3 if league.code == "MLB" else 0,
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
        sport = game.league.milestone_type.split("_")[0]
        for team in (game.away, game.home):
            target = game.target_ids[team.id]
            seen.setdefault(target, {
                "id": target,
                "name": team.full_name,
                "type": f"{sport}_team",
                "details": {"competition": COMPETITION[game.code], "abbreviation": team.kalshi_code},
                "source_id": f"sr:competitor:{int(target[:6], 16)}",
                "source_ids": {"sportradar": f"sr:competitor:{int(target[:6], 16)}"},
                "last_updated_ts": rfc3339(engine.created),
            })
    return sorted(seen.values(), key=lambda t: str(t["name"]))
