"""Odds polled at their refresh rate, and a month of credits projected against the plan's quota."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from arb_pipeline.services.odds_credits import SECONDS_PER_MONTH, project_monthly_credits, reusable_odds
from arb_pipeline.settings import Settings

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
SPORTS = "basketball_nba,icehockey_nhl,soccer_epl"


def settings(**extra) -> Settings:
    values = {"ODDS_SPORTS": SPORTS, "ODDS_API_REGIONS": "us,eu", "ODDS_API_BOOKMAKERS": "", **extra}
    return Settings(_env_file=None, **values)


def payloads(by_sport: dict[str, datetime], fallback: datetime | None = None) -> dict[str, str]:
    meta = {"captured_at": NOW.isoformat(), "odds_format": {s: "decimal" for s in by_sport},
            "odds_fetched_at_by_sport": {s: t.isoformat() for s, t in by_sport.items()}}
    if fallback is not None:
        meta["odds_fetched_at"] = fallback.isoformat()
    texts = {"meta.json": json.dumps(meta)}
    texts.update({f"odds_{s}.json": f'[{{"sport": "{s}"}}]' for s in SPORTS.split(",")})
    return texts


def test_odds_younger_than_their_refresh_interval_are_reused_verbatim_with_their_fetch_time():
    stored = payloads({"basketball_nba": NOW - timedelta(seconds=59), "icehockey_nhl": NOW - timedelta(seconds=60),
                       "soccer_epl": NOW + timedelta(seconds=1)})
    reused = reusable_odds(stored, NOW, settings())
    assert set(reused) == {"basketball_nba"}  # 60 s old is due again; a future stamp is never trusted
    assert reused["basketball_nba"].text == stored["odds_basketball_nba.json"]
    assert reused["basketball_nba"].fetched_at == NOW - timedelta(seconds=59)
    assert reused["basketball_nba"].odds_format == "decimal"


def test_the_refresh_interval_is_configurable_per_sport_and_zero_means_every_scan():
    stored = payloads({}, fallback=NOW - timedelta(seconds=100))  # an older capture: one time for all sports
    per_sport = settings(ARB_ODDS_REFRESH_BY_SPORT="soccer_epl:300, icehockey_nhl:0")
    assert set(reusable_odds(stored, NOW, per_sport)) == {"soccer_epl"}
    assert reusable_odds(stored, NOW, settings(ARB_ODDS_REFRESH_S="0")) == {}
    assert reusable_odds({"odds_soccer_epl.json": "[]"}, NOW, settings()) == {}  # no meta: nothing known
    with pytest.raises(ValueError, match="ARB_ODDS_REFRESH_BY_SPORT: 'soon' for 'soccer_epl'"):
        settings(ARB_ODDS_REFRESH_BY_SPORT="soccer_epl:soon").odds_refresh_for("soccer_epl")


def test_monthly_credits_at_the_refresh_rate_next_to_the_plan_quota():
    projection = project_monthly_credits(settings(ODDS_API_MONTHLY_QUOTA="500000", ODDS_API_MARKETS="h2h"),
                                         scan_interval_s=10)
    calls = SECONDS_PER_MONTH // 60  # one fetch a minute per sport
    assert [s.credits_per_call for s in projection.sports] == [2, 2, 2]  # h2h x 2 regions
    assert projection.credits_per_month == 3 * 2 * calls == 259_200
    assert projection.within_quota and projection.share_of_quota == pytest.approx(259_200 / 500_000)
    assert "projected 259,200 Odds API credits/month of the plan's 500,000" in projection.describe()


def test_each_market_asked_for_costs_a_credit_per_region():
    three = project_monthly_credits(settings(ODDS_API_MARKETS="h2h,spreads,totals"), scan_interval_s=10)
    assert [s.credits_per_call for s in three.sports] == [6, 6, 6]  # 3 markets x 2 regions
    assert three.credits_per_month == 3 * project_monthly_credits(
        settings(ODDS_API_MARKETS="h2h"), scan_interval_s=10).credits_per_month


def test_odds_are_never_fetched_more_often_than_the_scan_runs_nor_between_scans():
    every_scan = project_monthly_credits(settings(ARB_ODDS_REFRESH_S="0"), scan_interval_s=10)
    assert every_scan.sports[0].poll_every_s == 10 and not every_scan.within_quota
    # a 25 s refresh with a 10 s scan is re-fetched at the third scan: every 30 s
    assert project_monthly_credits(settings(ARB_ODDS_REFRESH_S="25"), scan_interval_s=10).sports[0].poll_every_s == 30
    with pytest.raises(ValueError, match="scan_interval_s must be > 0"):
        project_monthly_credits(settings(), scan_interval_s=0)
