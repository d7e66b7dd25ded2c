"""Alembic migrations of the application database (run through `storage.migrate.upgrade`)."""
