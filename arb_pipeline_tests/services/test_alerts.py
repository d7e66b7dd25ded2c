import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from arb_pipeline.services.alerts import Alerter
from arb_pipeline.settings import Settings
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.models import Alert
from arb_pipeline_tests.storage.db_fixtures import *  # noqa: F403

WEBHOOK = "https://hooks.example.invalid/services/T000/B000/s3cr3t-webhook-token"
PASSWORD = "hunter2-smtp-password"
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


class Post:
    def __init__(self, status=200, exc=None):
        self.calls, self.status, self.exc = [], status, exc

    def __call__(self, url, json, timeout):
        self.calls.append((url, json))
        if self.exc:
            raise self.exc

        class R:
            status_code = self.status

        return R()


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port
        self.logged_in = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        self.logged_in = (user, password)
        if password != PASSWORD:
            raise AssertionError("wrong password passed")

    def send_message(self, message):
        FakeSMTP.sent.append((message, self.logged_in))


def settings(**kw):
    base = dict(ARB_ALERT_WEBHOOK_URL=WEBHOOK, ARB_ALERT_EMAIL_TO="desk@example.com", ARB_SMTP_HOST="smtp.example.com",
                ARB_SMTP_USER="bot", ARB_SMTP_PASSWORD=PASSWORD)
    base.update(kw)
    return Settings(_env_file=None, **base)


@pytest.fixture
def clock():
    return Clock()


def make(session_factory, clock, post=None, **kw):
    FakeSMTP.sent = []
    return Alerter(session_factory, settings(**kw), window=timedelta(minutes=15), http_post=post or Post(),
                   smtp_factory=FakeSMTP, clock=clock)


def test_sends_webhook_json_text_and_email_and_persists(session_factory, clock):
    post = Post()
    outcome = make(session_factory, clock, post).send("critical", "breaker open", "3 errors", "k1")
    assert outcome.sent and outcome.channels == ("log", "webhook", "email")
    (url, payload), = post.calls
    assert url == WEBHOOK and payload == {"text": "[CRITICAL] breaker open\n3 errors"}
    (message, login), = FakeSMTP.sent
    assert message["To"] == "desk@example.com" and "breaker open" in message["Subject"] and login == ("bot", PASSWORD)
    with session_scope(session_factory) as s:
        row = s.scalars(select(Alert)).one()
    assert (row.dedup_key, row.severity, row.channels, row.sent_count) == ("k1", "critical", "log,webhook,email", 1)


def test_duplicate_inside_window_is_not_resent_then_is_after(session_factory, clock):
    post = Post()
    alerter = make(session_factory, clock, post)
    assert alerter.send("warning", "t", "b", "dup").sent
    clock.now += timedelta(minutes=14)
    again = alerter.send("warning", "t", "b", "dup")
    assert not again.sent and len(post.calls) == 1
    clock.now += timedelta(minutes=1)
    assert alerter.send("warning", "t", "b2", "dup").sent and len(post.calls) == 2
    with session_scope(session_factory) as s:
        row = s.scalars(select(Alert)).one()
    assert (row.sent_count, row.suppressed_count, row.body) == (2, 1, "b2")


def test_dedup_holds_across_processes(session_factory, other_engine, clock):
    from arb_pipeline.storage.db import session_factory as make_sessions

    post = Post()
    make(session_factory, clock, post).send("info", "t", "b", "shared")
    other = Alerter(make_sessions(other_engine), settings(), http_post=post, smtp_factory=FakeSMTP, clock=clock)
    assert not other.send("info", "t", "b", "shared").sent
    assert len(post.calls) == 1


def test_only_log_when_nothing_is_configured(session_factory, clock):
    post = Post()
    alerter = Alerter(session_factory, Settings(_env_file=None), http_post=post, smtp_factory=FakeSMTP, clock=clock)
    assert alerter.send("info", "t", "b", "k").channels == ("log",)
    assert post.calls == []


def test_secrets_never_logged_even_when_delivery_fails(session_factory, clock, caplog):
    caplog.set_level(logging.DEBUG)
    post = Post(exc=RuntimeError(f"connection refused for {WEBHOOK}"))

    class FailingSMTP(FakeSMTP):
        def login(self, user, password):
            raise RuntimeError(f"535 auth failed for {password}")

    alerter = Alerter(session_factory, settings(), http_post=post, smtp_factory=FailingSMTP, clock=clock)
    outcome = alerter.send("critical", "t", "b", "k")
    assert outcome.failed == ("webhook", "email") and outcome.channels == ("log",)
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert WEBHOOK not in logged and "s3cr3t" not in logged and PASSWORD not in logged
    assert "RuntimeError" in caplog.text  # the failure itself is visible
    assert WEBHOOK not in repr(alerter) and PASSWORD not in repr(alerter)


def test_webhook_http_error_counts_as_failed(session_factory, clock):
    outcome = make(session_factory, clock, Post(status=500), ARB_ALERT_EMAIL_TO="").send("info", "t", "b", "k")
    assert outcome.failed == ("webhook",)


def test_sends_even_without_a_database(clock, tmp_path):
    post = Post()
    alerter = Alerter(None, settings(ARB_ALERT_EMAIL_TO=""), http_post=post, clock=clock)
    assert alerter.send("warning", "t", "b", "k").sent and alerter.send("warning", "t", "b", "k").sent
    assert len(post.calls) == 2


@pytest.mark.parametrize(("severity", "title", "key"), [("fatal", "t", "k"), ("info", " ", "k"), ("info", "t", "")])
def test_bad_input_is_refused(session_factory, clock, severity, title, key):
    with pytest.raises(ValueError):
        make(session_factory, clock).send(severity, title, "b", key)


def test_an_alert_stands_out_in_the_log(session_factory, clock, caplog):
    caplog.set_level(logging.INFO)
    Alerter(session_factory, settings(ARB_ALERT_EMAIL_TO="", ARB_ALERT_WEBHOOK_URL=""), clock=clock).send(
        "warning", "hedge to place: Memphis Grizzlies", "betfair_ex_eu: back for $108.86", "hedge:x:1")
    (record,) = [r for r in caplog.records if "ALERT" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("*** ALERT WARNING *** hedge to place: Memphis Grizzlies")
