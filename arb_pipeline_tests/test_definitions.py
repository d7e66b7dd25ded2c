"""The shape of the Dagster definitions, written out literally: dropping an asset, a dependency, a
check (or making a blocking check non-blocking), a sensor, a schedule, a job or a resource fails here."""

import os

import dagster as dg
import pytest

from arb_pipeline.definitions import defs

EXPECTED_ASSETS = {
    # asset key: (group, upstream asset keys)
    "kalshi_markets": ("ingest", set()),
    "sportsbook_odds": ("ingest", set()),
    "resolved_events": ("resolve", {"kalshi_markets", "sportsbook_odds"}),
    "implied_probabilities": ("pricing", {"resolved_events"}),
    "arb_opportunities": ("opportunities", {"implied_probabilities"}),
    "executed_orders": ("execution", {"arb_opportunities"}),
    "reconciliation": ("execution", {"executed_orders"}),
    "positions": ("positions", {"reconciliation"}),
    "pnl": ("positions", {"positions"}),
    "kalshi_ws_worker": ("execution", set()),  # external: the websocket worker process
    "history_resolved_events": ("history", set()),
    "history_implied_probabilities": ("history", {"history_resolved_events"}),
    "history_opportunities": ("history", {"history_implied_probabilities"}),
}

EXPECTED_CHECKS = {
    # (asset, check): (severity, blocking)
    ("kalshi_markets", "kalshi_markets_schema"): ("ERROR", True),
    ("kalshi_markets", "kalshi_books_fresh"): ("WARN", False),
    ("sportsbook_odds", "sportsbook_odds_schema"): ("ERROR", True),
    ("sportsbook_odds", "sportsbook_quotes_fresh"): ("WARN", False),
    ("resolved_events", "resolved_events_schema"): ("ERROR", True),
    ("resolved_events", "resolved_events_coverage"): ("WARN", False),
    ("implied_probabilities", "implied_probabilities_schema"): ("ERROR", True),
    ("implied_probabilities", "implied_probabilities_overround_band"): ("WARN", False),
    ("arb_opportunities", "arb_opportunities_schema"): ("ERROR", True),
    ("arb_opportunities", "arb_opportunities_edge_sane"): ("WARN", False),
    ("executed_orders", "executed_orders_schema"): ("ERROR", True),
    # both legs: exposure the ledger cannot vouch for, a leg left one-sided after its hedge expired
    ("positions", "positions_reconciled"): ("ERROR", False),
    ("positions", "no_expired_unhedged_leg"): ("ERROR", False),
    ("kalshi_ws_worker", "kalshi_ws_worker_alive"): ("WARN", False),  # the worker's freshness
    ("history_resolved_events", "history_resolved_events_schema"): ("ERROR", True),
    ("history_implied_probabilities", "history_implied_probabilities_schema"): ("ERROR", True),
    ("history_opportunities", "history_opportunities_schema"): ("ERROR", True),
    # Great Expectations data-quality reports over the daily history: WARN, never blocking
    ("history_resolved_events", "odds_coverage_per_league"): ("WARN", False),
    ("history_implied_probabilities", "overround_band_per_book"): ("WARN", False),
    ("history_implied_probabilities", "quote_age_distribution"): ("WARN", False),
    ("history_implied_probabilities", "yes_no_orientation"): ("WARN", False),
    ("history_implied_probabilities", "kalshi_consensus_divergence"): ("WARN", False),
}

EXPECTED_JOBS = {"scan_job", "reconcile_job", "history_replay_job", "prune_runs_job"}
EXPECTED_SCAN_JOB_ASSETS = {"kalshi_markets", "sportsbook_odds", "resolved_events", "implied_probabilities",
                            "arb_opportunities", "executed_orders"}
EXPECTED_SENSORS = {"scan_sensor": "scan_job", "check_failure_alerts": None, "run_failure_alerts": None,
                    "worker_records": None}
EXPECTED_SCHEDULES = {"reconcile_schedule": ("reconcile_job", "*/5 * * * *"),
                      "prune_runs_schedule": ("prune_runs_job", "17 * * * *")}
EXPECTED_RESOURCES = {
    "alerts": "AlertsResource",
    "circuit_breaker": "CircuitBreakerResource",
    "database": "AppDatabaseResource",
    "execution": "ExecutionResource",
    "io_manager": "StageIOManager",
    "market_data": "MarketDataResource",
    "scan_config": "ScanConfigResource",
    "snapshot_store": "SnapshotStoreResource",
}
HISTORY_ASSETS = {"history_resolved_events", "history_implied_probabilities", "history_opportunities"}


@pytest.fixture(scope="module")
def repo():
    defs.validate_loadable(defs)
    return defs.get_repository_def()


