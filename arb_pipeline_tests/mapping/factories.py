"""Small factories for mapping tests: domain records in the shapes the connectors produce.

Kalshi markets follow the observed live shape (kalshi-api.md §5.2, §8): `yes_sub_title` equal to
`no_sub_title` (the team YES backs), `rules_primary` "If <Team> wins the <A> vs <B> ... game originally
scheduled for <Mon D, YYYY>, then the market resolves to Yes.", prices as Decimal dollars.
Sportsbook quotes follow The Odds API h2h outcomes, one quote per (bookmaker, outcome).

Kalshi's identifiers: every catalogue team has a structured target (`TARGETS`, id `tid(team_id)`,
name = the team's full name, type = its league's target type); team markets made by `game_event`
carry their team's target in `custom_strike`, and `milestone(home=..., away=...)` names the teams
by catalogue id in `details.home_team_id` / `away_team_id`, as Kalshi does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from arb_pipeline.domain import (
    KalshiEvent,
    KalshiMarket,
    Milestone,
    Outcome,
    PriceRange,
    SportsbookQuote,
    StructuredTarget,
)
from arb_pipeline.mapping.catalogue import load_catalogue

FETCHED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SPORT_KEYS = {"NBA": "basketball_nba", "NFL": "americanfootball_nfl", "NHL": "icehockey_nhl",
              "MLB": "baseball_mlb", "EPL": "soccer_epl"}
SERIES = {"NBA": "KXNBAGAME", "NFL": "KXNFLGAME", "NHL": "KXNHLGAME", "MLB": "KXMLBGAME", "EPL": "KXEPLGAME"}
_NS = uuid.UUID("0d9c1e1a-5d8b-4c1e-9b7f-2a4f3c6e8d10")
CATALOGUE = load_catalogue()


def tid(team_id: str) -> str:
    """The structured-target id of a catalogue team (a stable UUID, like Kalshi's)."""
    return str(uuid.uuid5(_NS, team_id))


def target(team_id: str, *, name: str | None = None, kind: str | None = None, **extra: object) -> StructuredTarget:
    team = CATALOGUE.team(team_id)
    league = CATALOGUE.league(team.league)
    return StructuredTarget(id=tid(team_id), name=name or team.full_name, type=kind or league.target_type, **extra)


TARGETS: dict[str, StructuredTarget] = {
    t.id: t for lg in CATALOGUE.leagues.values() for team in lg.teams for t in (target(team.id),)}


def strike_key(league: str) -> str:
    return CATALOGUE.league(league).target_type


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rules_text(winner: str, a: str, b: str, on: date) -> str:
    return (f"If {winner} wins the {a} vs {b} game originally scheduled for {on.strftime('%b')} {on.day}, "
            f"{on.year}, then the market resolves to Yes.")


def market(event_ticker: str, code: str, label: str, *, rules: str | None = None, status: str = "active",
           yes_bid: str | None = "0.54", yes_ask: str | None = "0.56", on: date | None = None,
           opponents: tuple[str, str] = ("A", "B"), strike: Mapping[str, str] | None = None,
           extra: Mapping[str, object] | None = None, title: str = "") -> KalshiMarket:
    on = on or date(2026, 11, 3)
    if rules is None:
        rules = (f"If the {opponents[0]} vs {opponents[1]} match ends in a tie, then the market resolves to Yes."
                 if code == "TIE" else rules_text(label, opponents[0], opponents[1], on))
    return KalshiMarket(
        ticker=f"{event_ticker}-{code}", event_ticker=event_ticker, status=status, market_type="binary",
        yes_sub_title=label, no_sub_title=label, rules_primary=rules, rules_secondary="",
        open_time=None, close_time=None, expected_expiration_time=None, occurrence_datetime=None,
        yes_bid=None if yes_bid is None else Decimal(yes_bid), yes_ask=None if yes_ask is None else Decimal(yes_ask),
        no_bid=None, no_ask=None, price_level_structure="linear_cent",
        price_ranges=(PriceRange(Decimal("0"), Decimal("1"), Decimal("0.01")),), custom_strike=strike,
        extra=dict(extra or {}), title=title,
    )


def game_event(league: str, event_ticker: str, teams: Sequence[tuple[str, str]], *, on: date,
               prices: Mapping[str, tuple[str, str]] | None = None, tie: bool = False,
               status: str = "active", series: str | None = None,
               team_ids: Mapping[str, str] | None = None) -> KalshiEvent:
    """A game event with one market per (code, label) in `teams`, plus TIE when `tie`.

    Each team market's `custom_strike` is the target of the catalogue team with that Kalshi code
    (or `team_ids[code]`); a code the catalogue does not know gets no target.
    """
    prices = prices or {}
    labels = (teams[0][1], teams[1][1])
    lg = CATALOGUE.league(league)

    def strike(code: str) -> dict[str, str] | None:
        team_id = (team_ids or {}).get(code) or (t.id if (t := lg.by_code(code)) else None)
        return {strike_key(league): tid(team_id)} if team_id else None

    markets = [market(event_ticker, code, label, on=on, opponents=labels, status=status, strike=strike(code),
                      yes_bid=prices.get(code, ("0.54", "0.56"))[0], yes_ask=prices.get(code, ("0.54", "0.56"))[1])
               for code, label in teams]
    if tie:
        bid, ask = prices.get("TIE", ("0.24", "0.26"))
        markets.append(market(event_ticker, "TIE", "Tie", on=on, opponents=labels, status=status,
                              yes_bid=bid, yes_ask=ask))
    return KalshiEvent(
        event_ticker=event_ticker, series_ticker=series or lg.kalshi_series, title=f"{labels[0]} vs {labels[1]}",
        sub_title="", mutually_exclusive=True, collateral_return_type="MECNET" if tie else "", markets=tuple(markets))


def milestone(event_ticker: str, start: datetime, *, home: str | None = None, away: str | None = None,
              home_id: str | None = None, away_id: str | None = None, kind: str = "basketball_game",
              milestone_id: str | None = None, related: Sequence[str] = (),
              details: Mapping[str, object] | None = None) -> Milestone:
    """A game's milestone; `home` / `away` are catalogue team ids (their target ids go in `details`),
    `home_id` / `away_id` raw target ids. `related` adds the game's spread/total events."""
    info: dict[str, object] = dict(details or {})
    if home or home_id:
        info["home_team_id"] = home_id or tid(home)  # type: ignore[arg-type]
    if away or away_id:
        info["away_team_id"] = away_id or tid(away)  # type: ignore[arg-type]
    return Milestone(id=milestone_id or f"ms-{event_ticker}", type=kind, start_date=start, title=event_ticker,
                     related_event_tickers=(event_ticker, *related), primary_event_tickers=(event_ticker,),
                     details=info)


def h2h(event_id: str, league: str, home: str, away: str, commence: datetime,
        odds: Mapping[Outcome, str] | None = None, books: Sequence[str] = ("draftkings", "fanduel"),
        sport_key: str | None = None) -> list[SportsbookQuote]:
    """h2h quotes of one game: `odds` maps outcome → decimal odds (default a near coin flip)."""
    odds = odds or {Outcome.HOME: "1.87", Outcome.AWAY: "2.00"}
    names = {Outcome.HOME: home, Outcome.AWAY: away, Outcome.DRAW: "Draw"}
    return [
        SportsbookQuote(
            provider="the-odds-api", bookmaker=book, bookmaker_title=book.title(),
            sport_key=sport_key or SPORT_KEYS[league], league=league, event_id=event_id, home_team=home,
            away_team=away, commence_time=commence, market="h2h", outcome=outcome.value,
            outcome_name=names[outcome], decimal_odds=Decimal(price), last_update=FETCHED, fetched_at=FETCHED)
        for book in books for outcome, price in odds.items()
    ]
