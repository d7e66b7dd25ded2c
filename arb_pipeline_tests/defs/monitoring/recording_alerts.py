"""An `AlertsResource` that records what it is asked to send, for the monitoring sensors' tests."""

from arb_pipeline.defs.monitoring.resources import AlertsResource
from arb_pipeline.defs.shared.resources import AppDatabaseResource

SENT: list[tuple[str, str, str, str]] = []  # (severity, title, body, dedup_key), in the order sent


class RecordingAlerts(AlertsResource):
    def send(self, severity, title, body, dedup_key):
        SENT.append((severity, title, body, dedup_key))
        return None


ALERTS = RecordingAlerts(database=AppDatabaseResource(url="sqlite://", auto_migrate=False))
