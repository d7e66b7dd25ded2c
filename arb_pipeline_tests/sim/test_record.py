"""Snapshot recording and the bundled sample snapshot."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

from arb_pipeline.sim.money import taker_fee
from arb_pipeline.sim.pricing import decimal_from_american
from arb_pipeline.sim.record import SAMPLE_SEED, main, record_snapshot, sample_engine

SAMPLE = Path(__file__).resolve().parents[2] / "arb_pipeline" / "data" / "sample_snapshot"
FILES = {"kalshi_events.json", "kalshi_orderbooks.json", "kalshi_series.json", "kalshi_exchange_status.json",
         "meta.json", "odds_americanfootball_nfl.json", "odds_basketball_nba.json", "odds_icehockey_nhl.json",
         "odds_baseball_mlb.json", "odds_soccer_epl.json", "kalshi_structured_targets.json"}


def load(name: str, root: Path = SAMPLE) -> object:
    return json.loads((root / name).read_text())


def test_recording_is_deterministic_and_complete(tmp_path):
    one = record_snapshot(sample_engine(), tmp_path / "one")
    main(["--out", str(tmp_path / "two"), "--seed", str(SAMPLE_SEED)])
    two = tmp_path / "two"
    assert {p.name for p in one.iterdir()} == FILES
    for name in FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_committed_sample_is_current(tmp_path):
    """The bundled sample is exactly what `python -m arb_pipeline.sim.record --out DIR` produces.

    If this fails after a catalogue or simulator change, regenerate:
    python -m arb_pipeline.sim.record --out arb_pipeline/data/sample_snapshot
    """
    fresh = record_snapshot(sample_engine(), tmp_path / "fresh")
    assert {p.name for p in SAMPLE.iterdir()} == FILES
    stale = [n for n in sorted(FILES) if (fresh / n).read_bytes() != (SAMPLE / n).read_bytes()]
    assert not stale, f"sample snapshot is stale in {stale}; regenerate it (see docstring)"


def test_sample_shapes_and_meta():
    meta = load("meta.json")
    assert meta["captured_at"] == "2026-11-24T17:00:00Z" and meta["source"] == "simulator"
    assert meta["seed"] == SAMPLE_SEED
    assert set(meta["odds_format"].values()) == {"american", "decimal"}
    events = load("kalshi_events.json")
    assert events["cursor"] == "" and len(events["events"]) == 15 and len(events["milestones"]) == 15
    books = load("kalshi_orderbooks.json")["orderbooks"]
    assert len(books) == sum(len(e["markets"]) for e in events["events"])
    assert all(set(b["orderbook_fp"]) == {"yes_dollars", "no_dollars"} for b in books)
    assert len(load("kalshi_series.json")["series"]) == 5
    assert load("kalshi_exchange_status.json")["trading_active"] is True
    # every structured target the events name (custom_strike, milestone home/away) is recorded, once
    targets = load("kalshi_structured_targets.json")
    named = {v for e in events["events"] for m in e["markets"] for v in (m.get("custom_strike") or {}).values()}
    named |= {m["details"][k] for m in events["milestones"] for k in ("home_team_id", "away_team_id")}
    assert targets["cursor"] == "" and sorted(t["id"] for t in targets["structured_targets"]) == sorted(named)
    for sport, fmt in meta["odds_format"].items():
        odds = load(f"odds_{sport}.json")
        prices = [o["price"] for e in odds for b in e["bookmakers"] for m in b["markets"] for o in m["outcomes"]]
        assert prices and all(isinstance(p, int) if fmt == "american" else isinstance(p, float) for p in prices)


def test_sample_has_the_special_cases():
    events = load("kalshi_events.json")
    eastern = ZoneInfo("America/New_York")
    from datetime import datetime

    starts = {m["primary_event_tickers"][0]: datetime.fromisoformat(m["start_date"].replace("Z", "+00:00"))
              for m in events["milestones"]}
    assert any(s.date() != s.astimezone(eastern).date() for s in starts.values()), "a game crossing UTC midnight"
    mlb = [t for t in starts if t.startswith("KXMLBGAME")]
    teams = defaultdict(list)
    for ticker in mlb:
        teams[ticker.split("-")[1][11:]].append(ticker)
    assert any(len(v) == 2 for v in teams.values()), "an MLB doubleheader"


def _implied(price: object) -> D:
    return 1 / (decimal_from_american(price) if isinstance(price, int) else D(str(price)))


def _opportunities() -> tuple[list[tuple[str, D]], list[tuple[str, D, D]]]:
    """Recompute from the files alone: arbitrage sums and (EV, no-arb sum) per Kalshi market."""
    events = load("kalshi_events.json")
    books = {b["ticker"]: b["orderbook_fp"] for b in load("kalshi_orderbooks.json")["orderbooks"]}
    milestones = {m["primary_event_tickers"][0]: m for m in events["milestones"]}
    meta = load("meta.json")
    odds = [e for sport in meta["odds_format"] for e in load(f"odds_{sport}.json")]
    arbs, values = [], []
    for event in events["events"]:
        milestone = milestones[event["event_ticker"]]
        away_name, home_name = milestone["title"].split(" at ")  # milestone titles use full names
        game = next(e for e in odds if e["commence_time"] == milestone["start_date"]
                    and (e["home_team"], e["away_team"]) == (home_name, away_name))
        names = {"home": game["home_team"], "away": game["away_team"], "draw": "Draw"}
        per_book = defaultdict(dict)
        for b in game["bookmakers"]:
            for o in next(m for m in b["markets"] if m["key"] == "h2h")["outcomes"]:
                per_book[b["key"]][o["name"]] = _implied(o["price"])
        fair = defaultdict(D)
        for prices in per_book.values():
            total = sum(prices.values())
            for name, p in prices.items():
                fair[name] += p / total / len(per_book)
        sides = {milestone["details"]["home_team_id"]: "home", milestone["details"]["away_team_id"]: "away"}
        for market in event["markets"]:
            strike = market.get("custom_strike")
            outcome = sides[next(iter(strike.values()))] if strike else "draw"
            book = books[market["ticker"]]
            if not book["no_dollars"]:
                continue
            price, size = max(book["no_dollars"], key=lambda lvl: D(lvl[0]))
            ask = 1 - D(price)
            cost = ask + taker_fee(D(size), ask) / D(size)
            others = [names[o] for o in names if o != outcome and names[o] in per_book["pinnacle"]]
            complement = sum(min(p[n] for p in per_book.values()) for n in others)
            arbs.append((market["ticker"], cost + complement))
            values.append((market["ticker"], fair[names[outcome]] / cost - 1, cost + complement))
    return arbs, values


def test_sample_contains_a_clear_arbitrage_and_a_value_bet():
    arbs, values = _opportunities()
    meta = load("meta.json")
    injected = {w["kind"]: w["market_ticker"] for w in meta["injected"]}
    arb_sum = dict(arbs)[injected["arbitrage"]]
    assert arb_sum <= D("0.98"), f"arbitrage total cost {arb_sum}"
    assert sum(1 for _, total in arbs if total < 1) >= 1
    ev, no_arb = next((ev, total) for t, ev, total in values if t == injected["value"])
    assert ev >= D("0.05") and no_arb >= 1  # +EV by more than 5% of the stake, yet no arbitrage
