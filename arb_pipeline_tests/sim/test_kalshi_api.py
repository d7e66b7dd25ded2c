"""Kalshi market-data routes: pagination to cursor "", filters, orderbook semantics, 404s."""

from __future__ import annotations

from decimal import Decimal as D


def test_events_paginate_to_an_empty_cursor(make_venue):
    venue = make_venue()
    everything = venue.public("/events").json()
    assert everything["cursor"] == "" and len(everything["events"]) == 10
    seen, cursor, pages = [], None, 0
    while cursor != "":
        params = {"limit": 3, "with_nested_markets": "true"}
        if cursor:
            params["cursor"] = cursor
        page = venue.public("/events", params=params).json()
        seen += [e["event_ticker"] for e in page["events"]]
        assert all(e["markets"] for e in page["events"])
        cursor, pages = page["cursor"], pages + 1
    assert pages == 4 and seen == [e["event_ticker"] for e in everything["events"]]
    first = venue.public("/events", params={"limit": 3}).json()
    changed = venue.public("/events", params={"limit": 3, "cursor": first["cursor"], "series_ticker": "KXNBAGAME"})
    assert changed.status_code == 400 and changed.json()["error"]["code"] == "invalid_parameters"
    assert venue.public("/events", params={"limit": 201}).status_code == 400
    assert "markets" not in everything["events"][0] and "milestones" not in everything


def test_event_filters_and_milestones(make_venue):
    venue = make_venue()
    nba = venue.public("/events", params={"series_ticker": "KXNBAGAME", "with_milestones": "true",
                                          "status": "open"}).json()
    assert {e["series_ticker"] for e in nba["events"]} == {"KXNBAGAME"}
    assert {m["primary_event_tickers"][0] for m in nba["milestones"]} == {e["event_ticker"] for e in nba["events"]}
    assert venue.public("/events", params={"status": "settled"}).json()["events"] == []
    one = venue.public(f"/events/{nba['events'][0]['event_ticker']}").json()
    assert one["event"]["event_ticker"] == nba["events"][0]["event_ticker"] and len(one["markets"]) == 2
    assert venue.public("/events/KXNOPE-26NOV24AB").status_code == 404


def test_markets_filters_and_pagination(make_venue):
    venue = make_venue()
    markets = venue.public("/markets", params={"limit": 1000}).json()["markets"]
    assert len(markets) == 2 * 8 + 3 * 2  # two-way leagues x 2 games, EPL three markets x 2 games
    page = venue.public("/markets", params={"limit": 5}).json()
    assert len(page["markets"]) == 5 and page["cursor"]
    epl = venue.public("/markets", params={"series_ticker": "KXEPLGAME"}).json()["markets"]
    assert sum(m["ticker"].endswith("-TIE") for m in epl) == 2
    event = epl[0]["event_ticker"]
    assert {m["event_ticker"] for m in venue.public("/markets", params={"event_ticker": event}).json()["markets"]} \
        == {event}
    picked = venue.public("/markets", params={"tickers": f"{markets[0]['ticker']},{markets[1]['ticker']}"}).json()
    assert [m["ticker"] for m in picked["markets"]] == [markets[0]["ticker"], markets[1]["ticker"]]
    assert venue.public("/markets", params={"status": "open"}).json()["markets"]
    assert venue.public("/markets", params={"status": "settled"}).json()["markets"] == []
    assert venue.public("/markets", params={"status": "bogus"}).status_code == 400
    assert venue.public("/markets", params={"limit": 1001}).status_code == 400


