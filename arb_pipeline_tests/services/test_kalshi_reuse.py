"""Which Kalshi reads a capture may take from the latest stored one: series metadata within its TTL,
series that listed nothing within their recheck. Decided by the given `now`, never today's date."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from arb_pipeline.services.kalshi_reuse import (
    SERIES_FETCHED_BY_TICKER,
    SERIES_WITHOUT_EVENTS_AT,
    reusable_series,
)

AT = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
NBA = {"ticker": "KXNBAGAME", "fee_type": "quadratic", "fee_multiplier": 1}
NFL = {"ticker": "KXNFLGAME", "fee_type": "quadratic", "fee_multiplier": 1}


def stored(*, fetched, quiet, series=(NBA, NFL)):
    meta = {"captured_at": AT.isoformat(), SERIES_FETCHED_BY_TICKER: fetched, SERIES_WITHOUT_EVENTS_AT: quiet}
    return {"meta.json": json.dumps(meta), "kalshi_series.json": json.dumps({"series": list(series)})}


def test_series_metadata_is_reused_verbatim_until_its_ttl_by_its_own_fetch_time():
    payloads = stored(fetched={"KXNBAGAME": AT.isoformat(), "KXNFLGAME": (AT - timedelta(seconds=500)).isoformat()},
                      quiet={})
    young = reusable_series(payloads, AT + timedelta(seconds=50), ttl_s=600, quiet_recheck_s=60)
    assert set(young.fees) == {"KXNBAGAME", "KXNFLGAME"}
    assert young.fees["KXNBAGAME"].raw == NBA and young.fees["KXNBAGAME"].fetched_at == AT
    assert young.fees["KXNFLGAME"].fetched_at == AT - timedelta(seconds=500)
    # 550 s later the NFL object is 600 s old: asked again; the NBA one (fetched later) is still kept
    later = reusable_series(payloads, AT + timedelta(seconds=100), ttl_s=600, quiet_recheck_s=60)
    assert set(later.fees) == {"KXNBAGAME"}
    assert not reusable_series(payloads, AT + timedelta(seconds=600), ttl_s=600, quiet_recheck_s=60).fees
    assert not reusable_series(payloads, AT, ttl_s=0, quiet_recheck_s=0)  # 0: nothing is reused


def test_a_series_that_listed_nothing_is_skipped_until_its_recheck():
    payloads = stored(fetched={}, quiet={"KXWNBAGAME": AT.isoformat(),
                                         "KXMLSGAME": (AT - timedelta(seconds=45)).isoformat()})
    reuse = reusable_series(payloads, AT + timedelta(seconds=10), ttl_s=600, quiet_recheck_s=60)
    assert reuse.quiet == {"KXWNBAGAME": AT, "KXMLSGAME": AT - timedelta(seconds=45)}
    assert set(reusable_series(payloads, AT + timedelta(seconds=20), ttl_s=600, quiet_recheck_s=60).quiet) == {
        "KXWNBAGAME"}
    assert not reusable_series(payloads, AT + timedelta(seconds=60), ttl_s=600, quiet_recheck_s=60).quiet


@pytest.mark.parametrize("stamp", ["not a time", "2031-05-04T12:00:00", 17, None,
                                   (AT + timedelta(seconds=5)).isoformat()])
def test_a_stamp_that_is_unreadable_naive_or_in_the_future_is_not_trusted(stamp):
    payloads = stored(fetched={"KXNBAGAME": stamp}, quiet={"KXWNBAGAME": stamp})
    reuse = reusable_series(payloads, AT, ttl_s=600, quiet_recheck_s=60)
    assert not reuse.fees and not reuse.quiet


def test_no_stored_capture_or_one_without_stamps_reuses_nothing():
    assert not reusable_series(None, AT, ttl_s=600, quiet_recheck_s=60)
    assert not reusable_series({}, AT, ttl_s=600, quiet_recheck_s=60)
    # a capture recorded before the stamps existed: its series objects have no known fetch time
    old = {"meta.json": json.dumps({"captured_at": AT.isoformat()}),
           "kalshi_series.json": json.dumps({"series": [NBA]})}
    assert not reusable_series(old, AT, ttl_s=600, quiet_recheck_s=60)
    assert not reusable_series({"meta.json": "{broken"}, AT, ttl_s=600, quiet_recheck_s=60)


def test_a_naive_now_or_a_negative_age_is_a_clear_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        reusable_series({}, datetime(2031, 5, 4), ttl_s=600, quiet_recheck_s=60)
    with pytest.raises(ValueError, match="KALSHI_SERIES_TTL_S"):
        reusable_series({}, AT, ttl_s=-1, quiet_recheck_s=60)
