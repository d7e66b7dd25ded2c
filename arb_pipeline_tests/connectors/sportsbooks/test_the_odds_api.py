"""TheOddsApiProvider against a real local HTTP server speaking The Odds API v4 wire format."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from arb_pipeline.arb.odds import american_to_decimal_exact as american_to_decimal
from arb_pipeline.connectors.sportsbooks.base import OddsProvider
from arb_pipeline.connectors.sportsbooks.errors import (
    OddsAuthError,
    OddsQuotaExhausted,
    OddsRateLimited,
    OddsRequestError,
    OddsServerError,
    QuotaFloorReached,
)
from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider
from arb_pipeline.settings import Settings

KEY = "0123456789abcdef0123456789abcdef"  # the fake server's valid key (conftest.VALID_KEY)
NBA = "basketball_nba"


class Alerts(list):
    def __call__(self, severity: str, message: str) -> None:
        self.append((severity, message))


@pytest.fixture
def make(odds_api):
    made: list[TheOddsApiProvider] = []

    def factory(**overrides) -> TheOddsApiProvider:
        options = dict(api_key=KEY, base_url=odds_api.base_url, regions=("us",), backoff_initial_s=0.001,
                       backoff_max_s=0.002, max_attempts=3)
        provider = TheOddsApiProvider(**(options | overrides))
        made.append(provider)
        return provider

    yield factory
    for provider in made:
        provider.close()


def by(quotes, bookmaker, market, outcome):
    [quote] = [q for q in quotes if (q.bookmaker, q.market, q.outcome) == (bookmaker, market, outcome)]
    return quote


def test_decimal_happy_path_normalizes_and_tracks_quota(make, odds_api):
    provider = make()
    result = provider.fetch_quotes(NBA, markets=("h2h", "totals"))

    assert result.problems == () and result.odds_format == "decimal"
    assert len(result.quotes) == 6  # draftkings h2h(2)+totals(2), fanduel h2h(2)
    home = by(result.quotes, "draftkings", "h2h", "home")
    assert (home.decimal_odds, home.outcome_name, home.american_odds) == (Decimal("1.91"), "Boston Celtics", None)
    assert (home.league, home.event_id, home.provider) == ("NBA", "a" * 32, "the_odds_api")
    assert home.commence_time == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    assert home.last_update == datetime(2026, 11, 24, 22, 10, 41, tzinfo=UTC)
    assert by(result.quotes, "draftkings", "h2h", "away").decimal_odds == Decimal("2.5")
    over = by(result.quotes, "draftkings", "totals", "over")
    assert (over.point, over.decimal_odds) == (Decimal("221.5"), Decimal("1.93"))

    sent = odds_api.odds_requests[-1]
    assert (sent["markets"], sent["regions"], sent["oddsFormat"], sent["dateFormat"]) == (
        "h2h,totals", "us", "decimal", "iso")
    assert "bookmakers" not in sent
    state = provider.quota.state
    assert (state.remaining, state.used, state.last) == (498, 2, 2)


def test_american_unix_dates_convert_exactly(make):
    provider = make(odds_format="american", date_format="unix")
    result = provider.fetch_quotes(NBA)

    home = by(result.quotes, "draftkings", "h2h", "home")
    assert home.american_odds == -110
    assert home.decimal_odds == Decimal(1) + Decimal(100) / Decimal(110)
    assert str(home.decimal_odds).startswith("1.90909090909090909")
    assert by(result.quotes, "draftkings", "h2h", "away").decimal_odds == Decimal("2.5")
    assert home.commence_time == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    assert home.last_update == datetime(2026, 11, 24, 22, 10, 41, tzinfo=UTC)


def test_bookmakers_take_priority_over_regions_and_bill_per_ten(make, odds_api):
    provider = make(regions=("us", "eu"), bookmakers=("draftkings",))
    result = provider.fetch_quotes(NBA)
    sent = odds_api.odds_requests[-1]
    assert sent["bookmakers"] == "draftkings" and "regions" not in sent
    assert {q.bookmaker for q in result.quotes} == {"draftkings"}
    assert provider.quota.state.last == 1 == provider.estimate_cost(["h2h"])


def test_commence_window_is_sent_in_the_documented_format(make, odds_api):
    provider = make()
    after = provider.fetch_quotes(NBA, commence_time_from=datetime(2026, 11, 26, tzinfo=UTC),
                                  commence_time_to=datetime(2026, 11, 27, 12, 0, 0, 123, tzinfo=UTC))
    sent = odds_api.odds_requests[-1]
    assert (sent["commenceTimeFrom"], sent["commenceTimeTo"]) == ("2026-11-26T00:00:00Z", "2026-11-27T12:00:00Z")
    assert after.quotes == () and provider.quota.state.last == 0  # empty responses are free

    count = len(odds_api.odds_requests)
    with pytest.raises(ValueError, match="later than"):
        provider.fetch_quotes(NBA, commence_time_from=datetime(2026, 11, 27, tzinfo=UTC),
                              commence_time_to=datetime(2026, 11, 26, tzinfo=UTC))
    assert len(odds_api.odds_requests) == count


def test_quota_floor_stops_polling_before_the_call_and_alerts_once(make, odds_api):
    alerts = Alerts()
    provider = make(quota_floor=50, on_alert=alerts)
    odds_api.remaining = 51
    provider.fetch_quotes(NBA)  # learns 51 from a free /sports call first; 51 - 1 >= 50: allowed
    assert provider.quota.state.remaining == 50
    assert [r.get("path", "/v4/sports") for r in odds_api.requests] == ["/v4/sports", "/v4/sports/basketball_nba/odds"]
    sent = len(odds_api.odds_requests)

    for _ in range(2):
        with pytest.raises(QuotaFloorReached, match="floor is 50"):
            provider.fetch_quotes(NBA)
    assert len(odds_api.odds_requests) == sent  # nothing was sent
    assert [severity for severity, _ in alerts] == ["critical"]  # once per crossing
    assert "50 credits left" in alerts[0][1]

    odds_api.remaining = 500  # the monthly reset; a free call sees it
    provider.list_sports()
    assert provider.fetch_quotes(NBA).quotes


def test_retries_stop_at_the_floor_too(make, odds_api):
    provider = make(quota_floor=50, sleep=lambda _: None)
    odds_api.remaining = 51
    provider.list_sports()  # the provider knows 51: one call of cost 1 is allowed
    odds_api.remaining = 50  # the 429 answer then reports 50: no retry may spend below the floor
    odds_api.fail_next(429, {"message": "slow down", "error_code": "EXCEEDED_FREQ_LIMIT"}, quota_headers=True)
    with pytest.raises(QuotaFloorReached):
        provider.fetch_quotes(NBA)
    assert len(odds_api.odds_requests) == 1


def test_invalid_key_is_an_auth_error_not_retried(make, odds_api):
    provider = make(api_key="f" * 32)
    with pytest.raises(OddsAuthError) as caught:
        provider.fetch_quotes(NBA)
    assert (caught.value.status, caught.value.error_code) == (401, "INVALID_KEY")
    assert len(odds_api.requests) == 1  # the free balance check already fails; nothing retried or billed
    assert provider.quota.state is None  # INVALID_KEY responses carry no quota headers
    assert "f" * 32 not in str(caught.value) and "apiKey=***" in str(caught.value)


def test_out_of_credits_is_quota_exhausted_with_alert_and_later_calls_stay_local(make, odds_api):
    alerts = Alerts()
    provider = make(on_alert=alerts)
    provider.fetch_quotes(NBA)  # the provider believes 499 credits are left...
    odds_api.remaining = 0  # ...but another process sharing the key spent them
    with pytest.raises(OddsQuotaExhausted) as caught:
        provider.fetch_quotes(NBA)
    assert not isinstance(caught.value, QuotaFloorReached)
    assert caught.value.error_code == "OUT_OF_USAGE_CREDITS"
    assert len(odds_api.odds_requests) == 2 and [s for s, _ in alerts] == ["critical"]

    with pytest.raises(QuotaFloorReached):
        provider.fetch_quotes(NBA)
    assert len(odds_api.odds_requests) == 2 and len(alerts) == 1


def test_invalid_market_is_a_request_error_not_retried(make, odds_api):
    provider = make()
    with pytest.raises(OddsRequestError, match="player_points") as caught:
        provider.fetch_quotes(NBA, markets=("h2h", "player_points"))
    assert (caught.value.status, caught.value.error_code) == (422, "INVALID_MARKET")
    assert len(odds_api.odds_requests) == 1


def test_unknown_sport_is_a_request_error(make):
    with pytest.raises(OddsRequestError) as caught:
        make().fetch_quotes("curling_world")
    assert (caught.value.status, caught.value.error_code) == (404, "UNKNOWN_SPORT")


@pytest.mark.parametrize(
    ("status", "body"),
    [(429, {"message": "Too many requests", "error_code": "EXCEEDED_FREQ_LIMIT"}),
     (503, {"message": "unavailable"}), (500, {})],
)
def test_transient_error_is_retried_then_recovers(make, odds_api, status, body):
    slept: list[float] = []
    provider = make(sleep=slept.append)
    odds_api.fail_next(status, body)
    assert len(provider.fetch_quotes(NBA).quotes) == 4
    assert len(odds_api.odds_requests) == 2 and len(slept) == 1


def test_rate_limit_that_persists_raises_rate_limited(make, odds_api):
    provider = make(sleep=lambda _: None)
    odds_api.fail_next(429, {"message": "slow down", "error_code": "EXCEEDED_FREQ_LIMIT"}, times=3)
    with pytest.raises(OddsRateLimited) as caught:
        provider.fetch_quotes(NBA)
    assert caught.value.error_code == "EXCEEDED_FREQ_LIMIT" and len(odds_api.odds_requests) == 3


def test_server_error_that_persists_raises_server_error(make, odds_api):
    provider = make(sleep=lambda _: None)
    odds_api.fail_next(502, {"message": "bad gateway"}, times=3)
    with pytest.raises(OddsServerError, match="HTTP 502"):
        provider.fetch_quotes(NBA)
    assert len(odds_api.odds_requests) == 3


def test_timeout_is_retried_then_recovers_or_raises_server_error(make, odds_api):
    provider = make(sleep=lambda _: None, timeout=httpx.Timeout(1.0, read=0.3))
    odds_api.delay_next(0.8)
    assert provider.fetch_quotes(NBA).quotes

    odds_api.delay_next(0.8, times=3)
    with pytest.raises(OddsServerError, match="timed out") as caught:
        provider.fetch_quotes(NBA)
    assert KEY not in str(caught.value)


def test_connection_failure_never_leaks_the_key(make):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    provider = make(base_url=f"http://127.0.0.1:{closed_port}", sleep=lambda _: None)
    with pytest.raises(OddsServerError) as caught:
        provider.fetch_quotes(NBA)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.__cause__) + repr(caught.value.__context__)
    assert KEY not in text and "apiKey=***" in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_api_key_never_in_repr_or_httpx_logs(make, caplog):
    provider = make()
    with caplog.at_level(logging.DEBUG):
        provider.fetch_quotes(NBA)
    assert "HTTP Request" in caplog.text and "apiKey=***" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in repr(provider)


def test_list_sports_is_free_and_parsed(make, odds_api):
    sports = make().list_sports()
    assert {s.key for s in sports} == {"basketball_nba", "soccer_epl"}
    assert odds_api.remaining == 500


def test_from_settings_reads_the_odds_variables(odds_api):
    alerts = Alerts()
    settings = Settings(_env_file=None, ODDS_API_KEY=KEY, ODDS_API_BASE_URL=odds_api.base_url + "/v4/",
                        ODDS_API_REGIONS="us, eu", ODDS_API_BOOKMAKERS="", ODDS_API_FORMAT="american",
                        ODDS_API_QUOTA_FLOOR=7)
    with TheOddsApiProvider.from_settings(settings, on_alert=alerts) as provider:
        assert (provider.regions, provider.bookmakers, provider.odds_format) == (("us", "eu"), (), "american")
        assert provider.quota.floor == 7 and provider.base_url == odds_api.base_url
        assert isinstance(provider, OddsProvider)
        home = by(provider.fetch_quotes(NBA).quotes, "fanduel", "h2h", "home")
        assert home.decimal_odds == american_to_decimal(-170)
    assert odds_api.odds_requests[-1]["regions"] == "us,eu"

    with pytest.raises(OddsAuthError, match="ODDS_API_KEY is not set"):
        TheOddsApiProvider.from_settings(Settings(_env_file=None, ODDS_API_KEY=None))


def test_a_fresh_process_below_the_floor_never_spends(make, odds_api):
    alerts = Alerts()
    provider = make(quota_floor=50, on_alert=alerts)
    odds_api.remaining = 20  # e.g. a restart after the balance already fell under the floor
    with pytest.raises(QuotaFloorReached, match="20 credits left"):
        provider.fetch_quotes(NBA)
    assert odds_api.odds_requests == [] and odds_api.remaining == 20 and len(alerts) == 1
