"""History checks: the same contracts as the live stages, per partition (blocking, ERROR)."""

from arb_pipeline.defs.history.assets import (
    HISTORY_IMPLIED_PROBABILITIES,
    HISTORY_OPPORTUNITIES,
    HISTORY_RESOLVED_EVENTS,
    history_partitions,
)
from arb_pipeline.defs.shared.checks import schema_check

HISTORY_RESOLVED_EVENTS_SCHEMA = "history_resolved_events_schema"
HISTORY_IMPLIED_PROBABILITIES_SCHEMA = "history_implied_probabilities_schema"
HISTORY_OPPORTUNITIES_SCHEMA = "history_opportunities_schema"

CHECKS = [
    schema_check(HISTORY_RESOLVED_EVENTS, "HistoryResolvedEventsFrame", name=HISTORY_RESOLVED_EVENTS_SCHEMA,
                 partitions_def=history_partitions),
    schema_check(HISTORY_IMPLIED_PROBABILITIES, "HistoryImpliedProbabilitiesFrame",
                 name=HISTORY_IMPLIED_PROBABILITIES_SCHEMA, partitions_def=history_partitions),
    schema_check(HISTORY_OPPORTUNITIES, "HistoryOpportunitiesFrame", name=HISTORY_OPPORTUNITIES_SCHEMA,
                 partitions_def=history_partitions),
]
