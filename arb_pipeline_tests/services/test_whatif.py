"""What-if over a past day: simulated P&L under the configured rules and variants, side by side,
computed from the bundled sample (the numbers are the worked example of test_scan.py)."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from arb_pipeline.connectors.snapshot import load_snapshot
from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR, ScanConfig, scan
from arb_pipeline.services.whatif import BASE, WhatIfError, parse_variant, render_table, simulate_day
from arb_pipeline.settings import Settings

D = Decimal


@pytest.fixture(scope="module")
def sample():
    return load_snapshot(SAMPLE_SNAPSHOT_DIR)


def base(**env) -> Settings:
    return Settings(_env_file=None, **env)


def test_variants_side_by_side(sample):
    days = simulate_day([sample], base(), [
        "ARB_MIN_PROFIT=3",
        "betfair only: ARB_ACCOUNT_BOOKS=betfair_ex_eu",
        "shin + value: ARB_DEVIG_METHOD=shin; ARB_TRADE_VALUE=true",
    ], ScanConfig.from_settings)
    by_name = {d.name: d for d in days}
    assert list(by_name) == [BASE, "ARB_MIN_PROFIT=3", "betfair only", "shin + value"]
    configured = by_name[BASE]  # the DraftKings arbitrage, locked $2.59; value bets are PAPER
    assert (configured.taken_arbitrage, configured.taken_value, configured.not_executable) == (1, 0, 2)
    assert configured.locked_profit == D("2.59") and configured.pnl == D("2.59") and configured.outlay == D("147.41")
    assert by_name["ARB_MIN_PROFIT=3"].pnl == 0 and by_name["ARB_MIN_PROFIT=3"].taken_arbitrage == 0
    assert by_name["betfair only"].locked_profit == D("1.70")  # backed at Betfair net of its 5 % commission
    shin = by_name["shin + value"]
    variant = base(ARB_DEVIG_METHOD="shin", ARB_TRADE_VALUE="true")
    expected = scan(sample, ScanConfig.from_settings(variant), sample.captured_at).detection.opportunities
    [arb] = [o for o in expected if o.kind == "arbitrage"]
    values = [o for o in expected if o.kind == "value"]
    # the value bet on Boston YES is the arbitrage's own Kalshi leg: taken once (the re-entry rule)
    fresh = [o for o in values if o.legs[0].market not in {leg.market for leg in arb.legs}]
    assert len(values) == 2 and len(fresh) == 1
    assert (shin.taken_value, shin.skipped_reentry) == (1, 1)
    assert shin.expected_value == fresh[0].profit
    assert shin.pnl == D("2.59") + shin.expected_value
    table = render_table(days)
    assert "| shin + value |" in table and "$2.59" in table and "simulated P&L" in table
    assert D(days[2].to_dict()["simulated_pnl"]) == D("1.70")


def test_an_opportunity_seen_again_is_taken_once_and_the_exposure_cap_holds(sample):
    later = replace(sample, captured_at=sample.captured_at + timedelta(seconds=30),
                    books_captured_at=(sample.books_captured_at or sample.captured_at) + timedelta(seconds=30))
    [day] = simulate_day([sample, later], base(), [], ScanConfig.from_settings)
    assert (day.snapshots, day.taken_arbitrage, day.skipped_reentry) == (2, 1, 1)
    [day] = simulate_day([sample, later], base(ARB_REENTRY_COOLDOWN_S="0", ARB_MAX_TOTAL_EXPOSURE="200"), [],
                         ScanConfig.from_settings)
    assert (day.taken_arbitrage, day.skipped_exposure, day.outlay) == (1, 1, D("147.41"))


@pytest.mark.parametrize(("text", "message"), [
    ("ARB_NOPE=1", "ARB_NOPE is not a setting"),
    ("KALSHI_API_KEY_ID=x", "cannot vary in a replay"),
    ("ARB_MIN_PROFIT=lots", "ARB_MIN_PROFIT: Input should be a valid decimal"),
    ("ARB_BOOK_COMMISSION=betfair_ex_eu:2", "must be a fraction in"),
    ("just words", "expected ARB_NAME=value"),
])
def test_a_bad_variant_is_refused_saying_which_and_why(text, message):
    with pytest.raises(WhatIfError, match=message):
        parse_variant(text, base())


def test_a_variant_label_and_values_with_colons_and_commas():
    v = parse_variant("two books: ARB_ACCOUNT_BOOKS=fanduel,draftkings; ARB_BOOK_COMMISSION=smarkets:0.01", base())
    assert v.name == "two books" and v.settings.account_book_set() == {"fanduel", "draftkings"}
    assert parse_variant("ARB_BOOK_COMMISSION=smarkets:0.01", base()).name == "ARB_BOOK_COMMISSION=smarkets:0.01"
