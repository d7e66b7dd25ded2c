"""The scan use-case over the bundled sample: every stage connected, every number auditable."""

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.domain import Outcome
from arb_pipeline.services.scan import (
    SAMPLE_SNAPSHOT_DIR,
    ScanConfig,
    build_games,
    price_games,
    resolve_snapshot,
    scan,
)

AS_OF = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot(SAMPLE_SNAPSHOT_DIR)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return ScanConfig(overrides_path=tmp_path_factory.mktemp("ov") / "none.yaml")


@pytest.fixture(scope="module")
def result(snapshot, config):
    return scan(snapshot, config, AS_OF)


def payout_in(leg, outcome: Outcome) -> Decimal:
    """What a leg pays if `outcome` happens — derived from the leg's side, not from its own claim."""
    if leg.venue == "kalshi":
        wins = (outcome == leg.outcome) if leg.side == "yes" else (outcome != leg.outcome)
        return leg.size if wins else Decimal(0)
    assert leg.side == "back"
    return (leg.size * leg.price).quantize(CENT, rounding=ROUND_FLOOR) if outcome == leg.outcome else Decimal(0)


def leg_cost(leg) -> Decimal:
    if leg.venue == "kalshi":
        return sum((price * count for price, count in leg.levels), Decimal(0)) + leg.fee
    return leg.size


def test_sample_resolves_completely(result, snapshot):
    assert len(result.resolution.rows) == len(snapshot.markets)
    assert not result.resolution.unresolved
    assert not result.assembly.problems
    assert len(result.games) == len(snapshot.events)


def test_every_arbitrage_pays_more_than_it_costs_in_every_outcome(result):
    arbs = [o for o in result.detection.opportunities if o.kind == "arbitrage"]
    assert arbs, "the sample carries at least one arbitrage"
    games = {g.event_ticker: g for g in result.games}
    for opp in arbs:
        cost = sum((leg_cost(leg) for leg in opp.legs), Decimal(0))
        assert cost == opp.cost
        profits = [sum((payout_in(leg, o) for leg in opp.legs), Decimal(0)) - cost for o in games[opp.event].outcomes]
        assert min(profits) > 0
        assert min(profits) == opp.profit
        for leg in opp.legs:
            assert isinstance(leg.price, Decimal) and isinstance(leg.size, Decimal) and isinstance(leg.fee, Decimal)


def test_value_bets_are_priced_below_the_consensus(result):
    values = [o for o in result.detection.opportunities if o.kind == "value"]
    assert values
    for opp in values:
        (leg,) = opp.legs
        all_in = (leg_cost(leg)) / leg.size
        fair = opp.fair_probability if leg.side == "yes" else 1 - opp.fair_probability
        assert Decimal(str(fair)) - all_in >= Decimal("0.02")  # the default 200 bps minimum edge


def test_pricing_stage_gives_a_fair_probability_per_outcome(snapshot, config):
    resolution = resolve_snapshot(snapshot, config, AS_OF)
    games = build_games(snapshot, resolution, config).games
    lines = price_games(games, config)
    assert len(lines) == sum(len(g.outcomes) for g in games)
    by_event: dict[str, float] = {}
    for line in lines:
        assert line.fair_probability is not None and 0 < line.fair_probability < 1
        assert line.books_used and line.booksum_min >= 1.0
        by_event[line.event_ticker] = by_event.get(line.event_ticker, 0.0) + line.fair_probability
    assert all(abs(total - 1) < 1e-9 for total in by_event.values())


def test_soccer_games_are_three_way_with_the_tie_as_draw(result):
    soccer = [g for g in result.games if g.league == "EPL"]
    assert soccer
    for game in soccer:
        assert set(game.outcomes) == {Outcome.HOME, Outcome.DRAW, Outcome.AWAY}
        assert game.kalshi[Outcome.DRAW].ticker.endswith("-TIE")


