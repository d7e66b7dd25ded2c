"""ReplayProvider: recorded odds served back through the same normalization, with live-like filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.connectors.snapshot import DirectorySnapshotSource
from arb_pipeline.connectors.sportsbooks.base import OddsProvider
from arb_pipeline.connectors.sportsbooks.errors import OddsReplayError
from arb_pipeline.connectors.sportsbooks.jsonio import dumps_exact
from arb_pipeline.connectors.sportsbooks.replay import RecordedOdds, ReplayProvider

FETCHED = datetime(2026, 11, 24, 22, 15, tzinfo=UTC)


def nba_event(event_id: str, commence: str) -> dict:
    return {"id": event_id, "sport_key": "basketball_nba", "commence_time": commence,
            "home_team": "Boston Celtics", "away_team": "New York Knicks", "bookmakers": [
                {"key": "draftkings", "title": "DraftKings", "last_update": "2026-11-24T22:10:41Z", "markets": [
                    {"key": "h2h", "outcomes": [{"name": "Boston Celtics", "price": -110},
                                                {"name": "New York Knicks", "price": 150}]},
                    {"key": "totals", "outcomes": [{"name": "Over", "price": -108, "point": Decimal("221.5")},
                                                   {"name": "Under", "price": -112, "point": Decimal("221.5")}]},
                ]}]}


RECORDING = [RecordedOdds("basketball_nba", [nba_event("e1", "2026-11-25T00:30:00Z"),
                                             nba_event("e2", "2026-11-27T00:30:00Z")], FETCHED,
                          source="db:scan/42/basketball_nba")]


def test_replays_a_recording_from_a_callable_source_with_live_like_filters():
    calls = []

    def source():  # the shape the storage engineer implements over the database
        calls.append(1)
        return iter(RECORDING)

    provider = ReplayProvider(source)
    assert isinstance(provider, OddsProvider) and provider.sport_keys() == ("basketball_nba",)
    h2h = provider.fetch_quotes("basketball_nba")
    assert {q.market for q in h2h.quotes} == {"h2h"} and len(h2h.quotes) == 4
    assert {(q.provider, q.fetched_at, q.american_odds is not None) for q in h2h.quotes} == {
        ("the_odds_api", FETCHED, True)}
    both = provider.fetch_quotes("basketball_nba", markets=("h2h", "totals"),
                                 commence_time_to=datetime(2026, 11, 26, tzinfo=UTC))
    assert {q.event_id for q in both.quotes} == {"e1"} and len(both.quotes) == 4
    later = provider.fetch_quotes("basketball_nba", commence_time_from=datetime(2026, 11, 26, tzinfo=UTC))
    assert {q.event_id for q in later.quotes} == {"e2"}
    assert calls == [1]  # the source is read once


def test_missing_sport_duplicate_sport_and_naive_time_are_errors():
    with pytest.raises(OddsReplayError, match=r"'soccer_epl'.*recorded: \['basketball_nba'\]"):
        ReplayProvider(lambda: RECORDING).fetch_quotes("soccer_epl")
    with pytest.raises(OddsReplayError, match="recorded twice"):
        ReplayProvider(lambda: RECORDING * 2).sport_keys()
    naive = [RecordedOdds("basketball_nba", [], datetime(2026, 11, 24))]
    with pytest.raises(OddsReplayError, match="no timezone"):
        ReplayProvider(lambda: naive).sport_keys()


def test_problems_of_the_recording_are_reported_with_their_source():
    bad = nba_event("e1", "2026-11-25T00:30:00Z")
    bad["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = 50
    result = ReplayProvider(lambda: [RecordedOdds("basketball_nba", [bad], FETCHED, source="odds.json")]
                            ).fetch_quotes("basketball_nba")
    assert result.quotes == () and str(result.problems[0]).startswith("odds.json:$[0].bookmakers[0].markets[0]")


def test_from_directory_reads_odds_files_with_the_recorded_fetch_time(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"captured_at": "2026-11-24T22:16:00Z",
                                                    "odds_fetched_at": "2026-11-24T22:15:00+00:00"}))
    payload = [nba_event("e1", "2026-11-25T00:30:00Z")]
    (tmp_path / "odds_basketball_nba.json").write_text(dumps_exact(payload))
    provider = ReplayProvider(DirectorySnapshotSource(tmp_path))
    quotes = provider.fetch_quotes("basketball_nba", markets=("totals",)).quotes
    assert {q.fetched_at for q in quotes} == {FETCHED}
    assert {q.point for q in quotes} == {Decimal("221.5")}
    provider.close()
