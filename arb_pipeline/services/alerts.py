"""Alerts: always logged; sent to a Slack-compatible webhook and/or e-mail when configured;
persisted and de-duplicated (one `alerts` row per dedup key; a repeat inside the window is counted,
not re-sent).

Secrets (webhook URL, SMTP password) are read from `SecretStr` settings at the moment of sending and
never reach a log line, an exception message or a return value: delivery failures are logged by
exception *type* only, because httpx and smtplib put the URL / server reply in their messages.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from arb_pipeline.settings import Settings, get_settings
from arb_pipeline.storage.db import session_factory, session_scope
from arb_pipeline.storage.repositories import AlertRepository

log = logging.getLogger(__name__)

DEFAULT_DEDUP_WINDOW = timedelta(minutes=15)
WEBHOOK_TIMEOUT_S = 5.0
SMTP_TIMEOUT_S = 10.0


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_LOG_LEVEL = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING, Severity.CRITICAL: logging.CRITICAL}


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    dedup_key: str
    sent: bool  # False: suppressed as a duplicate inside the window
    channels: tuple[str, ...]  # where it was delivered ("log" always)
    failed: tuple[str, ...] = ()  # channels that were configured but failed


class Alerter:
    def __init__(
        self,
        sessions: sessionmaker[Session] | None,
        settings: Settings,
        *,
        window: timedelta = DEFAULT_DEDUP_WINDOW,
        http_post: Callable[..., Any] | None = None,
        smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.window = window
        self.http_post = http_post or httpx.post
        self.smtp_factory = smtp_factory
        self.clock = clock

    def __repr__(self) -> str:  # the settings hold secrets: never show them
        return f"Alerter(window={self.window}, webhook={'set' if self.settings.alert_webhook_url else 'unset'})"

    def send(self, severity: Severity | str, title: str, body: str, dedup_key: str) -> AlertOutcome:
        sev = Severity(severity)
        if not title.strip() or not dedup_key.strip():
            raise ValueError("an alert needs a title and a dedup_key")
        # a banner, so an alert stands out among a run's INFO lines in a terminal or a log file
        log.log(_LOG_LEVEL[sev], "*** ALERT %s *** %s: %s (key=%s)", sev.value.upper(), title, body, dedup_key)
        if not self._claim(sev, title, body, dedup_key):
            log.info("alert %s suppressed: already sent within %s", dedup_key, self.window)
            return AlertOutcome(dedup_key, False, ())
        delivered, failed = ["log"], []
        for channel, deliver in (("webhook", self._webhook), ("email", self._email)):
            try:
                if deliver(sev, title, body):
                    delivered.append(channel)
            except Exception as exc:  # noqa: BLE001 - one channel failing must not stop the others
                failed.append(channel)
                log.error("alert %s: %s delivery failed (%s)", dedup_key, channel, type(exc).__name__)
        if self.sessions is not None:
            try:
                with session_scope(self.sessions) as session:
                    AlertRepository(session).set_channels(dedup_key, delivered)
            except Exception as exc:  # noqa: BLE001
                log.error("alert %s: could not record channels (%s)", dedup_key, type(exc).__name__)
        return AlertOutcome(dedup_key, True, tuple(delivered), tuple(failed))

    def _claim(self, sev: Severity, title: str, body: str, dedup_key: str) -> bool:
        """Persist and de-duplicate; without a usable database, send (losing an alert is worse)."""
        if self.sessions is None:
            return True
        try:
            with session_scope(self.sessions) as session:
                return AlertRepository(session).claim(dedup_key=dedup_key, severity=sev.value, title=title, body=body,
                                                      now=self.clock(), window=self.window)
        except Exception as exc:  # noqa: BLE001 - e.g. database not migrated yet
            log.error("alert %s: could not persist/de-duplicate (%s); sending anyway", dedup_key, type(exc).__name__)
            return True

    def _webhook(self, sev: Severity, title: str, body: str) -> bool:
        secret = self.settings.alert_webhook_url
        if secret is None or not secret.get_secret_value():
            return False
        response = self.http_post(secret.get_secret_value(), json={"text": f"[{sev.value.upper()}] {title}\n{body}"},
                                  timeout=WEBHOOK_TIMEOUT_S)
        status = getattr(response, "status_code", 200)
        if not 200 <= status < 300:
            raise RuntimeError(f"webhook answered HTTP {status}")
        return True

    def _email(self, sev: Severity, title: str, body: str) -> bool:
        s = self.settings
        if not s.alert_email_to or not s.smtp_host:
            return False
        message = EmailMessage()
        message["Subject"] = f"[arb_pipeline {sev.value.upper()}] {title}"
        message["From"] = s.smtp_user or "arb-pipeline@localhost"
        message["To"] = s.alert_email_to
        message.set_content(body)
        with self.smtp_factory(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if s.smtp_port != 25:
                smtp.starttls()
            if s.smtp_user and s.smtp_password is not None:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(message)
        return True


def default_alerter(settings: Settings | None = None) -> Alerter:
    """An Alerter on the application database (the one `Settings.effective_database_url` names)."""
    from arb_pipeline.storage.db import get_engine

    settings = settings or get_settings()
    return Alerter(session_factory(get_engine(settings.effective_database_url)), settings)


def send_alert(severity: Severity | str, title: str, body: str, dedup_key: str, *,
               alerter: Alerter | None = None) -> AlertOutcome:
    """Log, persist, de-duplicate and deliver one alert (see `Alerter`)."""
    return (alerter or default_alerter()).send(severity, title, body, dedup_key)