def _user(key: dg.AssetKey) -> str:
    return key.to_user_string()


def test_asset_keys_groups_and_lineage(repo):
    graph = repo.asset_graph
    actual = {
        _user(key): (graph.get(key).group_name, {_user(p) for p in graph.get(key).parent_keys})
        for key in graph.get_all_asset_keys()
    }
    assert actual == EXPECTED_ASSETS


def test_every_asset_has_a_description_and_kinds(repo):
    graph = repo.asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{_user(key)} has no description"
        assert node.kinds, f"{_user(key)} has no kinds"


def test_checks_severity_and_blocking(repo):
    actual = {}
    for assets_def in repo.asset_graph.assets_defs:
        for spec in assets_def.check_specs:
            actual[(_user(spec.asset_key), spec.name)] = (spec.metadata["severity"], spec.blocking)
    assert actual == EXPECTED_CHECKS


def test_every_stage_has_a_blocking_error_contract(repo):
    blocking = {asset for (asset, _), (sev, block) in EXPECTED_CHECKS.items() if sev == "ERROR" and block}
    # reconciliation, positions and pnl read the database, not a frame: no pandera contract to enforce
    assert blocking == set(EXPECTED_ASSETS) - {"reconciliation", "positions", "pnl", "kalshi_ws_worker"}


def test_jobs(repo):
    names = {job.name for job in repo.get_all_jobs() if not job.name.startswith("__")}
    assert names == EXPECTED_JOBS
    scan = repo.get_job("scan_job")
    assert scan.executor_def.name == "in_process"
    assert {_user(k) for k in scan.asset_layer.selected_asset_keys} == EXPECTED_SCAN_JOB_ASSETS
    reconcile = repo.get_job("reconcile_job")
    assert {_user(k) for k in reconcile.asset_layer.selected_asset_keys} == {"reconciliation", "positions", "pnl"}
    history = repo.get_job("history_replay_job")
    assert {_user(k) for k in history.asset_layer.selected_asset_keys} == HISTORY_ASSETS


def test_in_process_jobs_keep_values_in_memory_and_the_others_pickle_them(repo):
    # defs/shared/io.py chooses the IO manager from this tag: the one place that decides
    assert repo.get_job("scan_job").tags["arb/io_manager"] == "memory"
    assert repo.get_job("reconcile_job").tags["arb/io_manager"] == "memory"
    assert repo.get_job("reconcile_job").executor_def.name == "in_process"
    assert "arb/io_manager" not in repo.get_job("history_replay_job").tags
    assert repo.get_job("history_replay_job").executor_def.name == "multi_or_in_process_executor"


def test_scan_job_runs_the_stage_checks(repo):
    scan = repo.get_job("scan_job")
    checks = {(_user(k.asset_key), k.name) for k in scan.asset_layer.asset_graph.asset_check_keys
              if _user(k.asset_key) in EXPECTED_SCAN_JOB_ASSETS}
    assert checks == {key for key in EXPECTED_CHECKS if key[0] in EXPECTED_SCAN_JOB_ASSETS}


def test_scan_job_evaluates_its_checks_inside_the_asset_steps(repo):
    # one step per stage: a separate check step cost the run ~0.1 s (issue #11); history keeps its check steps
    scan = repo.get_job("scan_job")
    assert {node.name for node in scan.graph.nodes} == {
        "capture_market_snapshot", "resolved_events", "implied_probabilities", "arb_opportunities", "executed_orders"}
    history = repo.get_job("history_replay_job")
    assert len(history.graph.nodes) > len(HISTORY_ASSETS)


def test_sensors_and_schedules(repo):
    sensors = {s.name: (s.job_name if s.has_jobs else None) for s in repo.sensor_defs}
    assert sensors == EXPECTED_SENSORS
    schedules = {s.name: (s.job_name, s.cron_schedule) for s in repo.schedule_defs}
    assert schedules == EXPECTED_SCHEDULES


def test_scan_sensor_interval_defaults_to_ten_seconds(repo):
    sensor = repo.get_sensor_def("scan_sensor")
    assert "every 10s" in sensor.description and sensor.minimum_interval_seconds == 2  # evaluated each 10/4 s


def test_resources(repo):
    resources = {key: type(value).__name__ for key, value in (defs.resources or {}).items()}
    assert resources == EXPECTED_RESOURCES
    assert set(repo.get_top_level_resources()) >= set(EXPECTED_RESOURCES)


@pytest.mark.skipif(bool({"ARB_MODE", "ARB_MARKET_SOURCE"} & set(os.environ)), reason="env overrides defaults")
def test_resources_default_to_a_safe_local_setup():
    resources = defs.resources or {}
    assert resources["execution"].mode == "paper"
    assert resources["market_data"].source == "simulator"
    assert resources["market_data"].read_timeout_s > 0 and resources["market_data"].max_retries >= 0


