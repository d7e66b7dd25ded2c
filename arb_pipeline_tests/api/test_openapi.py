"""The API against its own OpenAPI schema (schemathesis): no input makes it answer 5xx, and every
response conforms to the schema (status codes, content types, bodies, auth) — on SQLite and
PostgreSQL, on a database seeded like a live scan, with the operator token (so the act routes are
exercised for real) and without it (the guard must refuse, never crash).

Act routes write: decisions go to the test's temporary overrides file and database, never to the
repository's mapping_overrides.yaml.

Why a loop instead of `schemathesis.pytest.from_fixture`: with pytest 9 it fails at collection
(`'Function' object has no attribute '_nodeid'`, schemathesis 4.32); the loop runs the same
strategies and checks through schemathesis' public API, one Hypothesis test per operation.
"""

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from arb_pipeline.api.app import create_app
from arb_pipeline_tests.api.conftest import NOW, TOKEN

# per operation, database and token case; ARB_SCHEMATHESIS_EXAMPLES=300 for a deeper search
EXAMPLES = int(os.environ.get("ARB_SCHEMATHESIS_EXAMPLES") or 25)


def fuzz(app, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=headers)

        check()
        tested.append(operation.label)
    return tested


def test_with_the_token_nothing_fails_and_everything_conforms(app, seeded):
    tested = fuzz(app, {"Authorization": f"Bearer {TOKEN}"})
    assert {"GET /api/opportunities", "POST /api/breaker/trip", "POST /api/mappings/{market}/override",
            "GET /api/pnl", "POST /api/hedges/{hedge_id}/placed", "POST /api/hedges/{hedge_id}/abandon"} <= set(tested)
    assert len(tested) == 19  # 12 read + 7 act routes


def test_without_a_token_configured_nothing_fails_either(make_settings, engine, seeded):
    read_only = create_app(make_settings(), clock=lambda: NOW)
    with TestClient(read_only):
        fuzz(read_only, {})


@pytest.fixture
def seeded_only(app, seeded):
    return app
