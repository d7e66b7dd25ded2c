"""Data-quality reports over the stored history (Great Expectations), one suite per question:

* `odds_coverage_per_league` — share of Kalshi game markets that found their sportsbook game;
* `overround_band_per_book` — every book's margin on every game stays in a plausible band;
* `quote_age_distribution` — how old the books' quotes were when captured (median, 95th pct, max);
* `yes_no_orientation` — Kalshi YES ask + NO ask stays near 1 (far from it: a flipped or broken book);
* `kalshi_consensus_divergence` — Kalshi's YES price against the de-vigged book consensus.

The frames are built here from the history assets' frames and the stored snapshots (no money is
validated: probabilities, margins and ages are floats by nature). Great Expectations runs a file
context under `ARB_DATA_DIR/great_expectations` and renders Data Docs there.

Where GE fights Dagster, and the workaround used:
* import time: `import great_expectations` takes 3-20 s (it pulls in a lot) — imported lazily,
  inside `validate`, never at definition load (the code location's start-up time is measured);
* tqdm progress bars on stderr for every metric — switched off in the context's variables;
* usage statistics sent to GE's servers by default — switched off (GX_ANALYTICS_ENABLED=false
  and `analytics_enabled: false`): no call leaves the machine;
* a file context is not safe for concurrent writers, and a backfill runs partitions in parallel
  processes — every use of the context holds an exclusive file lock;
* GE names a validation run by wall-clock time — we pass the evaluation time (`at`) explicitly;
* `expect_column_quantile_values_to_be_between` cannot store its result with numpy 2 (a numpy bool
  in its details is not JSON serializable in GE 1.24): the 95th-percentile rule is written as
  "at least 95 % of values at most X", which is the same statement.
"""

from __future__ import annotations

import fcntl
import math
import os
import statistics
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from arb_pipeline.domain import MarketSnapshot

ODDS_COVERAGE = "odds_coverage_per_league"
OVERROUND_BAND = "overround_band_per_book"
QUOTE_AGES = "quote_age_distribution"
YES_NO_ORIENTATION = "yes_no_orientation"
DIVERGENCE = "kalshi_consensus_divergence"
SUITES = (ODDS_COVERAGE, OVERROUND_BAND, QUOTE_AGES, YES_NO_ORIENTATION, DIVERGENCE)
MAX_SNAPSHOTS_PER_DAY = 200  # book checks read at most this many stored snapshots of a day, evenly spread


@dataclass(frozen=True)
class Thresholds:
    """What "good data" means; each value is a judgement call documented next to it."""

    min_league_coverage: float = 0.90  # below this a league's markets mostly miss their games: mapping or feed
    overround_low: float = -0.01  # a book below -1 % margin is mispriced or mis-mapped (arb bait)
    overround_high: float = 0.20  # US books run 4-8 %, sharp ones 2-3 %; 20 % is a stale or partial line
    overround_mostly: float = 0.98
    quote_age_median_max_s: float = 120.0  # odds feeds refresh about once a minute
    quote_age_p95_max_s: float = 600.0
    quote_age_max_s: float = 3600.0
    yes_no_low: float = 0.98  # YES ask + NO ask < 1 would be free money on Kalshi itself: a broken book
    yes_no_high: float = 1.25  # a spread wider than 25 cents is no market to trade against
    yes_no_mostly: float = 0.99
    max_divergence: float = 0.15  # Kalshi YES vs consensus: 15 points apart is a mapping/orientation smell
    divergence_mostly: float = 0.95


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: tuple[str, ...]  # "expectation on column: observed" for each failed expectation
    docs_index: str | None  # file:// URL of the Data Docs site
    docs_page: str | None  # file:// URL of this validation's page
    details: dict[str, Any] = field(default_factory=dict)


# --- frames ----------------------------------------------------------------------------------------------


def league_of_event(event_ticker: str, catalogue: Any = None) -> str:
    """A Kalshi event's league from its series (the ticker's first segment), e.g. KXNBAGAME -> NBA."""
    from arb_pipeline.mapping.catalogue import load_catalogue

    league = (catalogue or load_catalogue()).by_series(event_ticker.split("-", 1)[0])
    return league.code if league is not None else "unknown"