def test_execution_is_pooled_and_conditional(repo):
    node = repo.asset_graph.assets_def_for_key(dg.AssetKey("executed_orders"))
    assert node.op.pool == "kalshi_orders"
    assert not node.op.outs["result"].is_required


def test_history_is_daily_partitioned_and_never_touches_execution(repo):
    graph = repo.asset_graph
    for name in HISTORY_ASSETS:
        node = graph.get(dg.AssetKey(name))
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
        upstream = {_user(k) for k in graph.upstream_key_iterator(dg.AssetKey(name))}
        downstream = {_user(k) for k in graph.get(dg.AssetKey(name)).child_keys}
        assert not (upstream | downstream) & {"executed_orders", "arb_opportunities", "reconciliation"}
    for name in set(EXPECTED_ASSETS) - HISTORY_ASSETS:
        assert graph.get(dg.AssetKey(name)).partitions_def is None


def test_stage_outputs_carry_pandera_dagster_types(repo):
    expected = {
        # the scan stages hand typed values downstream (services/stages.py): frame + domain records
        "kalshi_markets": "CapturedMarkets[KalshiMarketsFrame]",
        "sportsbook_odds": "CapturedOdds[SportsbookOddsFrame]",
        "resolved_events": "ResolvedStage[ResolvedEventsFrame]",
        "implied_probabilities": "PricedStage[ImpliedProbabilitiesFrame]",
        "arb_opportunities": "DetectedStage[OpportunitiesFrame]",
        "executed_orders": "ExecutedOrdersFrame",
        "history_resolved_events": "HistoryResolvedEventsFrame",
        "history_implied_probabilities": "HistoryImpliedProbabilitiesFrame",
        "history_opportunities": "HistoryOpportunitiesFrame",
    }
    actual = {}
    for name in expected:
        assets_def = repo.asset_graph.assets_def_for_key(dg.AssetKey(name))
        output_name = assets_def.get_output_name_for_asset_key(dg.AssetKey(name))
        actual[name] = assets_def.op.output_def_named(output_name).dagster_type.display_name
    assert actual == expected


def test_the_module_loads_as_a_code_location():
    """What `dagster dev -w workspace.yaml` does: exactly one Definitions object at module scope."""
    from dagster._core.workspace.autodiscovery import loadable_targets_from_loaded_module

    import arb_pipeline.definitions as module

    targets = loadable_targets_from_loaded_module(module)
    assert [t.attribute for t in targets] == ["defs"]


def test_loads_and_runs_with_every_variable_bound_to_an_env_var(tmp_path):
    """With the variables set, resource fields become EnvVars: the location must still load (a
    Literal-typed field, for one, fails validation with the variable's *name*) and a scan run must
    resolve them (here: the recorded sample into the database named by DATABASE_URL)."""
    import subprocess
    import sys

    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

    env = {
        **os.environ,
        "ARB_MARKET_SOURCE": "recorded",
        "ARB_SNAPSHOT_DIR": str(SAMPLE_SNAPSHOT_DIR),
        "ARB_MODE": "paper",
        "ARB_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.sqlite3'}",
        "ARB_DEVIG_METHOD": "multiplicative",
        "ARB_MIN_BOOKS": "2",
        "KALSHI_MAX_RETRIES": "2",
        "ARB_SCAN_INTERVAL_S": "15",
    }
    code = (
        "import dagster as dg\n"
        "from arb_pipeline.definitions import defs\n"
        "repo = defs.get_repository_def()\n"
        "print(repo.get_sensor_def('scan_sensor').description.split('every ')[1].split('s ')[0])\n"
        "result = defs.resolve_job_def('scan_job').execute_in_process(\n"
        "    instance=dg.DagsterInstance.ephemeral(), tags={'arb/launched_by': 'scan_sensor'})\n"
        "md = result.asset_materializations_for_node('capture_market_snapshot')[0].metadata\n"
        "print(md['source'].value, result.success)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-2] == "15"
    assert lines[-1] == f"recorded:{SAMPLE_SNAPSHOT_DIR} True"
    assert (tmp_path / "env.sqlite3").exists()


def test_stage_assets_show_their_columns_in_the_ui(repo):
    for name in ("kalshi_markets", "arb_opportunities", "executed_orders", "history_opportunities"):
        spec_metadata = repo.asset_graph.get(dg.AssetKey(name)).metadata
        columns = {c.name for c in spec_metadata["dagster/column_schema"].columns}
        assert "record" not in columns and len(columns) >= 10
