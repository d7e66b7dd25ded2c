"""Capturing both venues from the simulator over real HTTP, exactly as a live scan does."""

import json
from decimal import Decimal

import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.services.ingest import capture_from_settings
from arb_pipeline.services.scan import SCAN_EXTRA_FIELDS, ScanConfig, scan
from arb_pipeline.settings import Settings
from arb_pipeline.sim.server import SimConfig, start_simulator


@pytest.fixture(scope="module")
def sim():
    with start_simulator(SimConfig(seed=5, games_per_league=3, kalshi_tier=None)) as handle:
        yield handle


@pytest.fixture
def settings(sim, tmp_path, monkeypatch):
    for name, value in {
        "ARB_DATA_DIR": str(tmp_path),
        "KALSHI_BASE_URL": sim.kalshi_base_url,
        "KALSHI_API_KEY_ID": sim.key_id,
        "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode(),
        "ODDS_API_BASE_URL": sim.odds_base_url,
        "ODDS_API_KEY": sim.odds_api_key,
    }.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_capture_keeps_the_venues_own_responses_and_parses_them_like_a_replay(settings, tmp_path):
    capture = capture_from_settings(settings, source="simulator")
    snap = capture.snapshot
    # every configured series was asked for; this slate lists the five winner series (no line events)
    assert {e.series_ticker for e in snap.events} == {"KXNFLGAME", "KXNBAGAME", "KXNHLGAME", "KXMLBGAME", "KXEPLGAME"}
    assert {e.series_ticker for e in snap.events} <= set(settings.kalshi_series.split(","))
    # fees are fetched for the series that listed events, not for every configured one
    fetched = {item["ticker"] for item in json.loads(capture.payloads["kalshi_series.json"])["series"]}
    assert fetched == {e.series_ticker for e in snap.events} == set(snap.series_fees)
    assert set(snap.orderbooks) == {m.ticker for m in snap.markets}
    assert snap.quotes and not capture.sports_failed
    assert capture.quota_remaining is not None
    # the stored texts are the replay: writing them out and loading them gives the same snapshot
    for name, text in capture.payloads.items():
        (tmp_path / name).write_text(text)
        json.loads(text)
    replayed = load_snapshot(tmp_path, keep_extra=SCAN_EXTRA_FIELDS)
    assert replayed.events == snap.events
    # the capture's records keep only the unmapped fields a scan reads; the stored texts keep them all
    full = load_snapshot(tmp_path)
    assert [m.extra for m in snap.markets] == [{k: v for k, v in m.extra.items() if k in SCAN_EXTRA_FIELDS}
                                               for m in full.markets]
    assert any(set(m.extra) - SCAN_EXTRA_FIELDS for m in full.markets)
    # the teams the events name by structured target were fetched with them and replay identically
    named = {v for m in snap.markets for v in (m.custom_strike or {}).values()}
    named |= {m.details[k] for m in snap.milestones for k in ("home_team_id", "away_team_id")}
    assert set(snap.structured_targets) == named and replayed.structured_targets == snap.structured_targets
    assert replayed.orderbooks == snap.orderbooks
    assert replayed.quotes == snap.quotes
    assert all(isinstance(q.decimal_odds, Decimal) for q in snap.quotes)
    # captured when the last response arrived: nothing in it is newer than the snapshot itself
    assert snap.books_captured_at <= snap.captured_at
    assert all(q.fetched_at <= snap.captured_at and q.last_update <= snap.captured_at for q in snap.quotes)


def test_an_injected_arbitrage_is_found_in_a_live_capture(sim, settings):
    injected = sim.scenario.inject_arbitrage(edge=Decimal("0.03"))
    capture = capture_from_settings(settings, source="simulator")
    # evaluated at the capture time, as the Dagster assets do
    result = scan(capture.snapshot, ScanConfig(overrides_path=settings.data_dir / "none.yaml"),
                  capture.snapshot.captured_at)
    arbs = [o for o in result.detection.opportunities if o.kind == "arbitrage"]
    assert any(o.event == injected["event_ticker"] for o in arbs), (injected, result.detection.rejected)


def test_one_failing_odds_feed_does_not_blind_the_scan(sim, settings):
    sim.faults.set("error_burst", venue="odds", count=1000, status=500, path_prefix="/v4/sports/basketball_nba")
    try:
        capture = capture_from_settings(settings, source="simulator")
    finally:
        sim.faults.clear()
    assert "basketball_nba" in capture.sports_failed
    assert {q.sport_key for q in capture.snapshot.quotes} >= {"americanfootball_nfl", "soccer_epl"}


