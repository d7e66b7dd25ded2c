"""Record the venues' own responses into a snapshot directory (and build the bundled sample).

A snapshot is what a scan would have fetched at one moment, byte for byte as the venues sent it
(only `kalshi_events.json` is assembled: every page of GET /events merged into one response object
whose `cursor` is ""). It lets the pipeline run, be tested and be demoed with no venue at all.

    python -m arb_pipeline.sim.record --out arb_pipeline/data/sample_snapshot --seed 11
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx

from arb_pipeline.connectors.kalshi.targets import MAX_IDS_PER_CALL, target_ids_in_events_payload
from arb_pipeline.sim.clock import SimClock, parse_rfc3339, rfc3339
from arb_pipeline.sim.scenario import ScenarioConfig, ScenarioEngine
from arb_pipeline.sim.server import SimConfig, SimHandle, launch

SAMPLE_CAPTURED_AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
SAMPLE_SEED = 11
DEFAULT_ODDS_FORMATS = {"americanfootball_nfl": "american", "basketball_nba": "decimal",
                        "icehockey_nhl": "american", "baseball_mlb": "american", "soccer_epl": "decimal"}
DEFAULT_MARKETS = {"americanfootball_nfl": "h2h,spreads,totals", "basketball_nba": "h2h,spreads,totals"}
REGIONS = "us,eu"


def _get(client: httpx.Client, path: str, params: object = None) -> httpx.Response:
    response = client.get(path, params=params)  # type: ignore[arg-type]
    response.raise_for_status()
    return response


def _fetch_events(client: httpx.Client) -> dict[str, object]:
    events: list[object] = []
    milestones: dict[str, object] = {}
    cursor = ""
    while True:
        params = {"with_nested_markets": "true", "with_milestones": "true", "limit": "200"}
        if cursor:
            params["cursor"] = cursor
        page = _get(client, "/trade-api/v2/events", params).json()
        events += page["events"]
        for milestone in page.get("milestones", []):
            milestones.setdefault(milestone["id"], milestone)
        cursor = page["cursor"]
        if not cursor:
            return {"events": events, "milestones": list(milestones.values()), "cursor": ""}


def record_snapshot(source: SimHandle | ScenarioEngine, out_dir: Path | str, *,
                    odds_formats: Mapping[str, str] | None = None, regions: str = REGIONS,
                    markets: Mapping[str, str] | None = None, seed: int | None = None) -> Path:
    """Write one snapshot of `source` (a running simulator, or an engine served just for this) to out_dir.

    `markets` maps a sport key (or "*" for every other sport) to the Odds API `markets` to record.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(source, ScenarioEngine):
        handle = launch(SimConfig(engine=source, kalshi_tier=None, odds_calls_per_second=None))
        try:
            return record_snapshot(handle, out, odds_formats=odds_formats, regions=regions, markets=markets, seed=seed)
        finally:
            handle.stop()
    engine = source.scenario
    formats = dict(odds_formats or DEFAULT_ODDS_FORMATS)
    market_keys = {**DEFAULT_MARKETS, **(markets or {})}
    with httpx.Client(base_url=source.url, timeout=30) as client:
        events = _fetch_events(client)
        (out / "kalshi_events.json").write_text(json.dumps(events, indent=1) + "\n")
        tickers = [m["ticker"] for e in events["events"] for m in e["markets"]]  # type: ignore[index, union-attr]
        if len(tickers) <= 100:  # one call: the file is the venue's body byte for byte
            books = _get(client, "/trade-api/v2/markets/orderbooks", [("tickers", t) for t in tickers])
            (out / "kalshi_orderbooks.json").write_bytes(books.content)
        else:  # calls of 100 merged into one response object, as a live capture does
            merged = [book for start in range(0, len(tickers), 100) for book in _get(
                client, "/trade-api/v2/markets/orderbooks",
                [("tickers", t) for t in tickers[start:start + 100]]).json()["orderbooks"]]
            (out / "kalshi_orderbooks.json").write_text(json.dumps({"orderbooks": merged}, indent=1) + "\n")
        ids = target_ids_in_events_payload(events)
        targets = [target for start in range(0, len(ids), MAX_IDS_PER_CALL) for target in _get(
            client, "/trade-api/v2/structured_targets",
            [("page_size", "2000"), *(("ids", i) for i in ids[start:start + MAX_IDS_PER_CALL])]).json()[
                "structured_targets"]]
        (out / "kalshi_structured_targets.json").write_text(
            json.dumps({"structured_targets": targets, "cursor": ""}, indent=1) + "\n")
        (out / "kalshi_series.json").write_bytes(_get(client, "/trade-api/v2/series").content)
        (out / "kalshi_exchange_status.json").write_bytes(_get(client, "/trade-api/v2/exchange/status").content)
        sports = [s["key"] for s in _get(client, "/v4/sports", {"apiKey": source.odds_api_key}).json()]
        for sport in sports:
            formats.setdefault(sport, "decimal")
            params = {"apiKey": source.odds_api_key, "regions": regions,
                      "markets": market_keys.get(sport, market_keys.get("*", "h2h")), "oddsFormat": formats[sport]}
            (out / f"odds_{sport}.json").write_bytes(_get(client, f"/v4/sports/{sport}/odds", params).content)
        captured = parse_rfc3339(_get(client, "/_sim/state").json()["now"])
    meta = {"captured_at": rfc3339(captured), "source": "simulator",
            "seed": engine.config.seed if seed is None else seed,
            "odds_format": {s: formats[s] for s in sports}, "regions": regions,
            "markets": {s: market_keys.get(s, market_keys.get("*", "h2h")) for s in sports},
            "injected": engine.active_windows(), "traps": engine.traps}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out


def sample_engine(seed: int = SAMPLE_SEED, captured_at: datetime = SAMPLE_CAPTURED_AT,
                  games_per_league: int = 3) -> ScenarioEngine:
    """The bundled sample's world: a fixed clock, one clear arbitrage and one +EV value window."""
    config = ScenarioConfig(seed=seed, start=captured_at, games_per_league=games_per_league,
                            arb_rate_per_hour=0, value_rate_per_hour=0, window_lifetime_s=3600)
    engine = ScenarioEngine(config, clock=SimClock.fixed(captured_at))
    _inject_first(engine, "arbitrage", "0.02", ("NBA", "NFL", "NHL"))
    _inject_first(engine, "value", "0.025", ("NHL", "NFL", "NBA", "MLB", "EPL"))
    return engine


def _inject_first(engine: ScenarioEngine, kind: str, edge: str, leagues: tuple[str, ...]) -> None:
    """Put the window on the first game of the preferred leagues that can carry it (a plain game,
    not the doubleheader), so the sample's opportunities do not hinge on a harder resolution case."""
    inject = engine.inject_arbitrage if kind == "arbitrage" else engine.inject_value
    for code in leagues:
        for game in (g for g in engine.games if g.code == code):
            try:
                inject(event_ticker=game.event_ticker, edge=edge)
                return
            except ValueError:
                continue
    raise ValueError(f"no game of {leagues} can carry a {kind} window")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Record a simulator snapshot (the bundled sample by default).")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--captured-at", default=rfc3339(SAMPLE_CAPTURED_AT), help="RFC 3339 capture time")
    parser.add_argument("--games-per-league", type=int, default=3)
    args = parser.parse_args(argv)
    engine = sample_engine(args.seed, parse_rfc3339(args.captured_at), args.games_per_league)
    path = record_snapshot(engine, args.out, seed=args.seed)
    print(f"snapshot written to {path}")


if __name__ == "__main__":
    main()