def test_a_game_that_has_started_is_never_an_opportunity(snapshot, config):
    late = scan(snapshot, config, datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert not late.detection.opportunities


def test_naive_as_of_is_refused(snapshot, config):
    with pytest.raises(ValueError, match="timezone-aware"):
        scan(snapshot, config, datetime(2026, 11, 24, 17, 0))


def _sample_copy(tmp_path, mutate):
    import json
    import shutil

    directory = tmp_path / "snap"
    shutil.copytree(SAMPLE_SNAPSHOT_DIR, directory)
    for name, change in mutate.items():
        path = directory / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return directory


def _duplicate_first_level(data):
    levels = data["orderbooks"][0]["orderbook_fp"]["yes_dollars"]
    levels.append(list(levels[0]))


def test_a_malformed_book_skips_its_game_with_a_reason_and_the_scan_goes_on(tmp_path, config, result):
    """A duplicate price level used to abort the whole scan with a ValueError naming neither file nor series."""
    snap = load_snapshot(_sample_copy(tmp_path, {"kalshi_orderbooks.json": _duplicate_first_level}))
    bad = scan(snap, config, AS_OF)
    (event, why), = bad.assembly.problems.items()
    assert why.startswith("kalshi_orderbooks.json of simulator: series KXNFLGAME: market KXNFLGAME-")
    assert "duplicate price level" in why and why.endswith("game skipped")
    assert event not in {g.event_ticker for g in bad.games}
    assert len(bad.games) == len(result.games) - 1 and bad.detection.opportunities  # the rest is scanned


def test_an_unknown_fee_type_skips_its_series_games_naming_file_and_series(tmp_path, config, result):
    def bananas(data):
        next(s for s in data["series"] if s["ticker"] == "KXEPLGAME")["fee_type"] = "bananas"

    bad = scan(load_snapshot(_sample_copy(tmp_path, {"kalshi_series.json": bananas})), config, AS_OF)
    epl = [e for e in bad.assembly.problems if e.startswith("KXEPLGAME")]
    assert epl and all(bad.assembly.problems[e].startswith("kalshi_series.json of simulator: series KXEPLGAME: "
                                                           "fee_type 'bananas'") for e in epl)
    assert {g.league for g in bad.games} and not [g for g in bad.games if g.event_ticker.startswith("KXEPLGAME")]
    assert bad.detection.opportunities


def test_absurd_decimal_odds_are_a_problem_naming_the_file_not_a_crash(tmp_path, config):
    """Odds of 1e30 used to reach detection and die in floor_to with decimal.InvalidOperation."""
    from arb_pipeline.connectors.snapshot import read_snapshot

    def absurd(data):
        data[0]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = 1e30

    directory = _sample_copy(tmp_path, {"odds_soccer_epl.json": absurd})
    loaded = read_snapshot(directory)
    (problem,) = loaded.problems
    assert "odds_soccer_epl.json" in str(problem) and "implausible" in str(problem)
    assert scan(loaded.snapshot, config, AS_OF).detection.opportunities


@pytest.mark.parametrize(("env", "book", "stake", "commission", "profit", "worst_payout"), [
    ({"ARB_BOOK_COMMISSION": "betfair_ex_eu:0"}, "betfair_ex_eu", "108.86", "0", "3.22", "150.00"),
    ({"ARB_BOOK_COMMISSION": "betfair_ex_eu:0.02"}, "betfair_ex_eu", "109.46", "0.83", "2.62", "150.00"),
    # at 5 % Betfair's 1.378 nets 1.3591 < DraftKings' 1.37: the cover moves to DraftKings
    ({"ARB_BOOK_COMMISSION": "betfair_ex_eu:0.05"}, "draftkings", "109.49", "0", "2.59", "150.00"),
    # ... and a trader whose only account is Betfair keeps a smaller arbitrage, a cent short in one outcome
    ({"ARB_BOOK_COMMISSION": "betfair_ex_eu:0.05", "ARB_ACCOUNT_BOOKS": "betfair_ex_eu"}, "betfair_ex_eu",
     "110.37", "2.09", "1.70", "149.99"),
])
def test_the_samples_betfair_arbitrage_at_2_and_5_percent_commission(snapshot, env, book, stake, commission,
                                                                     profit, worst_payout):
    """Worked example (issue #9): Kalshi YES Boston 150 @ 0.24 (fee $1.92) + back Memphis. Commission on
    net winnings is priced like Kalshi's fee: at 2 % the arbitrage shrinks from $3.22 to $2.62, at 5 %
    Betfair stops being the best hedge (DraftKings, $2.59), and backed at Betfair anyway it is $1.70."""
    from arb_pipeline.settings import Settings

    settings = Settings(_env_file=None, **env)
    found = scan(snapshot, ScanConfig.from_settings(settings), AS_OF).detection.opportunities
    [arb] = [o for o in found if o.kind == "arbitrage"]
    kalshi, back = arb.legs
    assert (kalshi.market, kalshi.size, kalshi.cost) == ("KXNBAGAME-26NOV24BOSMEM-BOS", Decimal(150), Decimal("37.92"))
    assert (back.market, back.size, back.commission) == (book, Decimal(stake), Decimal(commission))
    gross = (back.size * back.price).quantize(CENT, rounding=ROUND_FLOOR)
    assert back.payout == gross - back.commission  # commission comes out of the winnings, rounded against us
    assert arb.profit == Decimal(profit) and min(arb.payouts.values()) == Decimal(worst_payout)
    assert arb.profit == min(arb.payouts.values()) - kalshi.cost - back.size
    assert arb.executable

# --- parse once, into columns ------------------------------------------------------------------


def test_the_parsers_columns_mirror_the_quote_objects_row_for_row(snapshot):
    from arb_pipeline.domain import QUOTE_MARKETS, QUOTE_OUTCOMES

    cols = snapshot.quote_columns
    assert cols is not None and len(cols) == len(snapshot.quotes) > 0
    for i, q in enumerate(snapshot.quotes):
        assert (cols.events[cols.event[i]], cols.bookmakers[cols.book[i]], QUOTE_MARKETS[cols.market[i]],
                QUOTE_OUTCOMES[cols.outcome[i]], cols.point[i], cols.odds[i], cols.updated[i]) == (
            q.event_id, q.bookmaker, q.market, q.outcome, q.point, q.odds_f, q.last_update_ts)
        assert cols.exact[i] is q.decimal_odds
    assert {QUOTE_MARKETS[m] for m in cols.market} >= {"h2h", "spreads", "totals"}  # line markets carried too


def test_a_scan_from_the_columns_equals_a_scan_from_the_quote_objects(snapshot, config):
    from dataclasses import replace

    by_columns = scan(snapshot, config, AS_OF)
    by_objects = scan(replace(snapshot, quote_columns=None), config, AS_OF)
    assert by_columns.detection.opportunities == by_objects.detection.opportunities
    assert by_columns.detection.rejected == by_objects.detection.rejected
    assert by_columns.fair == by_objects.fair
    assert by_columns.detection.opportunities  # the sample has opportunities to compare


@pytest.mark.parametrize("variant", ["parsed", "no columns", "filtered"])
def test_a_scan_reading_the_columns_once_equals_its_stages_each_reading_them(snapshot, config, variant):
    """`scan` derives `quote_columns_of` once for resolve and build; the public stages, each deriving them
    itself, give the same resolution, games, quote table, fair lines and opportunities - with the parser's
    columns, without any, and with stale ones (quotes filtered in code)."""
    from dataclasses import fields, replace

    import numpy as np

    from arb_pipeline.services.scan import build_games, detect_opportunities, price_games, resolve_snapshot

    if variant == "no columns":
        snapshot = replace(snapshot, quote_columns=None)
    elif variant == "filtered":
        snapshot = replace(snapshot, quotes=tuple(q for q in snapshot.quotes if q.bookmaker != "pinnacle"))
    once = scan(snapshot, config, AS_OF)
    resolution = resolve_snapshot(snapshot, config, AS_OF)
    assembly = build_games(snapshot, resolution, config)
    assert once.resolution == resolution
    assert tuple(once.games) == tuple(assembly.games) and once.assembly.problems == assembly.problems
    table, other = once.games.quotes, assembly.games.quotes
    for f in fields(table):
        value, expected = getattr(table, f.name), getattr(other, f.name)
        if isinstance(value, np.ndarray):
            assert value.dtype == expected.dtype and np.array_equal(value, expected), f.name
        else:
            assert list(value or ()) == list(expected or ()) and (value is None) == (expected is None), f.name
    assert once.fair == price_games(assembly.games, config)
    detection = detect_opportunities(assembly.games, config, AS_OF, trading_active=snapshot.exchange.trading_active)
    assert once.detection.opportunities == detection.opportunities  # (`stats` carries timings)
    assert once.detection.rejected == detection.rejected
    assert once.detection.opportunities or variant == "filtered"  # opportunities to compare


def test_columns_that_no_longer_describe_the_quotes_are_not_used(snapshot, config):
    """A snapshot whose quotes were filtered in code keeps stale parser columns: they are ignored."""
    from dataclasses import replace

    from arb_pipeline.services.scan import quote_columns_of

    kept = tuple(q for q in snapshot.quotes if q.bookmaker != "pinnacle")
    filtered = replace(snapshot, quotes=kept)
    cols = quote_columns_of(filtered)
    assert cols is not snapshot.quote_columns and len(cols) == len(kept)
    assert "pinnacle" not in cols.bookmakers
    assert quote_columns_of(snapshot) is snapshot.quote_columns


def test_resolve_snapshot_groups_the_quotes_from_the_parsers_columns_and_resolves_the_same(snapshot, config):
    """resolve_snapshot hands resolution the parser's columns (the same `Resolution` as from the quote
    objects alone); columns that leave a quote out (one they do not model) are not handed over."""
    from dataclasses import replace
    from unittest.mock import patch

    from arb_pipeline.mapping import resolver
    from arb_pipeline.services.scan import overrides_for

    def plain(snap):
        return resolver.resolve(snap.events, snap.milestones, snap.quotes, as_of=AS_OF,
                                overrides=overrides_for(config), config=config.resolver,
                                targets=snap.structured_targets)

    handed = []
    real = resolver.QuoteRows
    with patch.object(resolver, "QuoteRows", side_effect=lambda q, c: handed.append(c) or real(q, c)):
        found = resolve_snapshot(snapshot, config, AS_OF)
        expected = plain(snapshot)
        assert [c is snapshot.quote_columns for c in handed] == [True]
        assert found == expected and repr(found) == repr(expected)
        odd = replace(snapshot, quotes=(*snapshot.quotes, replace(snapshot.quotes[0], market="outrights")))
        found, expected = resolve_snapshot(odd, config, AS_OF), plain(odd)
        assert len(handed) == 1  # not handed over: they do not describe the quotes row for row
        assert found == expected and repr(found) == repr(expected)


def test_scan_games_carry_their_quote_table_and_survive_pickling(snapshot, config):
    import pickle

    assembly = build_games(snapshot, resolve_snapshot(snapshot, config, AS_OF), config)
    table = assembly.quotes
    assert table is not None and table.n_games == len(assembly.games) and len(table) > 0
    assert all(g.quotes == () and g.quotes_in_table for g in assembly.games)
    again = pickle.loads(pickle.dumps(assembly.games))
    assert again == assembly.games and len(again.quotes) == len(table)
    assert price_games(again, config) == price_games(assembly.games, config)
    with pytest.raises(ValueError, match="QuoteTable"):
        price_games(tuple(assembly.games), config)  # lines without their table are never priced empty


def test_scan_games_carry_the_screens_kalshi_columns_built_once(snapshot, config):
    """`ScanGames.columns` describe exactly their games (rebuilt after unpickling), and detection on them
    equals detection that derives the columns itself."""
    import pickle

    from arb_pipeline.arb.market import GameColumns
    from arb_pipeline.arb.opportunity import detect

    games = build_games(snapshot, resolve_snapshot(snapshot, config, AS_OF), config).games
    assert games.columns.require_for(games) is games.columns and len(games.columns) == len(games)
    fresh = GameColumns.of(games)
    assert (fresh.yes_cost == games.columns.yes_cost).all() and (fresh.no_cost == games.columns.no_cost).all()
    again = pickle.loads(pickle.dumps(games))
    assert again.columns.require_for(again) is again.columns
    given = detect(games, config.limits, config.sizing, as_of=AS_OF, quotes=games.quotes, columns=games.columns)
    derived = detect(tuple(games), config.limits, config.sizing, as_of=AS_OF, quotes=games.quotes)
    assert given.opportunities == derived.opportunities and given.rejected == derived.rejected
    assert given.opportunities  # the sample has opportunities to compare



# --- spreads and totals (issue #12): the simulator's extended slate, recorded over real HTTP -------------

EXTENDED_START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def extended_recording(tmp_path_factory):
    """An extended slate with an injected total arbitrage, recorded with h2h, spreads and totals:
    (engine, window, snapshot directory, config)."""
    from arb_pipeline.sim.clock import SimClock
    from arb_pipeline.sim.record import record_snapshot
    from arb_pipeline.sim.scenario import ScenarioConfig, ScenarioEngine

    engine = ScenarioEngine(ScenarioConfig(seed=3, start=EXTENDED_START, games_per_league=2, arb_rate_per_hour=0,
                                           value_rate_per_hour=0, extended=True), clock=SimClock.fixed(EXTENDED_START))
    window = engine.inject_line_arbitrage("total", edge=Decimal("0.03"))
    directory = tmp_path_factory.mktemp("ext")
    recorded = record_snapshot(engine, directory / "snap", markets={"*": "h2h,spreads,totals"})
    return engine, window, recorded, ScanConfig(overrides_path=directory / "none.yaml")


@pytest.fixture(scope="module")
def extended(extended_recording):
    engine, window, recorded, config = extended_recording
    snap = load_snapshot(recorded)
    return engine, window, snap, scan(snap, config, EXTENDED_START)


@pytest.mark.parametrize("which", ["sample", "extended"])
def test_a_directory_scan_keeps_only_the_kalshi_fields_it_reads_and_finds_exactly_the_same(
        which, extended_recording, extended, tmp_path):
    """`scan_directory` loads Kalshi records with only the unmapped fields the scan reads (a line market's
    strike); every stage's result equals the scan of the fully loaded snapshot (lines included)."""
    from arb_pipeline.services.scan import SCAN_EXTRA_FIELDS, resolve_directory, scan_directory

    if which == "sample":
        directory, config = SAMPLE_SNAPSHOT_DIR, ScanConfig(overrides_path=tmp_path / "none.yaml")
        full = load_snapshot(directory)
        expected = scan(full, config, full.captured_at)
    else:
        _, _, directory, config = extended_recording
        full, expected = extended[2], extended[3]
        assert expected.resolution.lines and any("floor_strike" in m.extra for m in full.markets)
    assert any(set(m.extra) - SCAN_EXTRA_FIELDS for m in full.markets)  # the full load holds more
    at = expected.as_of
    lean = scan_directory(directory, config, at)
    assert all(set(m.extra) <= SCAN_EXTRA_FIELDS for m in lean.snapshot.markets)
    assert lean.resolution == expected.resolution and resolve_directory(directory, config, at)[0] == expected.resolution
    assert lean.fair == expected.fair and lean.assembly.problems == expected.assembly.problems
    assert list(lean.games) == list(expected.games) and lean.games.lines == expected.games.lines
    assert lean.detection.opportunities == expected.detection.opportunities  # (stats hold timings)
    assert lean.detection.rejected == expected.detection.rejected
    assert [o.to_dict() for o in lean.detection.opportunities] == [o.to_dict() for o in expected.detection.opportunities]


def test_line_games_hold_only_quotes_at_exactly_their_point(extended):
    from arb_pipeline.arb.line_game import LineGame
    from arb_pipeline.domain import line_position

    engine, _, snap, result = extended
    lines = result.assembly.lines
    assert lines and list(result.games) == list(result.assembly.winners) and result.games.lines == lines
    assert all(isinstance(g, LineGame) for g in lines) and not result.assembly.problems
    assert len({(g.event_ticker, g.market, g.point) for g in lines}) == len(lines)
    # every resolved line market is in exactly one line game, as its YES side
    in_games = {c.ticker: (g, side) for g in lines for side, c in g.kalshi.items()}
    assert set(in_games) == {r.kalshi_market for r in result.resolution.lines}
    for row in result.resolution.lines:
        game, side = in_games[row.kalshi_market]
        assert (game.market, game.point, side, game.tradable) == (row.book_market, row.point, row.yes_outcome,
                                                                 row.tradable)
    books = {q.bookmaker for q in snap.quotes if q.market == "totals"}
    at_book_line = 0
    for game in lines:
        assert all(q.market == game.market and line_position(q.market, q.outcome, q.point)[1] == game.point
                   for q in game.quotes)
        if game.quotes:  # the books' own line: every book quotes both sides, and it is tradable
            at_book_line += 1
            assert {q.bookmaker for q in game.quotes} == books and game.tradable
            assert {line_position(q.market, q.outcome, q.point)[0] for q in game.quotes} == set(game.sides)
        else:  # another of Kalshi's strikes: no book line at this point, so never tradable
            assert not game.tradable
    assert at_book_line and {g.market for g in lines if g.quotes} == {"spreads", "totals"}


def test_line_fair_probabilities_and_the_frames_carry_market_and_point(extended):
    from arb_pipeline.schemas import ImpliedProbabilitiesFrame, OpportunitiesFrame, ResolvedEventsFrame
    from arb_pipeline.services import frames

    _, _, snap, result = extended
    priced = [f for f in result.fair if f.market != "h2h"]
    assert {f.market for f in priced} == {"spreads", "totals"}
    assert all(f.point is not None for f in priced)
    assert all(f.fair_probability is not None or f.reason for f in priced)
    assert all((f.fair_probability is None) == (not f.books_used) for f in priced)
    resolved = frames.resolved_events_frame(snap, result.resolution)
    ResolvedEventsFrame.validate(resolved, lazy=True)
    assert resolved["resolved"].all() and set(resolved["market"]) == {"h2h", "spreads", "totals"}
    ImpliedProbabilitiesFrame.validate(frames.implied_probabilities_frame(snap, result.fair, "multiplicative"),
                                       lazy=True)
    opportunities = frames.opportunities_frame(result.detection.opportunities, EXTENDED_START)
    OpportunitiesFrame.validate(opportunities, lazy=True)
    assert set(opportunities["market"]) >= {"totals"}


def test_value_on_a_line_is_priced_against_the_consensus_of_the_same_line(extended):
    _, window, _, result = extended
    on_market = [o for o in result.detection.opportunities if o.legs[0].market == window["market_ticker"]]
    kinds = {o.kind: o for o in on_market}
    assert set(kinds) == {"arbitrage", "value"}, [o.kind for o in on_market]
    value = kinds["value"]
    (fair,) = [f for f in result.fair if f.kalshi_market == window["market_ticker"]]
    assert (value.market, value.point) == ("totals", Decimal(window["strike"])) == (fair.market, fair.point)
    assert value.fair_probability == pytest.approx(fair.fair_probability)
    assert set(value.consensus_books) == set(fair.books_used)
    (leg,) = value.legs
    assert leg.side == "yes" and value.edge_bps > 0
    assert value.profit == (Decimal(repr(value.fair_probability)) * leg.size - leg.cost).quantize(
        Decimal("0.0001"), rounding=ROUND_FLOOR)


def _derived(games) -> list:
    """What equality of games leaves out: the screen's fields derived at construction (`compare=False`)."""
    return [(g.screen_rows, g.three_way, [(c.taker_rate_f, c.slot, c.screen_row) for c in g.kalshi.values()])
            for g in games]


@pytest.mark.parametrize("which", ["sample", "extended"])
def test_the_array_paths_give_exactly_what_the_reference_paths_give(which, extended_recording, extended, tmp_path,
                                                                    monkeypatch):
    """Issue #11: books built together (`arb.book_batch`), winner games built without per-object re-checks
    (`arb.game_batch`), the pricing consensus of all games by arrays
    (`arb.consensus_table`), the orientation consensus of all games at once (`mapping.orientation_batch`) and
    the quotes grouped into games from the parser's columns (`mapping.quote_rows`) leave every stage's result exactly as the one-at-a-time reference paths give it: same resolutions and
    guard floats (compared by repr: to the bit), same games and books, same fair lines, same opportunities."""
    from arb_pipeline.arb.consensus_table import game_consensus
    from arb_pipeline.mapping import resolver
    from arb_pipeline.mapping.guards import GuardContext
    from arb_pipeline.services import scan as scan_module

    if which == "sample":
        snap, config = load_snapshot(SAMPLE_SNAPSHOT_DIR), ScanConfig(overrides_path=tmp_path / "none.yaml")
        fast, at = scan(snap, config, snap.captured_at), snap.captured_at
    else:
        _, _, _, config = extended_recording
        snap, fast = extended[2], extended[3]
        at = fast.as_of
    monkeypatch.setattr(scan_module, "books_from_levels", lambda records: {})  # every book: from_levels
    monkeypatch.setattr(scan_module, "winner_game", lambda *args: None)  # every game: the constructors
    monkeypatch.setattr(scan_module, "table_consensus", lambda table, games, *a: [
        game_consensus(table, g, game, *a) for g, game in enumerate(games)])
    monkeypatch.setattr(GuardContext, "prime", lambda self, games, rows=None: None)  # consensus_probabilities per game
    monkeypatch.setattr(resolver, "QuoteRows", lambda quotes, columns: None)  # games grouped from the quote objects
    reference = scan(snap, config, at)
    assert repr(fast.resolution) == repr(reference.resolution)
    assert fast.assembly.problems == reference.assembly.problems
    assert list(fast.games) == list(reference.games) and fast.games.lines == reference.games.lines
    assert [(g.kalshi[o].book.best_yes_f, g.kalshi[o].book.best_no_f) for g in fast.games for o in g.outcomes] == [
        (g.kalshi[o].book.best_yes_f, g.kalshi[o].book.best_no_f) for g in reference.games for o in g.outcomes]
    assert repr(_derived(fast.games)) == repr(_derived(reference.games))  # floats to the bit, NaN included
    assert repr(fast.fair) == repr(reference.fair)
    assert any(line.fair_probability is not None for line in fast.fair)
    assert [o.to_dict() for o in fast.detection.opportunities] == [
        o.to_dict() for o in reference.detection.opportunities]


_FAIR_FIELDS = st.tuples(
    st.text(max_size=3), st.text(max_size=3), st.sampled_from(list(Outcome)), st.text(max_size=3), st.text(max_size=3),
    st.text(max_size=3), st.none() | st.floats(allow_nan=True), st.lists(st.text(max_size=2), max_size=2).map(tuple),
    st.none() | st.floats(), st.none() | st.floats(), st.none() | st.decimals(allow_nan=False),
    st.none() | st.decimals(allow_nan=False), st.none() | st.text(max_size=3))


@given(fields=_FAIR_FIELDS)
def test_a_winners_fair_line_is_the_dataclass_built_one(fields):
    """Pricing builds a winner outcome's `FairLine` with plain stores (`scan._WinnerFairLine`): the same class,
    the same attributes in the same order (every field, the defaults included), equal, frozen, picklable."""
    import pickle

    from arb_pipeline.services.scan import FairLine, _WinnerFairLine

    fast, reference = _WinnerFairLine(*fields), FairLine(*fields)
    assert type(fast) is FairLine
    assert repr(list(vars(fast).items())) == repr(list(vars(reference).items()))
    assert fast == reference or fast.fair_probability != fast.fair_probability  # (NaN is not equal to itself)
    assert repr(pickle.loads(pickle.dumps(fast))) == repr(reference)
    with pytest.raises(AttributeError):
        fast.league = "NFL"
