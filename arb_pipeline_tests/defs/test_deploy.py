"""Deployment files: the Dagster instance templates validate against Dagster's own schema, the SQLite
one actually opens, the workspace loads this code location, docker-compose is well-formed YAML."""

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("template", ["dagster.yaml", "dagster.postgres.yaml"])
def test_instance_templates_validate(tmp_path, monkeypatch, template):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name in ("DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    shutil.copyfile(ROOT / "deploy" / template, tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["concurrency"]["pools"]["default_limit"] == 1


def test_postgres_template_uses_psycopg2():
    config = yaml.safe_load((ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


def test_sqlite_instance_opens_under_dagster_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shutil.copyfile(ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_runs() == []
    assert any(tmp_path.rglob("*.db"))


def test_workspace_loads_the_definitions_module():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]
    assert module["module_name"] == "arb_pipeline.definitions"
    docker = yaml.safe_load((ROOT / "deploy" / "workspace.docker.yaml").read_text())
    assert docker["load_from"][0]["grpc_server"] == {"host": "code", "port": 4000, "location_name": "arb_pipeline"}


def test_docker_compose_is_valid_yaml_with_the_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "code", "webserver", "daemon", "simulator", "api"} <= set(services)
    # defaults that work without a profile: the simulator is the default source, so it runs by default
    assert "profiles" not in services["simulator"]
    assert services["api"]["command"][:2] == ["arb-pipeline", "api"] and "8000:8000" in services["api"]["ports"]
    assert services["api"]["environment"]["ARB_DATA_DIR"] == services["code"]["environment"]["ARB_DATA_DIR"]
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    # the websocket worker: opt-in (profile), same volumes as the code location (its records reach the sensor)
    assert services["worker"]["command"] == ["arb-pipeline", "worker"] and services["worker"]["profiles"] == ["worker"]
    assert services["worker"]["volumes"] == services["code"]["volumes"]
    assert "arb_pipeline.definitions" in services["code"]["command"]
    for name in ("code", "webserver", "daemon"):
        env = services[name]["environment"]
        assert env["DAGSTER_PG_DB"] == "dagster" and env["DATABASE_URL"].startswith("postgresql+psycopg2://")
        assert env["ARB_MODE"] == "${ARB_MODE:-paper}"
    assert (ROOT / "Dockerfile").read_text().count("dagster.postgres.yaml") == 1
