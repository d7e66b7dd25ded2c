"""DESIGN.md's money rules, each proven once here at the seam where breaking it would cost money.

Every rule also has deeper tests next to the code that implements it:
1. exact prices, fees rounded up — arb/test_fees.py, arb/test_money.py, storage/test_types.py
2. sized against the book it will hit — arb/test_book.py, arb/test_confirm.py
3. deterministic client_order_id, intent before send — execution/test_ids.py, services/test_execute.py
4. backfills never place orders — defs/test_gate.py, defs/test_scan_job.py, services/test_execute.py
5. paper by default, live only on purpose — execution/test_live.py, services/test_execute.py
6. breaker before every order, state in the database — execution/test_breaker.py, services/test_operations.py
7. secrets never logged — connectors/kalshi/test_signing.py, services/test_alerts.py, sportsbooks tests
"""

import logging
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from arb_pipeline.arb.fees import kalshi_fee
from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.domain import Outcome
from arb_pipeline.execution.breaker import BreakerConfig, CircuitBreaker
from arb_pipeline.execution.ids import client_order_id, opportunity_id, opportunity_key
from arb_pipeline.execution.live import LiveModeNotEnabled, require_live
from arb_pipeline.services.execute import ExecutionContext, execute_opportunities
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import create_app_engine, session_factory, session_scope
from arb_pipeline.storage.migrate import upgrade
from arb_pipeline.storage.models import Order

AS_OF = datetime(2026, 11, 24, 17, 0, 5, tzinfo=UTC)
PAPER = ExecutionContext(mode="paper", allow_orders=True, is_backfill=False, as_of=AS_OF)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    snapshot = load_snapshot(SAMPLE_SNAPSHOT_DIR)
    config = ScanConfig(overrides_path=tmp_path_factory.mktemp("ov") / "none.yaml")
    return snapshot, scan(snapshot, config, AS_OF)


@pytest.fixture
def db(tmp_path):
    engine = create_app_engine(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    upgrade(engine)
    return session_factory(engine)


@pytest.fixture
def settings(tmp_path):
    return Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path))


def arbitrages(result):
    return [o for o in result.detection.opportunities if o.kind == "arbitrage"]


def orders(db):
    with session_scope(db) as session:
        return session.scalars(select(Order)).all()


def run(sample, db, settings, context=PAPER, breaker=None, alerts=None):
    snapshot, result = sample
    alerts = [] if alerts is None else alerts
    return execute_opportunities(
        arbitrages(result), context=context, snapshot=snapshot, sessions=db, settings=settings,
        breaker=breaker or CircuitBreaker(db, BreakerConfig(), alert=lambda *a: alerts.append(a), clock=lambda: AS_OF),
        alert=lambda *a: alerts.append(a),
    )


def test_rule_1_prices_and_fees_are_exact_and_rounded_up(sample):
    # the reference's float traps: binary floats give 1.76, 0.64 and 1.48 here
    assert kalshi_fee(100, Decimal("0.50")) == Decimal("1.75")
    assert kalshi_fee(100, Decimal("0.10")) == Decimal("0.63")
    assert kalshi_fee(100, Decimal("0.70")) == Decimal("1.47")
    assert kalshi_fee(1, Decimal("0.50")) == Decimal("0.02")  # 0.0175 is charged as 2 cents: rounded up
    for opp in sample[1].detection.opportunities:
        for value in (opp.cost, opp.profit, *(x for leg in opp.legs for x in (leg.price, leg.size, leg.fee))):
            assert isinstance(value, Decimal)
        for leg in opp.legs:
            if leg.venue == "kalshi":
                exact = Decimal("0.07") * leg.size * leg.price * (1 - leg.price)
                assert leg.fee >= exact and leg.fee - exact < Decimal("0.01") + Decimal("0.0001") * len(leg.levels)


def test_rule_2_an_arbitrage_is_sized_on_the_depth_it_will_hit(sample):
    snapshot, result = sample
    for opp in arbitrages(result):
        for leg in (x for x in opp.legs if x.venue == "kalshi"):
            # the reported price is what walking the captured book costs for the reported size
            filled = sum((count for _, count in leg.levels), Decimal(0))
            assert filled == leg.size
            notional = sum((price * count for price, count in leg.levels), Decimal(0))
            assert leg.cost == notional + leg.fee
            book = snapshot.orderbooks[leg.market]
            bids = book.no if leg.side == "yes" else book.yes  # a YES ask is 1 − a NO bid
            available = {1 - price: count for price, count in bids}
            for price, count in leg.levels:
                assert count <= available[price]