def test_market_data_failures_are_counted_for_the_breaker(sim, settings):
    """Every HTTP attempt of a capture reaches `on_api_calls` (the breaker's API error rate): retried
    5xx included, and also when the capture itself fails. They used to be invisible to the breaker."""
    from arb_pipeline.connectors.kalshi.errors import KalshiError

    calls: list[tuple[int, int]] = []
    sim.faults.set("error_burst", venue="kalshi", path_prefix="/trade-api/v2/markets/orderbooks", count=2, status=503)
    capture_from_settings(settings, source="simulator", on_api_calls=lambda *c: calls.append(c))
    ((attempts, failed),) = calls
    assert failed == 2 and attempts > 10  # books retried past the burst; events, series, odds all counted
    sim.faults.set("error_burst", venue="kalshi", path_prefix="/trade-api/v2/events", status=500, count=None)
    try:
        with pytest.raises(KalshiError):
            capture_from_settings(settings, source="simulator", on_api_calls=lambda *c: calls.append(c))
    finally:
        sim.faults.clear()
    # the exchange status, then 5 attempts at each series' events that had started (the requests of one
    # capture overlap, ARB_CAPTURE_CONCURRENCY) - every one of them failed and counted; any odds call that
    # ran meanwhile succeeded and is counted too
    attempts, failed = calls[-1]
    assert failed >= 5 and failed % 5 == 0 and attempts > failed


def test_odds_within_their_refresh_interval_are_reused_not_fetched(settings):
    from arb_pipeline.services.odds_credits import reusable_odds

    first = capture_from_settings(settings, source="simulator")
    first_at = first.snapshot.captured_at
    nba = "basketball_nba"
    reuse = reusable_odds(first.payloads, first_at, settings)  # every sport is fresh at its capture time
    assert set(reuse) == set(settings.odds_sports.split(","))
    second = capture_from_settings(settings, source="simulator", reuse_odds={nba: reuse[nba]})
    assert second.payloads[f"odds_{nba}.json"] == first.payloads[f"odds_{nba}.json"]
    old = {q.fetched_at for q in first.snapshot.quotes if q.sport_key == nba}
    assert {q.fetched_at for q in second.snapshot.quotes if q.sport_key == nba} == old  # they age honestly
    others = {q.fetched_at for q in second.snapshot.quotes if q.sport_key != nba}
    assert others and min(others) > max(old)  # the other sports were fetched again
    # stored and replayed, the reused sport keeps its own fetch time
    meta = json.loads(second.payloads["meta.json"])
    assert meta["odds_fetched_at_by_sport"][nba] == max(old).isoformat()
    everything = capture_from_settings(settings, source="simulator", reuse_odds=reuse)
    assert everything.quota_remaining is None  # no odds call at all: no credit spent


def test_capture_asks_for_spreads_and_totals_and_accounts_their_credits(sim, settings):
    from arb_pipeline.connectors.sportsbooks.normalize import SUPPORTED_MARKETS

    assert settings.odds_markets() == SUPPORTED_MARKETS  # the default: h2h,spreads,totals
    capture = capture_from_settings(settings, source="simulator")
    assert capture.markets == ("h2h", "spreads", "totals")
    by_market = {m: [q for q in capture.snapshot.quotes if q.market == m] for m in capture.markets}
    assert all(by_market.values()), {m: len(q) for m, q in by_market.items()}
    assert all(q.point is None for q in by_market["h2h"])
    # a line's point is the provider's own number, exactly, on both sides of one line
    for market in ("spreads", "totals"):
        assert all(isinstance(q.point, Decimal) and (q.point * 2) % 1 == 0 for q in by_market[market])
    for q in by_market["totals"]:
        twin = next(o for o in by_market["totals"] if (o.event_id, o.bookmaker) == (q.event_id, q.bookmaker)
                    and o.outcome != q.outcome)
        assert twin.point == q.point
    for q in by_market["spreads"]:
        twin = next(o for o in by_market["spreads"] if (o.event_id, o.bookmaker) == (q.event_id, q.bookmaker)
                    and o.outcome != q.outcome)
        assert twin.point == -q.point
    # billed markets x regions per sport with games, as the provider reports it (x-requests-last; an
    # empty answer is free: the default leagues this slate does not play cost nothing)
    regions = len(settings.odds_api_regions.split(","))
    played = [n for n, text in capture.payloads.items() if n.startswith("odds_") and json.loads(text)]
    assert len(played) == 5 and capture.credits_used == 3 * regions * len(played)
    assert json.loads(capture.payloads["meta.json"])["odds_credits_used"] == capture.credits_used


