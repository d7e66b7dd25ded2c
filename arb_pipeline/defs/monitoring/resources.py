"""Monitoring resources: alerts through `services.alerts` (log always; webhook / e-mail when
configured; persisted and de-duplicated in the application database)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from arb_pipeline.defs.shared.resources import AppDatabaseResource, alert_sink, database

ALERTS_KEY = "alerts"


class AlertsResource(dg.ConfigurableResource):
    database: AppDatabaseResource

    def send(self, severity: str, title: str, body: str, dedup_key: str) -> Any:
        return alert_sink(self.database)(severity, title, body, dedup_key)


alerts = AlertsResource(database=database)