def test_rule_3_orders_have_deterministic_ids_and_are_never_placed_twice(sample, db, settings):
    first = run(sample, db, settings)
    assert first.orders_sent >= 1
    placed = orders(db)
    opp = arbitrages(sample[1])[0]
    kalshi_legs = [i for i, leg in enumerate(opp.legs) if leg.venue == "kalshi"]
    # derived from the opportunity's own terms (event, legs, sizes, detection-time bucket), nothing random
    key = opportunity_key(opp.kind, opp.event, [(leg.venue, leg.market, leg.outcome.value, leg.side, leg.size)
                                                for leg in opp.legs], opp.detected_at)
    expected = {client_order_id(opportunity_id(key), i) for i in kalshi_legs}
    assert expected <= {o.client_order_id for o in placed}
    again = run(sample, db, settings)  # a retry, a restart, the next scan: same opportunity
    assert again.orders_sent == 0
    assert len(orders(db)) == len(placed)


def test_rule_4_a_backfill_never_places_an_order(sample, db, settings):
    report = run(sample, db, settings, context=replace(PAPER, is_backfill=True))
    assert report.refused and "backfill" in report.refused
    assert orders(db) == []


def test_rule_5_paper_is_the_default_and_live_needs_setting_and_credentials(sample, db, tmp_path, monkeypatch):
    for name in ("ARB_MODE", "KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH", "KALSHI_PRIVATE_KEY_PEM"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings(_env_file=None)
    assert defaults.mode == "paper"
    with pytest.raises(LiveModeNotEnabled):
        require_live(Settings(_env_file=None, ARB_MODE="live"))  # the setting alone is not enough
    report = run(sample, db, Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path)), context=replace(PAPER, mode="live"))
    assert report.refused and orders(db) == []


def test_rule_6_the_breaker_in_the_database_stops_every_process(sample, db, settings, tmp_path):
    operator_view = CircuitBreaker(db, BreakerConfig(), clock=lambda: AS_OF)
    operator_view.trip("desk halt", "ops")
    # another process: a new engine on the same database file
    other = session_factory(create_app_engine(f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    report = run(sample, other, settings, breaker=CircuitBreaker(other, BreakerConfig(), clock=lambda: AS_OF))
    assert report.orders_sent == 0
    assert any("desk halt" in str(s) for s in report.skipped)
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.status == "sent")) == 0


def test_rule_7_secrets_never_reach_reprs_logs_or_errors(caplog, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from arb_pipeline.connectors.kalshi.client import KalshiClient
    from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    secrets = {"KALSHI_API_KEY_ID": "kid-5f0c2b4d7e9f", "KALSHI_PRIVATE_KEY_PEM": pem,
               "ODDS_API_KEY": "0123456789abcdef0123456789abcdef",
               "ARB_ALERT_WEBHOOK_URL": "https://hooks.example/T000/B000/s3cr3t", "ARB_SMTP_PASSWORD": "hunter2"}
    settings = Settings(_env_file=None, ARB_DATA_DIR=str(tmp_path), KALSHI_BASE_URL="http://127.0.0.1:9/trade-api/v2",
                        ODDS_API_BASE_URL="http://127.0.0.1:9", **secrets)
    caplog.set_level(logging.DEBUG)
    shown = [repr(settings), str(settings)]
    with KalshiClient.from_settings(settings, max_retries=0) as client:
        shown.append(repr(client))
        try:
            client.get_balance()  # nothing listens on port 9: the error must not carry a secret
        except Exception as exc:  # noqa: BLE001 - whatever it raises, it must be clean
            shown.append(repr(exc) + str(exc))
    odds = TheOddsApiProvider.from_settings(settings, max_attempts=1)
    shown.append(repr(odds))
    try:
        odds.fetch_odds("basketball_nba")
    except Exception as exc:  # noqa: BLE001
        shown.append(repr(exc) + str(exc))
    finally:
        odds.close()
    text = "\n".join(shown + [r.getMessage() for r in caplog.records])
    for name, value in secrets.items():
        probe = value.splitlines()[1] if "PRIVATE KEY" in value else value
        assert probe not in text, f"{name} leaked"
    assert Outcome.HOME  # the domain module stays importable alongside the connectors (no side effects)