def coverage_frame(resolved: pd.DataFrame) -> pd.DataFrame:
    """One row per league over the day: Kalshi markets seen, how many resolved, the share."""
    if not len(resolved):
        return pd.DataFrame({"league": pd.Series(dtype=str), "markets": pd.Series(dtype=int),
                             "resolved": pd.Series(dtype=int), "coverage": pd.Series(dtype=float)})
    from arb_pipeline.mapping.catalogue import load_catalogue

    catalogue = load_catalogue()
    leagues = resolved["event_ticker"].map(lambda t: league_of_event(str(t), catalogue))
    grouped = resolved.assign(league=leagues).groupby("league")["resolved"]
    frame = pd.DataFrame({"markets": grouped.size(), "resolved": grouped.sum().astype(int)}).reset_index()
    frame["coverage"] = frame["resolved"] / frame["markets"]
    return frame


def pricing_frame(implied: pd.DataFrame) -> pd.DataFrame:
    """Per Kalshi market and snapshot: YES ask + NO ask, and |fair - YES ask| where both are known."""
    out = pd.DataFrame({
        "ticker": implied.get("ticker", pd.Series(dtype=str)),
        "yes_plus_no": implied.get("kalshi_yes_ask_f", pd.Series(dtype=float))
        + implied.get("kalshi_no_ask_f", pd.Series(dtype=float)),
        "divergence": (implied.get("fair_prob", pd.Series(dtype=float))
                       - implied.get("kalshi_yes_ask_f", pd.Series(dtype=float))).abs(),
    })
    return out