def test_winner_only_scanning_asks_for_h2h_alone_and_costs_a_third(sim, settings, monkeypatch):
    monkeypatch.setenv("ODDS_API_MARKETS", "h2h")
    capture = capture_from_settings(Settings(), source="simulator")
    assert {q.market for q in capture.snapshot.quotes} == {"h2h"}
    assert capture.credits_used == len(settings.odds_api_regions.split(",")) * 5  # five sports with games


@pytest.mark.parametrize("value", ["h2h,outrights", " , "])
def test_an_unknown_odds_market_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("ODDS_API_MARKETS", value)
    with pytest.raises(ValueError, match="ODDS_API_MARKETS"):
        Settings().odds_markets()


def test_odds_provider_pinnacle_captures_records_and_replays_the_second_providers_wire(sim, settings, monkeypatch,
                                                                                       tmp_path):
    """ODDS_PROVIDER is read: Pinnacle's fixtures+odds over HTTP, recorded as pinnacle_<sport>.json, replayed
    identically, and resolved with the Kalshi side (zero inversions against the simulator's truth)."""
    from arb_pipeline.services.scan import ScanConfig, resolve_snapshot
    from arb_pipeline.services.simulator import simulator_settings
    from arb_pipeline.sim.pinnacle_api import event_id

    monkeypatch.setenv("ODDS_PROVIDER", "pinnacle")
    monkeypatch.setenv("PINNACLE_BASE_URL", sim.pinnacle_base_url)
    pinnacle = simulator_settings(Settings())  # the simulator's demo login and league ids fill in
    capture = capture_from_settings(pinnacle, source="simulator")
    assert not capture.sports_failed and not capture.problems and capture.credits_used == 0
    quotes = capture.snapshot.quotes
    assert quotes and {q.provider for q in quotes} == {"pinnacle"} == {q.bookmaker for q in quotes}
    assert {q.market for q in quotes} == {"h2h", "spreads", "totals"}
    files = {n for n in capture.payloads if n.startswith(("odds_", "pinnacle_"))}
    assert files and all(n.startswith("pinnacle_") for n in files)
    for name, text in capture.payloads.items():
        (tmp_path / name).write_text(text)
    assert load_snapshot(tmp_path).quotes == quotes
    resolution = resolve_snapshot(capture.snapshot, ScanConfig(overrides_path=tmp_path / "none.yaml"),
                                  capture.snapshot.captured_at)
    assert len(resolution.rows) == len(capture.snapshot.markets) and not resolution.unresolved
    for row in resolution.rows:
        state, outcome = sim.scenario.market_index[row.kalshi_market]
        assert row.outcome.value == outcome and row.sportsbook_event_id == str(event_id(state))


def test_an_unknown_odds_provider_is_a_clear_error(sim, settings, monkeypatch):
    monkeypatch.setenv("ODDS_PROVIDER", "betfair")
    with pytest.raises(ValueError, match="ODDS_PROVIDER='betfair' is not a live odds provider"):
        capture_from_settings(Settings(), source="simulator")


# --- concurrent capture (issue #11: capture at 1,000 games) ------------------------------------------


class CountingTransport:
    """An httpx transport over real HTTP that records how many requests were in flight at once, and
    every response status: what the venue saw of the capture's concurrency."""

    def __init__(self) -> None:
        import threading

        import httpx

        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.statuses: list[int] = []

    def handle_request(self, request):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = self._inner.handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.statuses.append(response.status_code)
        return response

    def close(self) -> None:
        self._inner.close()


def _clients(sim, settings, transport=None, limiter=None):
    """A Kalshi client and an Odds API provider on `sim`, with quick retries (no test waits seconds)."""
    import httpx

    from arb_pipeline.connectors.kalshi.client import KalshiClient
    from arb_pipeline.connectors.kalshi.http import Backoff
    from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider

    kalshi = KalshiClient.from_settings(settings, transport=transport, rate_limiter=limiter,
                                        backoff=Backoff(initial_s=0.01, max_s=0.05, jitter_s=0.01))
    odds = TheOddsApiProvider.from_settings(settings, backoff_initial_s=0.01, backoff_max_s=0.05)
    if transport is not None:
        odds._client = httpx.Client(transport=transport, timeout=httpx.Timeout(10.0))
    return kalshi, odds


