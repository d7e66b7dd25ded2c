"""Persistence: SQLAlchemy 2.x models, repositories and Alembic migrations (SQLite or PostgreSQL).

Entry points: `db.get_engine` / `db.session_scope`, `migrate.upgrade`, `repositories.*`,
`replay.SnapshotSource`.
"""
