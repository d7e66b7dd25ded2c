"""Data flows through the graph: each stage takes its upstream value, handed over by the IO manager
the run's environment chooses (`defs/shared/io.py`): in memory for the in-process scan job, pickled
to disk for a multiprocess run of the scan graph and for the history replays.

Every test that touches the database runs on SQLite and PostgreSQL (`db_url`, this folder's conftest).
"""

import os
import pickle
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import func, select

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.defs.opportunities.assets import arb_opportunities
from arb_pipeline.defs.pricing.assets import implied_probabilities
from arb_pipeline.defs.resolve.assets import resolved_events
from arb_pipeline.defs.runner import build_resources, run_scan_graph_multiprocess, run_scan_job
from arb_pipeline.defs.shared.io import RUNS_DIR, prune_run_outputs
from arb_pipeline.services import frames, stages
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.settings import get_settings
from arb_pipeline.storage.models import Order

STAGES = ("kalshi_markets", "sportsbook_odds", "resolved_events", "implied_probabilities", "arb_opportunities")


@pytest.fixture
def env(db_url, engine, tmp_path, monkeypatch):  # `engine` empties every table first
    values = {"DATABASE_URL": db_url, "ARB_MARKET_SOURCE": "recorded", "ARB_SNAPSHOT_DIR": str(SAMPLE_SNAPSHOT_DIR),
              "ARB_DATA_DIR": str(tmp_path / "data"), "ARB_IO_DIR": str(tmp_path / "io"), "ARB_MODE": "paper"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _opportunity_ids(detection) -> list[str]:
    return sorted(frames.opportunity_id(o) for o in detection.opportunities)


def _expected_ids() -> list[str]:
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    return _opportunity_ids(scan(snapshot, ScanConfig.from_settings(get_settings()), snapshot.captured_at).detection)


def test_a_multiprocess_scan_run_pickles_every_stage_value_and_trades_exactly_once(env, tmp_path, db_url):
    if not db_url.startswith("sqlite"):  # ~15 step processes: once is enough; the DB is not what is tested
        pytest.skip("the multiprocess IO path is database-independent; run on SQLite only")
    with dg.instance_for_test() as instance:
        run = run_scan_graph_multiprocess(instance)
    assert run.success, run.error
    assert set(STAGES) | {"executed_orders"} <= set(run.materialized)
    assert run.failed_checks == ()
    sent = run.metadata["executed_orders"]["orders_sent"]
    assert sent > 0
    database = build_resources(database_url=db_url, source="recorded")["database"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == sent

    # every stage's value crossed a process boundary as a pickle under ARB_IO_DIR, scoped to the run
    run_dir = tmp_path / "io" / RUNS_DIR / run.run_id
    assert {p.stem for p in run_dir.glob("*.pkl")} >= set(STAGES)
    with (run_dir / "arb_opportunities.pkl").open("rb") as file:
        detected = pickle.load(file)
    assert isinstance(detected, stages.DetectedStage)
    assert detected.snapshot_id == run.metadata["kalshi_markets"]["snapshot_id"]
    # the same detection as `services.scan.scan` over the same snapshot: one implementation
    assert _opportunity_ids(detected.detection) == _expected_ids() != []
    assert sorted(detected.frame["opportunity_id"]) == _opportunity_ids(detected.detection)


def test_the_in_process_scan_job_keeps_values_in_memory(env, tmp_path, db_url):
    resources = build_resources(database_url=db_url, source="recorded", snapshot_dir=str(SAMPLE_SNAPSHOT_DIR))
    run = run_scan_job(resources)
    assert run.success, run.error
    assert not (tmp_path / "io").exists()  # nothing pickled: one process, values in memory


def _output(events) -> object:
    """A stage asset's value, from what its step yields: the Output, then its checks' results (all passed)."""
    output, *checks = list(events)
    assert isinstance(output, dg.Output) and checks and all(isinstance(c, dg.AssetCheckResult) for c in checks)
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    return output.value


def test_each_stage_computes_on_its_upstream_value_not_on_a_stored_snapshot(env, db_url):
    """Snapshot 424242 was never stored: the stages can only have used what they were handed."""
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    markets, odds = stages.captured(snapshot, 424242)
    resources = build_resources(database_url=db_url, source="recorded")
    with dg.build_asset_context(resources={k: resources[k] for k in ("database", "scan_config")}) as context:
        resolved = _output(resolved_events(context, kalshi_markets=markets, sportsbook_odds=odds))
        priced = _output(implied_probabilities(context, resolved_events=resolved))
        detected = _output(arb_opportunities(context, implied_probabilities=priced))
    assert isinstance(resolved, stages.ResolvedStage) and resolved.snapshot is snapshot
    assert resolved.snapshot_id == 424242 and set(resolved.frame["snapshot_id"]) == {424242}
    assert priced.resolution is resolved.resolution  # handed on, not recomputed
    assert _opportunity_ids(detected.detection) == _expected_ids()


def test_a_stage_refuses_inputs_from_two_captures(env, db_url):
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    markets, _ = stages.captured(snapshot, 1)
    _, odds = stages.captured(snapshot, 2)
    resources = build_resources(database_url=db_url, source="recorded")
    with (dg.build_asset_context(resources={k: resources[k] for k in ("database", "scan_config")}) as context,
          pytest.raises(dg.Failure, match="snapshot 1 but sportsbook_odds is snapshot 2")):
        list(resolved_events(context, kalshi_markets=markets, sportsbook_odds=odds))


def test_run_output_directories_age_out(tmp_path):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    runs = tmp_path / RUNS_DIR
    for name, age in (("old-run", timedelta(days=3)), ("new-run", timedelta(hours=1))):
        (runs / name).mkdir(parents=True)
        (runs / name / "arb_opportunities.pkl").write_bytes(b"x")
        stamp = (now - age).timestamp()
        os.utime(runs / name, (stamp, stamp))
    assert prune_run_outputs(str(tmp_path), now - timedelta(days=2)) == 1
    assert sorted(p.name for p in runs.iterdir()) == ["new-run"]
    assert prune_run_outputs(str(tmp_path / "nowhere"), now) == 0
