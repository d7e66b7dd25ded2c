"""Database fixtures for this folder (defined in `db_fixtures`, shared with other test folders)."""

from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403
