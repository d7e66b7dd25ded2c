"""Portfolio parsers: fills, positions, balance, settlements; errors name the field."""

from __future__ import annotations

import pytest

from arb_pipeline.connectors.kalshi import KalshiResponseError
from arb_pipeline.connectors.kalshi import portfolio as pf


def test_parse_fill_position_balance_settlement_errors_name_fields():
    with pytest.raises(KalshiResponseError, match="fills\\[0\\].fee_cost"):
        pf.parse_fills_response({"fills": [{"fill_id": "f", "trade_id": "t", "order_id": "o", "ticker": "T",
                                            "outcome_side": "yes", "book_side": "bid", "count_fp": "1.00",
                                            "yes_price_dollars": "0.5", "no_price_dollars": "0.5", "is_taker": True}],
                                 "cursor": ""})
    with pytest.raises(KalshiResponseError, match="balance_dollars' is missing"):
        pf.parse_balance({"balance": 1, "portfolio_value": 0, "updated_ts": 0})
    with pytest.raises(KalshiResponseError, match="'balance' must be an integer"):
        pf.parse_balance({"balance": 1.5, "balance_dollars": "0.015", "portfolio_value": 0, "updated_ts": 0})
    positions, cursor = pf.parse_positions_response({"market_positions": [], "event_positions": []})
    assert positions.market_positions == () and cursor == ""
    with pytest.raises(KalshiResponseError, match="settlements\\[0\\].settled_time"):
        pf.parse_settlements_response({"settlements": [{
            "ticker": "T", "event_ticker": "E", "market_result": "yes", "yes_count_fp": "1.00",
            "yes_total_cost_dollars": "0.5", "no_count_fp": "0.00", "no_total_cost_dollars": "0", "revenue": 100,
            "fee_cost": "0.0100"}]})
