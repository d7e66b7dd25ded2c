"""The standard-library reads of the SQLite file: they never create a database, and a stored value they
cannot read is an error naming the column. (That they return what the repositories return is checked
in `services/test_mappings.py`, where the scan configuration is read both ways.)"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline.storage import sqlite_read
from arb_pipeline.storage.values import money_from_stored, utc_from_sqlite_text


def test_a_missing_file_is_an_error_and_is_not_created(tmp_path):
    path = tmp_path / "none.sqlite3"
    with pytest.raises(sqlite3.OperationalError), sqlite_read.connect_existing(path):
        pass
    assert not path.exists()


def test_the_stored_time_format_reads_back_as_aware_utc():
    assert utc_from_sqlite_text("2026-11-20 18:30:15.123456", where="t.c") == datetime(
        2026, 11, 20, 18, 30, 15, 123456, tzinfo=UTC)
    assert utc_from_sqlite_text("2026-11-20 18:30:15", where="t.c") == datetime(2026, 11, 20, 18, 30, 15, tzinfo=UTC)
    assert utc_from_sqlite_text(None, where="t.c") is None


def test_a_stored_time_that_is_not_one_names_the_column():
    with pytest.raises(ValueError, match=r"^mapping_overrides.created_at: not a stored time: 'yesterday'$"):
        utc_from_sqlite_text("yesterday", where="mapping_overrides.created_at")


def test_money_text_reads_back_with_six_decimals():
    assert str(money_from_stored("2.04")) == "2.040000"
    assert str(money_from_stored("-0.000001")) == "-0.000001"
    assert money_from_stored(None) is None
    assert money_from_stored(Decimal("1.5")) == Decimal("1.500000")


def test_tables_and_rows_of_a_plain_sqlite_file(tmp_path):
    path = tmp_path / "a.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE balance_checks (id INTEGER PRIMARY KEY, mode TEXT, at TEXT, venue_balance TEXT)")
        db.executemany("INSERT INTO balance_checks (mode, at, venue_balance) VALUES (?, ?, ?)",
                       [("live", "2026-11-20 10:00:00.000000", "5.000000"),
                        ("live", "2026-11-20 09:00:00.000000", "7.000000"),
                        ("paper", "2026-11-21 09:00:00.000000", "9.000000")])
    with sqlite_read.connect_existing(path) as connection:
        assert sqlite_read.has_table(connection, "balance_checks")
        assert not sqlite_read.has_table(connection, "mapping_overrides")
        assert sqlite_read.last_venue_balance(connection, "live") == Decimal("5")  # the latest, not the last row
        assert sqlite_read.last_venue_balance(connection, "nobody") is None