def test_orderbook_matches_top_of_book(make_venue):
    venue = make_venue()
    market = venue.public("/markets", params={"limit": 1}).json()["markets"][0]
    book = venue.public(f"/markets/{market['ticker']}/orderbook").json()["orderbook_fp"]
    yes = [(D(p), D(c)) for p, c in book["yes_dollars"]]
    no = [(D(p), D(c)) for p, c in book["no_dollars"]]
    assert yes == sorted(yes) and no == sorted(no) and len(yes) >= 3 and len(no) >= 3  # ascending, best last
    assert D(market["yes_bid_dollars"]) == yes[-1][0] and D(market["yes_bid_size_fp"]) == yes[-1][1]
    assert D(market["yes_ask_dollars"]) == 1 - no[-1][0] and D(market["yes_ask_size_fp"]) == no[-1][1]
    assert D(market["no_ask_dollars"]) == 1 - yes[-1][0]
    assert yes[-1][0] + no[-1][0] < 1  # not crossed
    assert all(p.as_tuple().exponent == -4 for p, _ in yes) and book["yes_dollars"][0][1].endswith(".00")
    many = venue.public("/markets/orderbooks", params=[("tickers", market["ticker"])]).json()
    assert many["orderbooks"][0] == {"ticker": market["ticker"], "orderbook_fp": book}
    assert venue.public("/markets/orderbooks").status_code == 400
    assert venue.public("/markets/orderbooks", params={"tickers": "NOPE"}).status_code == 404
    assert venue.public("/markets/NOPE/orderbook").status_code == 404


def test_series_and_exchange_status(make_venue):
    venue = make_venue()
    series = venue.public("/series", params={"category": "Sports"}).json()["series"]
    assert {s["ticker"] for s in series} == {"KXNFLGAME", "KXNBAGAME", "KXNHLGAME", "KXMLBGAME", "KXEPLGAME"}
    assert all(s["fee_type"] == "quadratic_with_maker_fees" and s["fee_multiplier"] == 1 for s in series)
    assert venue.public("/series", params={"tags": "Hockey"}).json()["series"][0]["ticker"] == "KXNHLGAME"
    assert venue.public("/series/KXNOPE").status_code == 404
    assert venue.public("/exchange/status").json()["trading_active"] is True


def test_portfolio_lists_filter_and_paginate(make_venue):
    venue = make_venue()
    tickers = [m["ticker"] for m in venue.public("/markets", params={"limit": 3}).json()["markets"]]
    for i, ticker in enumerate(tickers):
        assert venue.order(ticker, "bid", "0.02", "2", tif="good_till_canceled", client_order_id=f"p-{i}").status_code \
            == 201
    orders = venue.signed("GET", "/portfolio/orders", params={"limit": 2}).json()
    assert len(orders["orders"]) == 2 and orders["cursor"]
    rest = venue.signed("GET", "/portfolio/orders", params={"limit": 2, "cursor": orders["cursor"]}).json()
    assert len(rest["orders"]) == 1 and rest["cursor"] == ""
    only = venue.signed("GET", "/portfolio/orders", params={"ticker": tickers[0], "status": "resting"}).json()
    assert [o["client_order_id"] for o in only["orders"]] == ["p-0"]
    assert venue.signed("GET", "/portfolio/orders/nope").status_code == 404
    cancel = venue.signed("DELETE", f"/portfolio/events/orders/{only['orders'][0]['order_id']}")
    assert cancel.json()["reduced_by"] == "2.00"
    assert venue.signed("GET", "/portfolio/orders", params={"status": "canceled"}).json()["orders"][0]["ticker"] \
        == tickers[0]


def test_structured_targets_name_the_teams_behind_custom_strike(make_venue):
    venue = make_venue()
    event = venue.public("/events", params={"series_ticker": "KXNBAGAME", "with_nested_markets": "true",
                                            "with_milestones": "true"}).json()
    market = event["events"][0]["markets"][0]
    (kind, target_id), = market["custom_strike"].items()
    target = venue.public(f"/structured_targets/{target_id}").json()["structured_target"]
    assert target["type"] == kind == "basketball_team"
    assert target["details"]["abbreviation"] == market["ticker"].rsplit("-", 1)[1]
    milestone = event["milestones"][0]
    listed = venue.public("/structured_targets", params={"ids": ",".join(milestone["details"][k] for k in
                                                                           ("home_team_id", "away_team_id"))}).json()
    assert len(listed["structured_targets"]) == 2 and listed["cursor"] == ""
    every = venue.public("/structured_targets", params={"page_size": 2000}).json()["structured_targets"]
    assert len(every) == 2 * 10 - 2  # two teams per game; the MLB doubleheader repeats one pair
    assert venue.public("/structured_targets/nope").status_code == 404
