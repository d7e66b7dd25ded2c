"""Great Expectations suites over the stored history: each catches the bad data it is named after,
passes the good sample, and renders Data Docs under the data directory."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.services import quality
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR

AT = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_books():
    return quality.book_frames([(1, load_snapshot(SAMPLE_SNAPSHOT_DIR))])


def run(suite, frame, tmp_path):
    return quality.validate(suite, frame, partition="2026-11-24", data_dir=tmp_path, at=AT)


def test_the_sample_day_passes_and_the_data_docs_are_rendered(sample_books, tmp_path):
    overround, ages = sample_books
    assert len(overround) == 90 and overround["overround"].between(0.03, 0.09).all()
    for suite, frame in ((quality.OVERROUND_BAND, overround), (quality.QUOTE_AGES, ages)):
        outcome = run(suite, frame, tmp_path)
        assert outcome.success and outcome.failed == () and outcome.evaluated >= 1, outcome
    index = tmp_path / "great_expectations" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.exists() and outcome.docs_index == index.as_uri()
    assert outcome.docs_page.startswith(index.parent.as_uri()) and "2026-11-24" in outcome.docs_page
    assert (tmp_path / "great_expectations" / "gx" / "great_expectations.yml").read_text().count(
        "analytics_enabled: false") == 1  # nothing is reported to GE's servers


def test_each_suite_catches_what_it_is_named_after(tmp_path):
    coverage = pd.DataFrame({"league": ["NBA", "EPL"], "markets": [30, 20], "resolved": [30, 9],
                             "coverage": [1.0, 0.45]})
    outcome = run(quality.ODDS_COVERAGE, coverage, tmp_path)
    assert not outcome.success and "coverage" in outcome.failed[0] and "0.45" in outcome.failed[0]

    margins = pd.DataFrame({"overround": [0.04] * 40 + [0.35, -0.05]})  # a stale line and an arb-bait price
    assert not run(quality.OVERROUND_BAND, margins, tmp_path).success

    stale = pd.DataFrame({"quote_age_s": [30.0] * 10 + [7200.0]})
    outcome = run(quality.QUOTE_AGES, stale, tmp_path)
    assert not outcome.success and any("max" in f for f in outcome.failed)

    flipped = quality.pricing_frame(pd.DataFrame({
        "ticker": [f"KX-{i}" for i in range(10)], "kalshi_yes_ask_f": [0.55] * 9 + [0.30],
        "kalshi_no_ask_f": [0.47] * 9 + [0.30], "fair_prob": [0.52] * 9 + [0.70]}))
    assert not run(quality.YES_NO_ORIENTATION, flipped, tmp_path).success  # 0.60 is far from 1
    diverged = quality.pricing_frame(pd.DataFrame({
        "ticker": ["A", "B"], "kalshi_yes_ask_f": [0.55, 0.30], "kalshi_no_ask_f": [0.47, 0.72],
        "fair_prob": [0.52, 0.70]}))
    assert not run(quality.DIVERGENCE, diverged, tmp_path).success  # 40 points apart


def test_an_empty_day_is_reported_not_failed(tmp_path):
    outcome = run(quality.QUOTE_AGES, pd.DataFrame({"quote_age_s": pd.Series(dtype=float)}), tmp_path)
    assert outcome.success and outcome.rows == 0 and outcome.details["note"] == "no data stored for this day"


def test_coverage_groups_by_league_including_unresolved_markets():
    resolved = pd.DataFrame({"event_ticker": ["KXNBAGAME-26NOV24BOSMEM", "KXNBAGAME-26NOV24BOSMEM",
                                              "KXEPLGAME-26NOV25BURTOT", "KXZZZ-1"],
                             "resolved": [True, False, True, False]})
    frame = quality.coverage_frame(resolved).set_index("league")
    assert frame.loc["NBA", "coverage"] == 0.5 and frame.loc["EPL", "coverage"] == 1.0
    assert frame.loc["unknown", "markets"] == 1


def test_evenly_keeps_the_ends_and_the_limit():
    assert quality.evenly(list(range(10)), 20) == list(range(10))
    picked = quality.evenly(list(range(1000)), 5)
    assert picked[0] == 0 and picked[-1] == 999 and len(picked) == 5