def _capture(kalshi, odds, settings, concurrency):
    from arb_pipeline.services.ingest import capture, split_csv

    return capture(kalshi, odds, series=split_csv(settings.kalshi_series), sports=split_csv(settings.odds_sports),
                   source="simulator", markets=("h2h",), concurrency=concurrency)


def _shape(result):
    """What a capture holds, independent of prices that move between two captures."""
    snap = result.snapshot
    return ([e.event_ticker for e in snap.events], [m.ticker for m in snap.markets], sorted(snap.orderbooks),
            sorted(snap.series_fees), sorted(snap.structured_targets), sorted(result.payloads),
            sorted({(q.event_id, q.bookmaker, q.outcome) for q in snap.quotes}), dict(result.sports_failed))


def test_a_concurrent_capture_holds_exactly_what_a_sequential_one_holds(sim, settings):
    from arb_pipeline.connectors.kalshi.ratelimit import RateLimiter

    transport = CountingTransport()
    # a full bucket of its own: the process-wide one is drained by this module's other captures, and a
    # limiter making every request wait would (rightly) leave nothing to overlap
    kalshi, odds = _clients(sim, settings, transport, limiter=RateLimiter("prestige"))
    try:
        sequential = _capture(kalshi, odds, settings, concurrency=1)
        assert transport.max_in_flight == 1
        concurrent = _capture(kalshi, odds, settings, concurrency=4)
    finally:
        kalshi.close()
        odds.close()
    assert 1 < transport.max_in_flight <= 4  # it did overlap, within the bound
    assert _shape(concurrent) == _shape(sequential)
    assert set(concurrent.snapshot.orderbooks) == {m.ticker for m in concurrent.snapshot.markets}
    assert not concurrent.sports_failed and concurrent.quota_remaining is not None
    meta = json.loads(concurrent.payloads["meta.json"])
    assert meta["capture_started_at"] <= meta["books_captured_at"] <= meta["captured_at"]
    assert meta["odds_fetched_at"] == max(meta["odds_fetched_at_by_sport"].values())


@pytest.fixture
def limited_sim():
    """A simulator enforcing Kalshi's Basic tier itself: a client that outran its own limiter gets 429s."""
    with start_simulator(SimConfig(seed=11, games_per_league=10, kalshi_tier="basic")) as handle:
        yield handle


def test_concurrency_loses_nothing_to_429s_and_5xx_and_keeps_to_the_rate_limiter(limited_sim, tmp_path, monkeypatch):
    """429 storms and 5xx bursts on events, books and odds while 8 requests overlap: every call is retried
    to success, the capture matches a fault-free sequential one, and the only 429s are the injected
    ones - the venue's own Basic-tier bucket never refused a request, because every request still
    waited for the client's limiter (which had to make some wait: the capture needs more than one
    burst of the bucket)."""
    from arb_pipeline.connectors.kalshi.ratelimit import RateLimiter

    sim = limited_sim
    for name, value in {"ARB_DATA_DIR": str(tmp_path), "KALSHI_BASE_URL": sim.kalshi_base_url,
                        "KALSHI_API_KEY_ID": sim.key_id, "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode(),
                        "ODDS_API_BASE_URL": sim.odds_base_url, "ODDS_API_KEY": sim.odds_api_key}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    # the reference: sequential, no faults; then wait for the venue's bucket to refill, as the limiter would
    limiter = RateLimiter("basic")
    kalshi, odds = _clients(sim, settings, limiter=limiter)
    try:
        reference = _capture(kalshi, odds, settings, concurrency=1)
    finally:
        kalshi.close()
        odds.close()
    limiter = RateLimiter("basic")
    limiter.buckets["read"].acquire(limiter.buckets["read"].spec.capacity)  # start as the venue's bucket is now
    waited: list[float] = []
    acquire = limiter.acquire

    def counted(method, path):
        waited.append(acquire(method, path))
        return waited[-1]

    limiter.acquire = counted  # type: ignore[method-assign]
    transport = CountingTransport()
    sim.faults.set("rate_limit_storm", venue="kalshi", path_prefix="/trade-api/v2/events", count=3)
    sim.faults.set("error_burst", venue="kalshi", path_prefix="/trade-api/v2/markets/orderbooks", count=3, status=503)
    sim.faults.set("error_burst", venue="odds", path_prefix="/v4/sports/", count=3, status=502)
    kalshi, odds = _clients(sim, settings, transport, limiter)
    try:
        result = _capture(kalshi, odds, settings, concurrency=8)
        used = kalshi.stats.snapshot()
    finally:
        sim.faults.clear()
        kalshi.close()
        odds.close()
    assert _shape(result) == _shape(reference)
    assert len(result.snapshot.markets) > 100 and set(result.snapshot.orderbooks) == {m.ticker for m in result.snapshot.markets}
    assert transport.max_in_flight <= 8  # (overlap itself is the test above: here the limiter paces requests)
    assert transport.statuses.count(429) == 3  # the storm's, and none from the venue's own limiter
    assert transport.statuses.count(503) == 3 and transport.statuses.count(502) == 3
    assert used.errors == 6 and odds.failed_attempts == 3  # every failed attempt counted for the breaker
    assert len(waited) == used.requests and sum(w > 0 for w in waited) > 0


