"""`configured_scan` over the default SQLite file: read with `sqlite3`, the same `ScanConfig` as through
SQLAlchemy (the stored overrides and the ledger's bankroll), and without importing SQLAlchemy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import text

from arb_pipeline.services.mappings import configured_scan
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import create_app_engine, session_scope
from arb_pipeline.storage.migrate import upgrade
from arb_pipeline.storage.models import BalanceCheck
from arb_pipeline.storage.repositories.mappings import MappingRepository
from arb_pipeline.storage.repositories.positions import PositionRepository

AT = datetime(2026, 11, 20, 18, 30, 15, 123456, tzinfo=UTC)


def settings_for(data_dir: Path, mode: str = "paper") -> Settings:
    return Settings(_env_file=None, ARB_DATA_DIR=str(data_dir), ARB_BANKROLL="1000", ARB_MODE=mode,
                    ARB_MAPPING_OVERRIDES=str(data_dir / "overrides.yaml"))


@pytest.fixture
def migrated(tmp_path):
    """(settings, engine) of a migrated default SQLite database under a fresh ARB_DATA_DIR."""
    settings = settings_for(tmp_path)
    engine = create_app_engine(settings.effective_database_url)
    upgrade(engine)
    yield settings, engine
    engine.dispose()


def fill_ledger(engine) -> None:
    """Overrides (active and revoked), realized P&L of both modes with mixed exponents, balance checks
    (live ones tied on time: the id decides) - what both readers must agree on."""
    with session_scope(engine) as s:
        repo = MappingRepository(s)
        repo.add_override(kalshi_ticker="KXNBAGAME-A-BOS", action="confirm", who="alice", why="checked",
                          sportsbook_event_id="ev-1", at=AT)
        revoked = repo.add_override(kalshi_ticker="KXNBAGAME-B-NYK", action="reject", who="bob", why="wrong", at=AT)
        repo.add_override(kalshi_ticker="KXNHLGAME-C-TOR", action="override", who="carol", why="alias",
                          sportsbook_event_id="ev-3", outcome="away", at=AT + timedelta(seconds=1))
        repo.add_override(kalshi_ticker="KXEPLGAME-D-ARS", action="reject", who="dan", why="no book", at=AT)
        repo.revoke_override(revoked.id, who="erin", at=AT + timedelta(hours=1))
        positions = PositionRepository(s)
        for amount, mode in ((D("2.04"), "paper"), (D("-0.5"), "paper"), (D("0.000001"), "paper"), (D("7"), "live")):
            positions._ledger(mode, "KXT", "settlement", amount, AT, {"payout": "1"})
        for venue, mode, at in ((D("500.25"), "live", AT), (D("613"), "live", AT + timedelta(minutes=5)),
                                (D("612.5"), "live", AT + timedelta(minutes=5)), (D("9999"), "paper", AT + timedelta(days=1))):
            s.add(BalanceCheck(mode=mode, at=at, venue_balance=venue, ledger_flows=D("0"), difference=venue,
                               matched=True))


def assert_same(fast, slow) -> None:
    assert fast == slow
    assert str(fast.sizing.bankroll) == str(slow.sizing.bankroll)  # the same digits and exponent too
    assert [o.when.tzinfo for o in fast.extra_overrides] == [o.when.tzinfo for o in slow.extra_overrides]


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_the_sqlite3_read_gives_the_scan_config_sqlalchemy_gives(migrated, mode):
    settings, engine = migrated
    settings = settings.model_copy(update={"mode": mode})
    fill_ledger(engine)
    fast, slow = configured_scan(settings), configured_scan(settings, engine=engine)
    assert_same(fast, slow)
    assert [o.kalshi_market for o in fast.extra_overrides] == ["KXNBAGAME-A-BOS", "KXNHLGAME-C-TOR", "KXEPLGAME-D-ARS"]
    assert fast.extra_overrides[0].when == AT
    # paper: 1000 + 2.04 - 0.5 + 0.000001; live: the last live check (same time as 613, later id)
    assert str(fast.sizing.bankroll) == {"paper": "1001.540001", "live": "612.500000"}[mode]


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_an_empty_ledger_gives_the_configured_bankroll_both_ways(migrated, mode):
    settings, engine = migrated
    settings = settings.model_copy(update={"mode": mode})
    fast, slow = configured_scan(settings), configured_scan(settings, engine=engine)
    assert_same(fast, slow)
    assert fast.extra_overrides == () and fast.sizing.bankroll == D("1000")


def test_a_ledger_below_zero_is_refused_the_same_way_both_ways(migrated):
    """The rule floors the bankroll at zero, which sizing refuses: the same error from either reader."""
    settings, engine = migrated
    with session_scope(engine) as s:
        PositionRepository(s)._ledger("paper", "KXT", "settlement", D("-1500.25"), AT, {"payout": "0"})
    errors = []
    for read in (lambda: configured_scan(settings), lambda: configured_scan(settings, engine=engine)):
        with pytest.raises(ValueError) as caught:
            read()
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == "SizingPolicy.bankroll must be a positive Decimal, got Decimal('0')"


def test_a_stored_row_the_resolver_refuses_fails_with_the_same_error_both_ways(migrated):
    settings, engine = migrated
    with session_scope(engine) as s:  # written behind the repository's back: an override without a game
        s.execute(text("INSERT INTO mapping_overrides (kalshi_ticker, action, who, why, created_at, active)"
                       " VALUES ('KXT-1', 'confirm', ' ', 'why', '2026-11-20 18:30:15.000000', 1)"))
    errors = []
    for read in (lambda: configured_scan(settings), lambda: configured_scan(settings, engine=engine)):
        with pytest.raises(Exception) as caught:
            read()
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
    assert "'who' is required" in errors[0][1]


def test_a_database_file_without_the_tables_is_read_as_nothing_stored(tmp_path):
    settings = settings_for(tmp_path)
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    settings.sqlite_path.write_bytes(b"")  # an empty file is an empty SQLite database
    config = configured_scan(settings)
    assert config.extra_overrides == () and config.sizing.bankroll == D("1000")
    assert settings.sqlite_path.read_bytes() == b""  # asked, never migrated or written


def test_no_database_file_is_created_by_asking(tmp_path):
    settings = settings_for(tmp_path)
    assert configured_scan(settings).sizing.bankroll == D("1000")
    assert not settings.sqlite_path.exists()


def test_a_scan_config_read_from_the_sqlite_file_imports_no_sqlalchemy(migrated):
    """The point of the sqlite3 reader: a scan with the demo's database present stays light."""
    settings, engine = migrated
    fill_ledger(engine)
    program = ("import json, sys\n"
               "from arb_pipeline.services.mappings import configured_scan\n"
               "from arb_pipeline.settings import Settings\n"
               "c = configured_scan(Settings(_env_file=None))\n"
               "print(json.dumps([str(c.sizing.bankroll), len(c.extra_overrides),"
               " sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'"
               " or m in ('arb_pipeline.services.ledger', 'arb_pipeline.storage.models'))]))")
    env = {**os.environ, "ARB_DATA_DIR": str(settings.data_dir), "ARB_BANKROLL": "1000", "ARB_MODE": "paper",
           "ARB_MAPPING_OVERRIDES": str(settings.data_dir / "overrides.yaml")}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["1001.540001", 3, []]
