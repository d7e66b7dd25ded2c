from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from arb_pipeline.connectors.snapshot import write_snapshot
from arb_pipeline.services.market_history import rebuild
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.replay import SnapshotSource
from arb_pipeline.storage.repositories import SnapshotRepository

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ODDS = ('[{"id":"e1","sport_key":"basketball_nba","sport_title":"NBA","commence_time":"2026-11-25T00:00:00Z",'
        '"home_team":"New York Knicks","away_team":"Boston Celtics","bookmakers":[{"key":"pinnacle","title":"Pinnacle",'
        '"last_update":"2026-11-24T16:59:00Z","markets":[{"key":"h2h","last_update":"2026-11-24T16:59:00Z",'
        '"outcomes":[{"name":"New York Knicks","price":1.10},{"name":"Boston Celtics","price":7.123456789012345678}]}]}]}]')


def _capture(directory: Path, at: datetime) -> Path:
    out = write_snapshot(directory, events_payload={"events": [], "milestones": [], "cursor": ""},
                         orderbooks_payload={"orderbooks": []}, odds_payloads={"basketball_nba": []},
                         meta={"captured_at": at, "source": "simulator"})
    (out / "odds_basketball_nba.json").write_text(ODDS)  # the provider's text, with a long decimal
    return out


def test_replay_rebuilds_market_snapshots_exactly_in_time_order(session_factory, tmp_path):
    with session_scope(session_factory) as s:
        repo = SnapshotRepository(s)
        for i in (2, 0, 1, 5):
            repo.append_directory(_capture(tmp_path / f"s{i}", T0 + timedelta(hours=i)), stored_at=T0)
    replayed = list(SnapshotSource(session_factory, T0, T0 + timedelta(hours=3), parser=rebuild, batch=2))
    assert [snap.captured_at for snap in replayed] == [T0 + timedelta(hours=i) for i in range(3)]
    quotes = {q.outcome: q.decimal_odds for q in replayed[0].quotes}
    assert quotes == {"home": Decimal("1.10"), "away": Decimal("7.123456789012345678")}
    assert replayed[0].source == "simulator"


def test_replay_without_meta_uses_the_stored_capture_time(session_factory, tmp_path):
    with session_scope(session_factory) as s:
        SnapshotRepository(s).append(captured_at=T0, source="sim", stored_at=T0, books_captured_at=T0 - timedelta(seconds=2),
                                     payloads={"kalshi_events.json": '{"events": [], "cursor": ""}',
                                               "kalshi_orderbooks.json": '{"orderbooks": []}',
                                               "odds_basketball_nba.json": ODDS})
    (snap,) = SnapshotSource(session_factory, T0, T0 + timedelta(seconds=1), parser=rebuild)
    assert snap.captured_at == T0 and snap.books_captured_at == T0 - timedelta(seconds=2)
    assert len(snap.quotes) == 2