def test_series_metadata_and_empty_series_are_reused_within_their_ages_and_nothing_else_changes(sim, settings):
    from datetime import timedelta

    from arb_pipeline.connectors.kalshi.ratelimit import RateLimiter
    from arb_pipeline.services.ingest import capture, split_csv
    from arb_pipeline.services.kalshi_reuse import reusable_series
    from arb_pipeline.services.odds_credits import reusable_odds

    kalshi, odds = _clients(sim, settings, limiter=RateLimiter("prestige"))

    nba = "basketball_nba"
    odds_reused = {}

    def run(reuse):
        before = kalshi.stats.snapshot().requests
        # the odds are asked once and reused: the simulated feed limits how often this module may ask it
        result = capture(kalshi, odds, series=split_csv(settings.kalshi_series), sports=(nba,),
                         source="simulator", markets=("h2h",), reuse_series=reuse, reuse_odds=odds_reused)
        odds_reused.update(reusable_odds(result.payloads, result.snapshot.captured_at, settings))
        return result, kalshi.stats.snapshot().requests - before

    try:
        first, first_requests = run(None)
        at = first.snapshot.captured_at
        configured = set(split_csv(settings.kalshi_series))
        listed = {e.series_ticker for e in first.snapshot.events}
        meta = json.loads(first.payloads["meta.json"])
        assert set(meta["series_fetched_at_by_ticker"]) == listed
        assert set(meta["series_without_events_at"]) == configured - listed and len(configured - listed) > 20
        reuse = reusable_series(first.payloads, at + timedelta(seconds=1), ttl_s=600, quiet_recheck_s=60)
        assert set(reuse.fees) == listed and set(reuse.quiet) == configured - listed
        second, second_requests = run(reuse)
        # one GET /events per quiet series and one GET /series per listed one saved; the rest is asked
        assert first_requests - second_requests == len(configured - listed) + len(listed)
        assert _shape(second) == _shape(first)
        assert second.snapshot.series_fees == first.snapshot.series_fees
        assert json.loads(second.payloads["kalshi_series.json"]) == json.loads(first.payloads["kalshi_series.json"])
        second_meta = json.loads(second.payloads["meta.json"])
        # the reused answers keep their own times: they expire from when they were really fetched
        assert second_meta["series_fetched_at_by_ticker"] == meta["series_fetched_at_by_ticker"]
        assert second_meta["series_without_events_at"] == meta["series_without_events_at"]
        # past the recheck and the TTL (by the given clock) everything is asked again
        expired = reusable_series(second.payloads, at + timedelta(seconds=601), ttl_s=600, quiet_recheck_s=60)
        assert not expired
        third, third_requests = run(expired)
        assert third_requests == first_requests and _shape(third) == _shape(first)
        assert json.loads(third.payloads["meta.json"])["series_without_events_at"] != meta["series_without_events_at"]
    finally:
        kalshi.close()
        odds.close()


def test_every_captured_file_is_marked_decoded_for_the_store(settings):
    from arb_pipeline.storage.repositories.snapshots import DecodedJson

    # the parser decoded every file of the capture in full (it raises on invalid JSON), so the store is told
    capture = capture_from_settings(settings, source="simulator")
    assert capture.payloads and all(type(text) is DecodedJson for text in capture.payloads.values())
    assert all(json.loads(text) is not None for text in capture.payloads.values())


