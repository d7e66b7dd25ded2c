"""The application database for the Dagster end-to-end tests, on SQLite and on PostgreSQL.

The fixtures are `storage/db_fixtures.py`'s: `db_url` (session scope, parametrized sqlite/postgresql;
PostgreSQL gets its own fresh schema `arb_test_<random>` for this folder, dropped at the end, and is
skipped with the reason when DATABASE_URL_TEST / 127.0.0.1:5432 does not answer) and `engine` (every
table emptied before the test).
"""

from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403
