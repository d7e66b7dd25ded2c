"""The seeded scenario engine: true probabilities that drift, the quotes derived from them, and time.

Everything the venues serve comes from here. For a given seed and the same sequence of calls the
scenario is identical: the slate, every random-walk step (one per `tick_s` of simulated time), every
bookmaker update and every injected window. Time comes from an injectable `SimClock`; requests call
`sync()`, which replays the ticks up to "now", moves games through their lifecycle (scheduled ->
live -> closed -> determined -> finalized, paying settlements) and requotes Kalshi's books.
Arbitrage and +EV windows appear at a configurable rate or on demand (`inject_arbitrage`,
`inject_value`) and are re-derived from the current bookmaker quotes on every requote, so an
injected window stays a true arbitrage (or value bet) in the served data for its whole lifetime.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from arb_pipeline.mapping.catalogue import Catalogue, load_catalogue
from arb_pipeline.sim import lines
from arb_pipeline.sim.clock import SimClock, rfc3339
from arb_pipeline.sim.exchange import Exchange, MarketBook
from arb_pipeline.sim.lines import LineMarket, LineModel
from arb_pipeline.sim.money import CENT, ONE
from arb_pipeline.sim.portfolio import Account
from arb_pipeline.sim.pricing import BOOKMAKERS, book_prices, kalshi_ladder, randint, softmax
from arb_pipeline.sim.slate import EXTENDED_LEAGUES, LEAGUES, Game, build_slate, kalshi_code, sim_sport_key
from arb_pipeline.sim.windows import (
    BookLeg,
    arbitrage_ask,
    best_legs,
    describe,
    describe_line,
    fair_probabilities,
    line_book_legs,
    line_complement_side,
    value_ask,
)

PREGAME_BUFFER = timedelta(minutes=10)  # windows are only opened on games this far from their start


class BookFreezer(Protocol):
    """What the scenario and the order endpoint ask the fault controller (`sim.faults`)."""

    def book_frozen(self, bookmaker: str, sport_key: str) -> bool: ...

    def take_no_fill(self, ticker: str) -> bool: ...


@dataclass
class ScenarioConfig:
    seed: int = 7
    start: datetime | None = None  # default: the wall clock now
    live_clock: bool = False  # True: time follows the wall clock (plus advances), as in `make demo`
    games_per_league: int | dict[str, int] = 3
    tick_s: float = 10.0
    pregame_vol_per_hour: float = 0.12  # random-walk volatility of the true logit
    inplay_vol_per_hour: float = 0.9
    odds_update_probability: float = 0.35  # chance a bookmaker refreshes its prices on a tick
    arb_rate_per_hour: float = 3.0
    value_rate_per_hour: float = 3.0
    window_lifetime_s: float = 120.0
    window_size: Decimal = Decimal("150")
    settlement_timer_seconds: int = 600
    determination_delay_s: float = 300.0
    starting_balance: Decimal = Decimal("10000")
    doubleheader: bool = True
    inverted_price_trap: bool = False
    postponed_game_trap: bool = False
    unknown_alias_trap: bool = False
    opening_windows: bool = False  # open one arbitrage and one value window at start (demos show them at once)
    opening_window_lifetime_s: float = 900.0
    # The extended slate: every catalogued league (college, WNBA, MLS, European soccer, tennis, UFC), a
    # neutral-site game, Kalshi spread/total markets and books' lines priced from one truth model.
    # Off by default so the demo's and the bundled sample's world stays as recorded.
    extended: bool = False


@dataclass
class BookQuote:
    h2h: dict[str, int | Decimal]
    spread: tuple[Decimal, int, int]  # home point, home price, away price (American)
    total: tuple[Decimal, int, int]  # points, over price, under price (American)
    updated: datetime


@dataclass
class Window:
    id: str
    kind: str  # "arbitrage" | "value"
    event_ticker: str
    outcome: str
    market_ticker: str
    edge: Decimal
    size: Decimal
    created: datetime
    expires: datetime
    details: dict[str, object] = field(default_factory=dict)
    line: str | None = None  # "spread" / "total": a window on a Kalshi line market (extended slate)


@dataclass
class GameState:
    game: Game
    logits: list[float]
    kalshi_noise: dict[str, float]
    book_noise: dict[str, list[float]]
    quotes: dict[str, BookQuote]
    spread_point: Decimal
    total_point: Decimal
    base_volume: dict[str, Decimal]
    previous: dict[str, tuple[Decimal, Decimal, Decimal]]  # ticker -> (bid, ask, last) a day earlier
    phase: str = "scheduled"  # scheduled | live | closed | determined | finalized
    result: str | None = None  # winning outcome
    closed_at: datetime | None = None
    determined_at: datetime | None = None
    finalized_at: datetime | None = None
    inverted: bool = False
    updated: datetime | None = None
    line_markets: list[LineMarket] = field(default_factory=list)  # extended slate: spread/total markets
    final: tuple[int, int] | None = None  # final score (home, away) once the game is closed

    def line_model(self) -> LineModel:
        return lines.model(self.game, self.probs())

    def probs(self) -> list[float]:
        return softmax(self.logits)

    def prob(self, outcome: str) -> float:
        return self.probs()[self.game.outcomes.index(outcome)]


def _games_per_league(value: int | dict[str, int], leagues: tuple[str, ...]) -> dict[str, int]:
    return {code: value for code in leagues} if isinstance(value, int) else dict(value)


class ScenarioEngine:
    """The simulated world. All public methods take the engine lock; state is in-process only."""

    def __init__(self, config: ScenarioConfig | None = None, catalogue: Catalogue | None = None,
                 clock: SimClock | None = None, faults: BookFreezer | None = None) -> None:
        self.config = config = config or ScenarioConfig()
        self.lock = threading.RLock()
        if clock is None:
            start = config.start or datetime.now(UTC).replace(microsecond=0)
            clock = SimClock.live_from(start) if config.live_clock else SimClock.fixed(start)
        self.clock = clock
        self.faults = faults
        self.catalogue = catalogue or load_catalogue()
        self.rng = random.Random(config.seed)
        self.start = clock.now()
        self.created = (self.start - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        self.exchange = Exchange(Account(f"sim-user-{config.seed}", config.starting_balance), clock.now, config.seed)
        leagues = EXTENDED_LEAGUES if config.extended else LEAGUES
        self.games = build_slate(self.catalogue, self.rng, self.start,
                                 _games_per_league(config.games_per_league, leagues),
                                 doubleheader=config.doubleheader, leagues=leagues, neutral_site=config.extended)
        self.states: dict[str, GameState] = {}
        self.line_index: dict[str, tuple[GameState, LineMarket]] = {}
        self.windows: dict[str, Window] = {}
        self.expired: list[Window] = []
        self.traps: dict[str, dict[str, object]] = {}
        self.market_index: dict[str, tuple[GameState, str]] = {}
        # the Kalshi views' renderings of what changes only with a game's lifecycle (`sim.kalshi_views`),
        # each stored with the state it was rendered from and re-rendered when that differs
        self.render_cache: dict[object, tuple[object, dict[str, object]]] = {}
        for game in self.games:
            self._add_game(game)
        self._set_traps()
        self._tick = 0
        self._requote_all()
        if config.opening_windows:
            lifetime = config.opening_window_lifetime_s
            self._inject("arbitrage", None, Decimal("0.02"), None, None, lifetime)
            self._inject("value", None, Decimal("0.02"), None, None, lifetime)

    # ------------------------------------------------------------------ construction

    def _add_game(self, game: Game) -> None:
        rng = self.rng
        if game.league.three_way:
            home = rng.uniform(-0.3, 0.9)
            logits = [home, rng.uniform(-0.35, 0.05), 0.0]
        else:
            logits = [rng.uniform(-1.2, 1.4), 0.0]
        if self.config.extended:
            # one truth for winners and lines: the books' main spread and total sit at the model's means
            m = lines.model(game, softmax(logits)) if not game.league.individual else None
            spread = lines.book_point(game, m) if m else Decimal("0.5")
            total = Decimal(repr(m.total_mean)) if m else Decimal("0.5")
            # the books quote the home side of the spread: home −p covers when the margin exceeds p
            spread = -spread
        else:
            base = {"NFL": 44.5, "NBA": 224.5, "NHL": 6.5, "MLB": 8.5, "EPL": 2.5}[game.code]
            jitter = {"NFL": 3, "NBA": 8, "NHL": 0, "MLB": 1, "EPL": 0}[game.code]
            total = Decimal(repr(base + rng.randint(-jitter, jitter)))
            spread = self._spread_point(game, logits)
        state = GameState(game, logits, {o: 0.0 for o in game.outcomes},
                          {b: [rng.gauss(0, 0.02) for _ in game.outcomes] for b in BOOKMAKERS}, {},
                          spread, total, {}, {})
        for bookmaker in BOOKMAKERS:
            state.quotes[bookmaker] = self._book_quote(state, bookmaker, self.start - timedelta(seconds=rng.randint(5, 90)))
        self.states[game.event_ticker] = state
        for outcome in game.outcomes:
            ticker = game.market_ticker(outcome)
            self.market_index[ticker] = (state, outcome)
            self.exchange.add_market(MarketBook(ticker, game.event_ticker, game.exchange_index))
            fair = Decimal(repr(round(state.prob(outcome), 2)))
            drift = Decimal(rng.randint(-3, 3)) / 100
            prev = min(Decimal("0.97"), max(Decimal("0.02"), fair + drift))
            state.previous[ticker] = (prev - CENT, prev, prev)
            state.base_volume[ticker] = Decimal(rng.randint(2_000, 150_000))
        if self.config.extended and not game.league.individual:
            self._add_line_markets(state)
        state.updated = self.created

    def _add_line_markets(self, state: GameState) -> None:
        """Kalshi's spread and total events of a game (the series its league lists in the catalogue)."""
        game, rng = state.game, self.rng
        axis = -state.spread_point  # the books' home point, on the home-margin axis
        series = {"spread": game.league.spread_series, "total": game.league.total_series}
        codes = {"home": kalshi_code(game.home), "away": kalshi_code(game.away)}
        m = state.line_model()
        for kind, subject, strike in lines.strikes(game, axis, state.total_point):
            if not series[kind]:
                continue
            ticker = lines.market_ticker(series[kind], game, kind, codes[subject] if subject else None, strike)
            event = f"{series[kind]}-{game.event_ticker.split('-', 1)[1]}"
            market = LineMarket(ticker, event, kind, subject, strike)
            state.line_markets.append(market)
            self.line_index[ticker] = (state, market)
            self.exchange.add_market(MarketBook(ticker, event, game.exchange_index))
            prev = min(Decimal("0.97"), max(Decimal("0.02"), Decimal(repr(round(lines.fair(market, m), 2)))))
            state.previous[ticker] = (prev - CENT, prev, prev)
            state.base_volume[ticker] = Decimal(rng.randint(1_000, 60_000))

    @staticmethod
    def _spread_point(game: Game, logits: list[float]) -> Decimal:
        edge = logits[0] - logits[-1]
        if game.code in ("NHL", "MLB"):
            return Decimal("-1.5") if edge >= 0 else Decimal("1.5")
        if game.code == "EPL":
            return Decimal("-0.5") if edge >= 0 else Decimal("0.5")
        scale = 6.5 if game.code == "NFL" else 7.0
        return -(Decimal(math.floor(abs(edge) * scale)) + Decimal("0.5")) * (1 if edge >= 0 else -1)

    def _book_quote(self, state: GameState, bookmaker: str, when: datetime) -> BookQuote:
        _title, _region, margin, native = BOOKMAKERS[bookmaker]
        base_margin = margin
        if state.game.league.three_way:
            margin *= 1.6
        noise = state.book_noise[bookmaker]
        prices = book_prices(state.probs(), margin, native, noise)
        r = self.rng
        spread = (state.spread_point, -110 + randint(r, -8, 6), -110 + randint(r, -8, 6))
        total = (state.total_point, -110 + randint(r, -8, 6), -110 + randint(r, -8, 6))
        if self.config.extended and not state.game.league.individual:
            # the lines priced from the same truth as the winner market, with this book's margin and error
            m, pair = state.line_model(), [noise[0], noise[-1]]
            home_covers = lines.above(float(-state.spread_point), m.mu, m.sigma)
            over = lines.above(float(state.total_point), m.total_mean, m.total_sigma)
            spread = (state.spread_point, *book_prices([home_covers, 1 - home_covers], base_margin, native, pair))
            total = (state.total_point, *book_prices([over, 1 - over], base_margin, native, pair))
        return BookQuote(dict(zip(state.game.outcomes, prices, strict=True)), spread, total, when)

    def _set_traps(self) -> None:
        cfg = self.config
        two_way = [s for s in self.states.values() if not s.game.league.three_way]
        if cfg.inverted_price_trap and two_way:
            state = max(two_way, key=lambda s: (abs(s.prob("home") - 0.5), s.game.event_ticker))
            state.inverted = True
            self.traps["inverted_price"] = {
                "event_ticker": state.game.event_ticker,
                "description": "Kalshi prices each team's market at the other team's probability",
                "home_probability": f"{state.prob('home'):.4f}"}
        if cfg.postponed_game_trap and len(self.games) > 1:
            game = next(g for g in reversed(self.games) if g.code != "MLB")
            old = game.commence
            game.commence = old + timedelta(hours=26)
            game.notes.append("postponed")
            self.traps["postponed_game"] = {
                "event_ticker": game.event_ticker, "original_start": rfc3339(old),
                "new_start": rfc3339(game.commence),
                "description": "sportsbooks and the milestone moved the start; the Kalshi ticker and "
                               "rules_primary keep the originally scheduled date"}
        if cfg.unknown_alias_trap and self.games:
            game = self.games[len(self.games) // 2]
            team = game.home
            alias = next(name for name in (f"{team.nickname} of {team.city}", f"{team.city} {team.nickname} Club",
                                           f"{team.full_name} XI", f"Sim {team.full_name} {team.id}")
                         if game.league.lookup(name) is None)
            game.book_names[team.id] = alias
            self.traps["unknown_alias"] = {"event_ticker": game.event_ticker, "team_id": team.id,
                                           "sportsbook_name": alias,
                                           "description": "sportsbooks name the home team with an alias the "
                                                          "catalogue does not know"}

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        with self.lock:
            self.clock.advance(seconds)
            self.sync()
            return self.clock.now()

    def sync(self) -> None:
        """Bring the world up to the clock: replay ticks, run the lifecycle, requote if anything moved."""
        with self.lock:
            now = self.clock.now()
            target = int((now - self.start).total_seconds() // self.config.tick_s)
            moved = False
            while self._tick < target:
                self._tick += 1
                self._step(self.start + timedelta(seconds=self._tick * self.config.tick_s))
                moved = True
            moved |= self._lifecycle(now)
            moved |= self._expire_windows(now)
            self.exchange.expire_orders(now)
            if moved:
                self._requote_all()

    def _step(self, t: datetime) -> None:
        cfg, rng = self.config, self.rng
        dt_hours = cfg.tick_s / 3600
        for state in self.states.values():
            if state.phase not in ("scheduled", "live"):
                continue
            vol = (cfg.inplay_vol_per_hour if state.phase == "live" else cfg.pregame_vol_per_hour) * math.sqrt(dt_hours)
            for i in range(len(state.logits) - 1):
                state.logits[i] += rng.gauss(0, vol)
            for outcome in state.kalshi_noise:
                state.kalshi_noise[outcome] = 0.95 * state.kalshi_noise[outcome] + rng.gauss(0, 0.01)
            for bookmaker in BOOKMAKERS:
                if rng.random() >= cfg.odds_update_probability:
                    continue
                if self.faults is not None and self.faults.book_frozen(bookmaker, sim_sport_key(state.game.league)):
                    continue
                state.book_noise[bookmaker] = [0.9 * n + rng.gauss(0, 0.007) for n in state.book_noise[bookmaker]]
                state.quotes[bookmaker] = self._book_quote(state, bookmaker, t)
        self._lifecycle(t)
        self._expire_windows(t)
        if rng.random() < cfg.arb_rate_per_hour * dt_hours:
            self._inject("arbitrage", None, Decimal(rng.randint(10, 40)) / 1000, None, None, None, at=t)
        if rng.random() < cfg.value_rate_per_hour * dt_hours:
            self._inject("value", None, Decimal(rng.randint(15, 25)) / 1000, None, None, None, at=t)

    def _lifecycle(self, t: datetime) -> bool:
        changed = False
        for state in self.states.values():
            game = state.game
            if state.phase == "scheduled" and t >= game.commence:
                state.phase = "live"
                changed = True
            if state.phase == "live" and t >= game.ends:
                self._close(state)
                changed = True
            if state.phase == "closed" and t >= game.ends + timedelta(seconds=self.config.determination_delay_s):
                state.phase = "determined"
                state.determined_at = game.ends + timedelta(seconds=self.config.determination_delay_s)
                state.updated = state.determined_at
                changed = True
            if state.phase == "determined" and state.determined_at is not None and \
                    t >= state.determined_at + timedelta(seconds=self.config.settlement_timer_seconds):
                state.phase = "finalized"
                state.finalized_at = state.determined_at + timedelta(seconds=self.config.settlement_timer_seconds)
                state.updated = state.finalized_at
                for outcome in game.outcomes:
                    self.exchange.settle_market(game.market_ticker(outcome), self.market_result(state, outcome))
                for market in state.line_markets:
                    self.exchange.settle_market(market.ticker, self.line_result(state, market))
                changed = True
        return changed

    def _close(self, state: GameState) -> None:
        game = state.game
        draw = random.Random(f"{self.config.seed}:result:{game.event_ticker}").random()
        cumulative = 0.0
        state.result = game.outcomes[-1]
        for outcome, p in zip(game.outcomes, state.probs(), strict=True):
            cumulative += p
            if draw < cumulative:
                state.result = outcome
                break
        state.phase = "closed"
        state.closed_at = state.updated = game.ends
        if state.line_markets:
            score_rng = random.Random(f"{self.config.seed}:score:{game.event_ticker}")
            state.final = lines.final_score(score_rng, state.line_model(), state.result, game.league.three_way)
        for outcome in game.outcomes:
            self.exchange.close_market(game.market_ticker(outcome))
        for market in state.line_markets:
            self.exchange.close_market(market.ticker)
        for window in [w for w in self.windows.values() if w.event_ticker == game.event_ticker]:
            self.expired.append(self.windows.pop(window.id))

    @staticmethod
    def market_result(state: GameState, outcome: str) -> str:
        if state.result is None:
            return ""
        return "yes" if state.result == outcome else "no"

    @staticmethod
    def line_result(state: GameState, market: LineMarket) -> str:
        if state.final is None:
            return ""
        return "yes" if lines.settles_yes(market, *state.final) else "no"

    # ------------------------------------------------------------------ Kalshi quotes

    def kalshi_fair(self, state: GameState, outcome: str) -> float:
        """Kalshi's own estimate for a market: the truth plus its own drift (inverted by the trap)."""
        priced = outcome
        if state.inverted:
            priced = {"home": "away", "away": "home"}.get(outcome, outcome)
        p = min(0.985, max(0.015, state.prob(priced)))
        return 1 / (1 + math.exp(-(math.log(p / (1 - p)) + state.kalshi_noise[outcome])))

    def _requote_all(self) -> None:
        self._requote_games(self.market_index)
        for ticker in self.line_index:
            self._requote_line(ticker)

    def _requote_line(self, ticker: str) -> None:
        """A spread/total market quoted around the truth model (its own market maker's ladder)."""
        state, market = self.line_index[ticker]
        if not self.exchange.books[ticker].open:
            return
        rng = random.Random(f"{self.config.seed}:{self._tick}:{ticker}")
        p = min(0.985, max(0.015, lines.fair(market, state.line_model())))
        bids, asks = kalshi_ladder(p, rng)
        window = next((w for w in self.windows.values() if w.market_ticker == ticker), None)
        if window is not None:
            ask = self._line_window_ask(window, state, market)
            if ask is None:
                self.expired.append(self.windows.pop(window.id))
            else:  # the window's ask first, the market maker's ladder above it, its bids below
                remaining = window.size - self.exchange.mm_fills.get(window.id, Decimal(0))
                bids = [(b, s) for b, s in bids if b < ask]
                if not bids and ask - CENT >= CENT:  # a two-sided market, as the winner windows keep it
                    bids = [(ask - CENT, Decimal(100))]
                asks = [(a, s) for a, s in asks if a > ask]
                self.exchange.requote(ticker, [(b, s, "") for b, s in bids],
                                      [(ask, remaining, window.id)] + [(a, s, "") for a, s in asks])
                return
        self.exchange.requote(ticker, [(b, s, "") for b, s in bids], [(a, s, "") for a, s in asks])

    def book_line_point(self, state: GameState, market: LineMarket) -> Decimal | None:
        """The point (as the books quote the complement side) when `market` is at the books' line,
        else None: a total at the books' total; "home by more than s" when the books' home point is −s;
        "away by more than s" when it is +s (the spread is quoted in the Kalshi home team's terms)."""
        if market.kind == "total":
            return state.total_point if market.strike == state.total_point else None
        if market.subject == "home":
            return -state.spread_point if market.strike == -state.spread_point else None
        return state.spread_point if market.strike == state.spread_point else None

    def line_book_leg(self, state: GameState, market: LineMarket) -> BookLeg | None:
        """The best sportsbook back of the other side of `market`'s line, at the same point."""
        if self.book_line_point(state, market) is None:
            return None
        if market.kind == "total":
            quotes = {b: (q.total[1], q.total[2]) for b, q in state.quotes.items()}
        else:
            quotes = {b: (q.spread[1], q.spread[2]) for b, q in state.quotes.items()}  # (Kalshi home, away)
        return line_book_legs(quotes, line_complement_side(market.kind, market.subject))

    def _line_window_ask(self, window: Window, state: GameState, market: LineMarket) -> Decimal | None:
        remaining = window.size - self.exchange.mm_fills.get(window.id, Decimal(0))
        leg = self.line_book_leg(state, market) if remaining > 0 else None
        if leg is None:
            return None
        ask = arbitrage_ask(leg.implied, window.edge, remaining)
        if ask is not None:
            window.details = describe_line(ask, remaining, leg, market.kind, market.strike,
                                           self.book_line_point(state, market))  # type: ignore[arg-type]
        return ask

    def _requote_games(self, tickers: Iterable[str]) -> None:
        """Requote game-winner markets so that a client applying the changes one by one (the websocket
        hub publishes books in the order they changed) never sees a Kalshi-only arbitrage in between.

        Every quote is computed first - the windows' markets before the others, so a sibling's lifted ask
        follows its window's new price - then the markets whose best YES ask rises are published before
        those whose ask falls: from a state where the YES asks of a game sum to at least 1 to another such
        state, every state in between then sums to at least 1 as well.
        """
        windowed = {w.market_ticker for w in self.windows.values() if w.line is None}
        quotes = {t: q for t in sorted(tickers, key=lambda t: t not in windowed)
                  if (q := self._quotes(t)) is not None}

        def direction(ticker: str) -> int:  # -1 the best ask rises (or goes), 1 it falls (or appears), 0 same
            shown = min((o.price for o in self.exchange.books[ticker].asks), default=ONE + 1)
            new = min((p for p, size, _ in quotes[ticker][1] if size > 0), default=ONE + 1)
            return (new < shown) - (new > shown)

        for ticker in sorted(quotes, key=direction):
            self.exchange.requote(ticker, *quotes[ticker])

    def _quotes(self, ticker: str) -> tuple[list[tuple[Decimal, Decimal, str]],
                                            list[tuple[Decimal, Decimal, str]]] | None:
        """The market maker's next (bids, asks) for a game-winner market; None when its book is closed. A
        window that can no longer be carried is expired here."""
        state, outcome = self.market_index[ticker]
        if not self.exchange.books[ticker].open:
            return None
        rng = random.Random(f"{self.config.seed}:{self._tick}:{ticker}")
        bids, asks = kalshi_ladder(self.kalshi_fair(state, outcome), rng)
        floor = self._sibling_ask_floor(state, outcome)
        if floor is not None and asks and asks[0][0] < floor:
            shift = floor - asks[0][0]
            asks = [(p + shift, size) for p, size in asks if p + shift <= Decimal("0.99")]
        window = next((w for w in self.windows.values() if w.market_ticker == ticker), None)
        if window is not None:
            ask = self._window_ask(window, state)
            if ask is None:
                self.expired.append(self.windows.pop(window.id))
            else:
                remaining = window.size - self.exchange.mm_fills.get(window.id, Decimal(0))
                bids = [(p, s) for p, s in bids if p < ask]
                if not bids and ask - CENT >= CENT:
                    bids = [(ask - CENT, Decimal(100))]
                asks = [(p, s) for p, s in asks if p > ask]
                return [(p, s, "") for p, s in bids], [(ask, remaining, window.id)] + [(p, s, "") for p, s in asks]
        return [(p, s, "") for p, s in bids], [(p, s, "") for p, s in asks]

    def _sibling_ask_floor(self, state: GameState, outcome: str) -> Decimal | None:
        """Lowest YES ask for a market whose sibling (same event) carries a window.

        A window makes one team's YES cheap; the other markets' asks are lifted (bids untouched) so the
        window is an arbitrage against the sportsbooks only, never a Kalshi-only one (YES asks summing
        below 1), and its size stays what was injected.
        """
        window = next((w for w in self.windows.values() if w.line is None
                       and w.event_ticker == state.game.event_ticker and w.outcome != outcome), None)
        if window is None or "kalshi_yes_ask" not in window.details:
            return None
        siblings = len(state.game.outcomes) - 1
        share = (ONE - Decimal(str(window.details["kalshi_yes_ask"])) + Decimal("0.02")) / siblings
        return share.quantize(CENT, rounding="ROUND_CEILING")

    def book_prices(self, state: GameState) -> dict[str, dict[str, int | Decimal]]:
        return {b: dict(q.h2h) for b, q in state.quotes.items()}

    def _window_ask(self, window: Window, state: GameState) -> Decimal | None:
        remaining = window.size - self.exchange.mm_fills.get(window.id, Decimal(0))
        if remaining <= 0:
            return None
        quotes = self.book_prices(state)
        legs = best_legs(quotes, state.game.outcomes)
        fair = fair_probabilities(quotes, state.game.outcomes)
        complement = sum((leg.implied for o, leg in legs.items() if o != window.outcome), Decimal(0))
        if window.kind == "arbitrage":
            ask = arbitrage_ask(complement, window.edge, remaining)
        else:
            ask = value_ask(fair[window.outcome], complement, window.edge, remaining)
        if ask is not None:
            window.details = describe(ask, remaining, legs, fair, window.outcome)
        return ask

    # ------------------------------------------------------------------ injections

    def inject_arbitrage(self, event_ticker: str | None = None, edge: Decimal | str = Decimal("0.02"),
                         outcome: str | None = None, size: Decimal | None = None,
                         lifetime_s: float | None = None) -> dict[str, object]:
        """Open an arbitrage window now and return what was injected (raises ValueError if impossible)."""
        with self.lock:
            self.sync()
            return self._inject("arbitrage", event_ticker, Decimal(edge), outcome, size, lifetime_s, strict=True)

    def inject_value(self, event_ticker: str | None = None, edge: Decimal | str = Decimal("0.02"),
                     outcome: str | None = None, size: Decimal | None = None,
                     lifetime_s: float | None = None) -> dict[str, object]:
        """Open a +EV (value, not arbitrage) window now and return what was injected.

        `edge` is in probability points after the fee (fair - ask - fee/contract); the no-arbitrage
        condition caps it near the smallest bookmaker margin on the other outcomes (about 0.02-0.025).
        """
        with self.lock:
            self.sync()
            return self._inject("value", event_ticker, Decimal(edge), outcome, size, lifetime_s, strict=True)

    def inject_line_arbitrage(self, line: str = "total", event_ticker: str | None = None,
                              edge: Decimal | str = Decimal("0.02"), size: Decimal | None = None,
                              lifetime_s: float | None = None) -> dict[str, object]:
        """Open an arbitrage on a Kalshi `line` ("spread" or "total") market at the books' own line:
        its YES ask drops until YES + fee + the best back of the other side at the same point costs
        less than $1 − `edge` (extended slate only; ValueError when no game can carry it)."""
        if line not in ("spread", "total"):
            raise ValueError(f"line must be 'spread' or 'total', got {line!r}")
        with self.lock:
            self.sync()
            now = self.clock.now()
            lifetime = timedelta(seconds=lifetime_s if lifetime_s is not None else self.config.window_lifetime_s)
            busy = {w.market_ticker for w in self.windows.values()}
            if event_ticker is not None and event_ticker not in self.states:
                raise ValueError(f"unknown event {event_ticker}")
            states = [self.states[event_ticker]] if event_ticker else sorted(
                self.states.values(), key=lambda s: s.game.event_ticker)
            for state in states:
                if state.phase != "scheduled" or state.game.commence - now < lifetime + PREGAME_BUFFER:
                    continue
                for market in state.line_markets:
                    if market.kind != line or market.ticker in busy or self.line_book_leg(state, market) is None:
                        continue
                    side = "over" if line == "total" else market.subject
                    window = Window(self.exchange.new_id(), "arbitrage", state.game.event_ticker, side,  # type: ignore[arg-type]
                                    market.ticker, Decimal(edge), size or self.config.window_size, now,
                                    now + lifetime, line=line)
                    if self._line_window_ask(window, state, market) is None:
                        continue
                    self.windows[window.id] = window
                    self._requote_line(market.ticker)
                    return self.window_json(window)
            raise ValueError(f"no game can carry a {line} arbitrage with edge {edge} right now")

    def _inject(self, kind: str, event_ticker: str | None, edge: Decimal, outcome: str | None,
                size: Decimal | None, lifetime_s: float | None, strict: bool = False,
                at: datetime | None = None) -> dict[str, object]:
        now = at or self.clock.now()
        lifetime = timedelta(seconds=lifetime_s if lifetime_s is not None else self.config.window_lifetime_s)
        busy = {w.market_ticker for w in self.windows.values()}
        # one game-winner window per game: two cheap YES asks in one game may be a Kalshi-only arbitrage,
        # which a window is documented never to make (see `_sibling_ask_floor`). Only an injection that
        # names its outcome may add a second one (tests compose multi-leg arbitrages that way)
        busy_games = {w.event_ticker for w in self.windows.values() if w.line is None} if outcome is None else set()
        if event_ticker is not None:
            if event_ticker not in self.states:
                raise ValueError(f"unknown event {event_ticker}")
            states = [self.states[event_ticker]]
        else:
            states = sorted(self.states.values(), key=lambda s: s.game.event_ticker)
            self.rng.shuffle(states)
        for state in states:
            if state.phase != "scheduled" or state.game.commence - now < lifetime + PREGAME_BUFFER \
                    or state.game.event_ticker in busy_games:
                continue
            candidates = [outcome] if outcome else sorted(
                (o for o in state.game.outcomes if o != "draw"), key=state.prob)
            for o in candidates:
                ticker = state.game.market_ticker(o)
                if ticker in busy:
                    continue
                window = Window(self.exchange.new_id(), kind, state.game.event_ticker, o, ticker, edge,
                                size or self.config.window_size, now, now + lifetime)
                if self._window_ask(window, state) is None:
                    continue
                self.windows[window.id] = window
                # the siblings' asks are lifted before the window's cheap ask is shown (`_requote_games`)
                self._requote_games([state.game.market_ticker(o) for o in state.game.outcomes])
                return self.window_json(window)
        if strict:
            raise ValueError(f"no game can carry a {kind} window with edge {edge} right now")
        return {}

    def _expire_windows(self, t: datetime) -> bool:
        gone = [w for w in self.windows.values() if t >= w.expires]
        for window in gone:
            self.expired.append(self.windows.pop(window.id))
        return bool(gone)

    def window_json(self, window: Window) -> dict[str, object]:
        state = self.states[window.event_ticker]
        team = state.game.team(window.outcome)
        if window.line is not None:
            _, market = self.line_index[window.market_ticker]
            team = state.game.team(market.subject) if market.subject else None
            return {"id": window.id, "kind": window.kind, "event_ticker": market.event_ticker,
                    "game_event_ticker": window.event_ticker, "market_ticker": window.market_ticker,
                    "outcome": window.outcome, "team_id": team.id if team else None,
                    "sport_key": sim_sport_key(state.game.league), "odds_event_id": state.game.odds_id,
                    "edge": str(window.edge), "size": str(window.size), "created_at": rfc3339(window.created),
                    "expires_at": rfc3339(window.expires), **window.details}
        return {"id": window.id, "kind": window.kind, "event_ticker": window.event_ticker,
                "market_ticker": window.market_ticker, "outcome": window.outcome,
                "team_id": team.id if team else None, "sport_key": sim_sport_key(state.game.league),
                "odds_event_id": state.game.odds_id, "edge": str(window.edge), "size": str(window.size),
                "created_at": rfc3339(window.created), "expires_at": rfc3339(window.expires), **window.details}

    def active_windows(self) -> list[dict[str, object]]:
        with self.lock:
            return [self.window_json(w) for w in self.windows.values()]
