"""The operator's kill switch from the command line: state shared through the database."""

import pytest

from arb_pipeline import cli
from arb_pipeline.services.operations import breaker_for
from arb_pipeline.settings import Settings, get_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()


def test_trip_from_the_cli_blocks_orders_everywhere_until_reset(settings, capsys):
    assert cli.main(["breaker", "trip", "--reason", "desk says stop", "--who", "ops"]) == 0
    assert "open" in capsys.readouterr().out
    other_process_view = breaker_for(Settings())  # a separate breaker object on the same database
    decision = other_process_view.check_before_order()
    assert not decision.allowed
    assert "desk says stop" in decision.reason
    assert cli.main(["breaker", "reset", "--who", "ops"]) == 0
    out = capsys.readouterr().out
    assert "closed" in out and "open -> closed" in out
    assert breaker_for(Settings()).check_before_order().allowed


def test_status_on_a_fresh_database_is_closed(settings, capsys):
    assert cli.main(["breaker", "status"]) == 0
    assert "closed" in capsys.readouterr().out


def test_status_shows_limits_todays_loss_and_exposure(settings, capsys):
    from datetime import UTC, datetime
    from decimal import Decimal

    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.repositories import PositionRepository

    breaker = breaker_for(settings)
    now = datetime.now(UTC)
    with session_scope(breaker.sessions) as session:
        positions = PositionRepository(session)
        positions.apply_fill(mode="paper", ticker="KXNBAGAME-X-BOS", outcome_side="yes", count=Decimal(100),
                             price=Decimal("0.40"), fee=Decimal("1.68"), at=now)
        positions.apply_fill(mode="paper", ticker="KXNBAGAME-Y-NYK", outcome_side="yes", count=Decimal(10),
                             price=Decimal("0.50"), fee=Decimal("0.18"), at=now)
        positions.settle(mode="paper", ticker="KXNBAGAME-Y-NYK", result="no", at=now)  # lost 5.18 today
    assert cli.main(["breaker", "status"]) == 0
    out = capsys.readouterr().out
    assert "realized today (UTC) -$5.18 (loss $5.18 of the $250.00 limit)" in out
    assert "open exposure $41.68 of the $5,000.00 limit" in out
    assert "3 consecutive order errors" in out and "half-open after 300s" in out