def test_a_series_books_are_asked_as_soon_as_its_events_are_in_and_stored_in_the_events_order(sim, settings,
                                                                                              monkeypatch):
    import threading

    import arb_pipeline.connectors.kalshi.client as kalshi_client
    from arb_pipeline.connectors.kalshi.ratelimit import RateLimiter
    from arb_pipeline.services.ingest import capture
    from arb_pipeline.services.odds_credits import reusable_odds

    monkeypatch.setattr(kalshi_client, "MAX_ORDERBOOK_TICKERS", 4)  # small calls: several per series
    kalshi, odds = _clients(sim, settings, limiter=RateLimiter("prestige"))
    nba, slow = "basketball_nba", "KXEPLGAME"
    books_asked = threading.Event()
    chunks: list[list[str]] = []

    class SlowSeries:
        """The real client, but the events of `slow` are answered only once a book call has started
        (or after 10 s): a capture that asks books only after every series' events never sees that."""

        def __init__(self, inner):
            self.inner, self.waited_for_books = inner, None

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def fetch_events_pages(self, *, series_tickers, **kwargs):
            if list(series_tickers) == [slow]:
                self.waited_for_books = books_asked.wait(timeout=10)
            return self.inner.fetch_events_pages(series_tickers=series_tickers, **kwargs)

        def fetch_orderbooks_pages(self, tickers):
            chunks.append(list(tickers))
            books_asked.set()
            return self.inner.fetch_orderbooks_pages(tickers)

    try:
        first = capture(kalshi, odds, series=("KXNBAGAME", slow), sports=(nba,), source="simulator")
        reuse = reusable_odds(first.payloads, first.snapshot.captured_at, settings)
        chunks.clear()
        client = SlowSeries(kalshi)
        result = capture(client, odds, series=("KXNBAGAME", slow), sports=(nba,), source="simulator",
                         reuse_odds=reuse, concurrency=2)
    finally:
        kalshi.close()
        odds.close()
    assert client.waited_for_books is True  # the NBA books were asked while the EPL events were not in
    tickers = [m["ticker"] for e in json.loads(result.payloads["kalshi_events.json"])["events"] for m in e["markets"]]
    books = [b["ticker"] for b in json.loads(result.payloads["kalshi_orderbooks.json"])["orderbooks"]]
    assert books == tickers and len(tickers) > 8  # every book once, in the events' order, as before
    assert all(len(chunk) <= 4 for chunk in chunks) and sorted(t for c in chunks for t in c) == sorted(tickers)
    assert len(chunks) == -(-len(tickers) // 4)  # still full calls: no more requests than one list in chunks
    assert [m["ticker"] for e in json.loads(first.payloads["kalshi_events.json"])["events"]
            for m in e["markets"]] == tickers


def test_odds_are_normalized_while_the_capture_waits_and_the_parse_takes_them(settings, monkeypatch):
    """Every odds file - fetched now or kept from an earlier capture - is normalized on the capture's parse
    thread as soon as its text is there; the snapshot's own parse then normalizes none again, and the
    snapshot equals one parsed from the stored payloads alone."""
    import threading

    from arb_pipeline.connectors.snapshot import read_payloads
    from arb_pipeline.connectors.sportsbooks import odds_msgspec
    from arb_pipeline.services.odds_credits import reusable_odds

    first = capture_from_settings(settings, source="simulator")
    kept = {sport: odds for sport, odds in reusable_odds(first.payloads, first.snapshot.captured_at,
                                                          settings).items() if sport == "basketball_nba"}
    real = odds_msgspec.normalize_odds_bytes
    threads: list[str] = []

    def counting(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(odds_msgspec, "normalize_odds_bytes", counting)
    second = capture_from_settings(settings, source="simulator", reuse_odds=kept)
    sports = settings.odds_sports.split(",")
    assert len(threads) == len(sports)  # each file once: the reused one too, and none again in the parse
    assert all(name.startswith("capture-parse") for name in threads)
    threads.clear()
    again = read_payloads(second.payloads, source="simulator", label="simulator", keep_extra=SCAN_EXTRA_FIELDS)
    assert len(threads) == len(sports)  # the reference: the same files normalized by the parse itself
    assert again.snapshot.quotes == second.snapshot.quotes
    assert list(again.snapshot.quote_columns.exact) == list(second.snapshot.quote_columns.exact)
    assert [str(p) for p in again.problems] == list(second.problems)