def book_frames(snapshots: Iterable[tuple[int, MarketSnapshot]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(overround per book, game and snapshot; age of every h2h quote) over the given snapshots."""
    margins: list[dict[str, Any]] = []
    ages: list[dict[str, Any]] = []
    for snapshot_id, snapshot in snapshots:
        lines: dict[tuple[str, str], list[float]] = {}
        for quote in snapshot.quotes:
            if quote.market != "h2h":
                continue
            lines.setdefault((quote.bookmaker, quote.event_id), []).append(1 / float(quote.decimal_odds))
            ages.append({"snapshot_id": snapshot_id, "bookmaker": quote.bookmaker,
                         "quote_age_s": (snapshot.captured_at - quote.last_update).total_seconds()})
        for (bookmaker, event_id), inverse in lines.items():
            if len(inverse) >= 2:  # a one-sided line has no margin to speak of
                margins.append({"snapshot_id": snapshot_id, "bookmaker": bookmaker, "event_id": event_id,
                                "outcomes": len(inverse), "overround": sum(inverse) - 1})
    overround = pd.DataFrame(margins, columns=["snapshot_id", "bookmaker", "event_id", "outcomes", "overround"])
    quote_ages = pd.DataFrame(ages, columns=["snapshot_id", "bookmaker", "quote_age_s"])
    return overround, quote_ages


def snapshot_ids_between(sessions: Any, start: datetime, end: datetime) -> list[int]:
    """Ids of the snapshots stored for [start, end), oldest first — without loading their payloads."""
    from sqlalchemy import select

    from arb_pipeline.storage.db import session_scope
    from arb_pipeline.storage.models import Snapshot

    with session_scope(sessions) as session:
        query = select(Snapshot.id).where(Snapshot.captured_at >= start, Snapshot.captured_at < end)
        return list(session.scalars(query.order_by(Snapshot.captured_at, Snapshot.id)))


def evenly(items: list[Any], limit: int) -> list[Any]:
    """At most `limit` items spread evenly over `items` (first and last included)."""
    if len(items) <= limit:
        return items
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


# --- suites ----------------------------------------------------------------------------------------------


def expectations(suite: str, t: Thresholds) -> list[Any]:
    import great_expectations.expectations as gxe

    if suite == ODDS_COVERAGE:
        return [gxe.ExpectColumnValuesToNotBeNull(column="league"),
                gxe.ExpectColumnValuesToBeBetween(column="coverage", min_value=t.min_league_coverage, max_value=1.0)]
    if suite == OVERROUND_BAND:
        return [gxe.ExpectColumnValuesToBeBetween(column="overround", min_value=t.overround_low,
                                                  max_value=t.overround_high, mostly=t.overround_mostly)]
    if suite == QUOTE_AGES:
        return [gxe.ExpectColumnValuesToBeBetween(column="quote_age_s", min_value=0),
                gxe.ExpectColumnMedianToBeBetween(column="quote_age_s", min_value=0,
                                                  max_value=t.quote_age_median_max_s),
                # "95th percentile <= p95_max", said as "at least 95 % of quotes are <= p95_max": the
                # quantile expectation's result holds numpy booleans GE 1.24 cannot serialize (numpy 2)
                gxe.ExpectColumnValuesToBeBetween(column="quote_age_s", max_value=t.quote_age_p95_max_s, mostly=0.95),
                gxe.ExpectColumnMaxToBeBetween(column="quote_age_s", min_value=0, max_value=t.quote_age_max_s)]
    if suite == YES_NO_ORIENTATION:
        return [gxe.ExpectColumnValuesToBeBetween(column="yes_plus_no", min_value=t.yes_no_low,
                                                  max_value=t.yes_no_high, mostly=t.yes_no_mostly)]
    if suite == DIVERGENCE:
        return [gxe.ExpectColumnValuesToBeBetween(column="divergence", min_value=0, max_value=t.max_divergence,
                                                  mostly=t.divergence_mostly)]
    raise ValueError(f"unknown data-quality suite {suite!r} (one of {', '.join(SUITES)})")


def gx_root(data_dir: Path) -> Path:
    return data_dir / "great_expectations"


@contextmanager
def locked_context(root: Path) -> Iterator[Any]:
    """The file context under `root`, held under an exclusive lock (parallel partitions write it)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="file", project_root_dir=str(root))
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            context.variables.analytics_enabled = False
            context.variables.save()
            yield context
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def validate(suite: str, frame: pd.DataFrame, *, partition: str, data_dir: Path, at: datetime,
             thresholds: Thresholds | None = None) -> SuiteOutcome:
    """Validate `frame` with `suite` for one daily partition and update the Data Docs under `data_dir`."""
    thresholds = thresholds or Thresholds()
    if not len(frame):
        return SuiteOutcome(suite, True, 0, 0, (), None, None, {"note": "no data stored for this day"})
    with locked_context(gx_root(data_dir)) as context:
        import great_expectations as gx

        source = context.data_sources.add_or_update_pandas("stored_history")
        asset = next((a for a in source.assets if a.name == suite), None) or source.add_dataframe_asset(suite)
        batch = next((b for b in asset.batch_definitions if b.name == "day"), None) or \
            asset.add_batch_definition_whole_dataframe("day")
        expectation_suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=suite, expectations=expectations(suite, thresholds)))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite, data=batch, suite=expectation_suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=f"{suite}_checkpoint", validation_definitions=[definition], result_format="SUMMARY",
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
        result = checkpoint.run(batch_parameters={"dataframe": frame},
                                run_id=gx.RunIdentifier(run_name=partition, run_time=at))
        ((identifier, validation),) = result.run_results.items()
        failed = tuple(_describe(r) for r in validation.results if not r.success)
        sites = context.get_docs_sites_urls()
        pages = context.get_docs_sites_urls(resource_identifier=identifier)
        return SuiteOutcome(
            suite=suite, success=bool(validation.success), rows=len(frame),
            evaluated=int(validation.statistics.get("evaluated_expectations", 0)), failed=failed,
            docs_index=sites[0]["site_url"] if sites else None,
            docs_page=pages[0]["site_url"] if pages else None,
            details={"success_percent": validation.statistics.get("success_percent")},
        )


def _describe(result: Any) -> str:
    config = result.expectation_config
    column = config.kwargs.get("column", "")
    observed = result.result or {}
    if "observed_value" in observed:
        seen = f"observed {_short(observed['observed_value'])}"
    else:
        seen = f"{observed.get('unexpected_count', '?')} of {observed.get('element_count', '?')} rows outside " \
               f"(e.g. {[_short(v) for v in (observed.get('partial_unexpected_list') or [])[:3]]})"
    return f"{config.type} on {column}: {seen}"


def _short(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


def quote_age_summary(frame: pd.DataFrame) -> dict[str, float | None]:
    ages = list(frame["quote_age_s"]) if len(frame) else []
    if not ages:
        return {"median": None, "p95": None, "max": None}
    ordered = sorted(ages)
    return {"median": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "max": ordered[-1]}
