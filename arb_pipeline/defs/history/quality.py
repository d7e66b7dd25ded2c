"""Data-quality reports (Great Expectations) as asset checks on the daily history partitions.

One check per suite of `services.quality`, each a non-blocking WARN (a report, never a gate). A
check validates its day's frame, renders the Data Docs under ARB_DATA_DIR/great_expectations and
links them from its metadata (`data_docs` for the site, `data_docs_page` for this validation).
The book checks read the day's stored snapshots (at most `MAX_SNAPSHOTS_PER_DAY`, evenly spread),
since the history assets keep per-game aggregates, not every book's quotes.

Great Expectations is imported only when a check runs (see `services.quality` for the ways GE and
Dagster disagree and the workaround for each).
"""

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import dagster as dg

from arb_pipeline.defs.history.assets import (
    HISTORY_IMPLIED_PROBABILITIES,
    HISTORY_RESOLVED_EVENTS,
    history_partitions,
)
from arb_pipeline.defs.shared.resources import SnapshotStoreResource, current_settings
from arb_pipeline.defs.shared.types import frame_of

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

WARN = dg.AssetCheckSeverity.WARN
DESCRIPTIONS = {
    "odds_coverage_per_league": "Share of each league's Kalshi game markets that found their sportsbook game "
                                "over the day (Great Expectations; Data Docs linked in the result).",
    "overround_band_per_book": "Every book's margin on every game of the day's stored snapshots stays in a "
                               "plausible band (Great Expectations).",
    "quote_age_distribution": "Age of the books' quotes at capture over the day: median, 95th percentile and "
                              "maximum (Great Expectations).",
    "yes_no_orientation": "Kalshi YES ask + NO ask stays near 1 for every market of the day: far from it is a "
                          "flipped or broken book (Great Expectations).",
    "kalshi_consensus_divergence": "Kalshi's YES price against the de-vigged book consensus over the day "
                                   "(Great Expectations).",
}


def result_of(outcome, **extra) -> dg.AssetCheckResult:
    """The check result a person reads: pass/fail, what failed, and the Data Docs links."""
    metadata = {"suite": outcome.suite, "rows": outcome.rows, "expectations_evaluated": outcome.evaluated,
                "failed_expectations": dg.MetadataValue.json(list(outcome.failed)), **extra}
    if outcome.docs_index:
        metadata["data_docs"] = dg.MetadataValue.url(outcome.docs_index)
    if outcome.docs_page:
        metadata["data_docs_page"] = dg.MetadataValue.url(outcome.docs_page)
    metadata.update({k: v for k, v in outcome.details.items() if v is not None})
    description = "; ".join(outcome.failed) if outcome.failed else None
    return dg.AssetCheckResult(passed=outcome.success, severity=WARN, metadata=metadata, description=description)


def _validate(suite: str, frame: "pd.DataFrame", partition: str, **extra) -> dg.AssetCheckResult:
    from arb_pipeline.services.quality import validate

    outcome = validate(suite, frame, partition=partition, data_dir=current_settings().data_dir,
                       at=datetime.now(UTC))  # the evaluation's own moment names GE's validation run
    return result_of(outcome, **extra)


def frame_check(asset: dg.AssetKey, suite: str, build: Callable[["pd.DataFrame"], "pd.DataFrame"]):
    """A GE suite over a transformation of the history asset's own frame for the partition."""

    def _check(context: dg.AssetCheckExecutionContext, frame) -> dg.AssetCheckResult:  # a DataFrame (frame_of)
        return _validate(suite, build(frame_of(frame)), context.partition_key)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are "preview" (as in checks.py)
        return dg.asset_check(asset=asset, name=suite, blocking=False, description=DESCRIPTIONS[suite],
                              metadata={"severity": WARN.value, "great_expectations_suite": suite},
                              partitions_def=history_partitions)(_check)


def snapshot_check(suite: str, pick: int):
    """A GE suite over the books' quotes in the partition's stored snapshots (`pick`: which frame)."""

    def _check(context: dg.AssetCheckExecutionContext, snapshot_store: SnapshotStoreResource) -> dg.AssetCheckResult:
        from arb_pipeline.services.quality import (
            MAX_SNAPSHOTS_PER_DAY,
            book_frames,
            evenly,
            snapshot_ids_between,
        )
        from arb_pipeline.storage.db import session_factory

        window = history_partitions.time_window_for_partition_key(context.partition_key)
        stored = snapshot_ids_between(session_factory(snapshot_store.database.engine()), window.start, window.end)
        sampled = evenly(stored, MAX_SNAPSHOTS_PER_DAY)
        frame = book_frames((snapshot_id, snapshot_store.load(snapshot_id)) for snapshot_id in sampled)[pick]
        return _validate(suite, frame, context.partition_key, snapshots_stored=len(stored),
                         snapshots_read=len(sampled))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.asset_check(asset=HISTORY_IMPLIED_PROBABILITIES, name=suite, blocking=False,
                              description=DESCRIPTIONS[suite],
                              metadata={"severity": WARN.value, "great_expectations_suite": suite},
                              partitions_def=history_partitions)(_check)


def _coverage(frame: "pd.DataFrame") -> "pd.DataFrame":
    from arb_pipeline.services.quality import coverage_frame

    return coverage_frame(frame)


def _pricing(frame: "pd.DataFrame") -> "pd.DataFrame":
    from arb_pipeline.services.quality import pricing_frame

    return pricing_frame(frame)


CHECKS = [
    frame_check(HISTORY_RESOLVED_EVENTS, "odds_coverage_per_league", _coverage),
    snapshot_check("overround_band_per_book", 0),
    snapshot_check("quote_age_distribution", 1),
    frame_check(HISTORY_IMPLIED_PROBABILITIES, "yes_no_orientation", _pricing),
    frame_check(HISTORY_IMPLIED_PROBABILITIES, "kalshi_consensus_divergence", _pricing),
]
