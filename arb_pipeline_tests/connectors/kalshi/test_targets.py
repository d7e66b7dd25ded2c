"""Structured targets through the Kalshi connector, against the shipped simulator over real HTTP:
the wire parsers, the list and single endpoints (signed, rate-limited, retried like every call),
the per-venue cache and the ids a GET /events response names."""

from __future__ import annotations

import logging

import pytest

from arb_pipeline.connectors.kalshi import KalshiClient, KalshiSigner
from arb_pipeline.connectors.kalshi.errors import KalshiNotFound, KalshiResponseError
from arb_pipeline.connectors.kalshi.targets import (
    StructuredTargetCache,
    parse_structured_target,
    parse_structured_targets_response,
    shared_target_cache,
    target_ids_in_events_payload,
)
from arb_pipeline.sim.server import SimConfig, start_simulator

UNKNOWN = "00000000-0000-4000-8000-00000000beef"


@pytest.fixture(scope="module")
def sim():
    with start_simulator(SimConfig(seed=4, games_per_league=2, kalshi_tier=None)) as handle:
        yield handle


@pytest.fixture
def client(sim):
    signer = KalshiSigner.from_pem(sim.key_id, sim.private_key_pem)
    with KalshiClient(sim.kalshi_base_url, signer=signer, max_retries=1) as c:
        yield c


def _slate_ids(client: KalshiClient) -> list[str]:
    return target_ids_in_events_payload(client.fetch_events_payload(series_tickers=["KXNBAGAME", "KXEPLGAME"]))


def test_parsers_read_the_wire_shape_and_name_the_bad_field():
    obj = {"id": "t1", "name": "Boston Celtics", "type": "basketball_team", "details": {"league": "NBA"},
           "source_id": "sr:competitor:1", "source_ids": {"sportradar": "sr:competitor:1"},
           "last_updated_ts": "2026-11-01T00:00:00Z", "future_field": 1}
    target = parse_structured_target(obj)
    assert (target.id, target.name, target.type, target.source_ids) == (
        "t1", "Boston Celtics", "basketball_team", {"sportradar": "sr:competitor:1"})
    minimal = parse_structured_target({"id": "t2", "name": "X"})  # the spec requires no field
    assert minimal.type == "" and minimal.details == {} and minimal.last_updated is None
    targets, cursor = parse_structured_targets_response({"structured_targets": [obj]})  # cursor may be absent
    assert list(targets) == ["t1"] and cursor == ""
    with pytest.raises(KalshiResponseError, match="structured_targets\\[0\\].name"):
        parse_structured_targets_response({"structured_targets": [{"id": "t3"}], "cursor": ""})
    with pytest.raises(KalshiResponseError, match="appears twice"):
        parse_structured_targets_response({"structured_targets": [obj, obj], "cursor": ""})
    with pytest.raises(KalshiResponseError, match="source_ids.sportradar"):
        parse_structured_target({**obj, "source_ids": {"sportradar": 7}})


def test_events_payload_names_custom_strike_and_milestone_ids_once(client):
    payload = client.fetch_events_payload(series_tickers=["KXEPLGAME"])
    ids = target_ids_in_events_payload(payload)
    strikes = {v for e in payload["events"] for m in e["markets"] for v in (m.get("custom_strike") or {}).values()}
    homes = {m["details"]["home_team_id"] for m in payload["milestones"]}
    assert len(ids) == len(set(ids)) and set(ids) == strikes | homes | {
        m["details"]["away_team_id"] for m in payload["milestones"]}
    # a detail id that is not a UUID (e.g. a provider id) is not asked for
    assert target_ids_in_events_payload({"milestones": [{"details": {"venue_id": "sr:venue:1"}}]}) == []


def test_single_and_list_endpoints(client):
    ids = _slate_ids(client)
    one = client.get_structured_target(ids[0])
    assert one.id == ids[0] and one.name and one.type.endswith("_team")
    listed = {t.id: t for t in client.iter_structured_targets(ids=ids, page_size=3)}  # paged by cursor
    assert set(listed) == set(ids) and listed[ids[0]] == one
    with pytest.raises(KalshiNotFound):
        client.get_structured_target(UNKNOWN)
    with pytest.raises(ValueError, match="not a valid Kalshi identifier"):
        client.get_structured_target("../portfolio/balance")


def test_objects_fall_back_to_the_single_endpoint_and_drop_unknown_ids(client, caplog):
    ids = _slate_ids(client)
    with caplog.at_level(logging.WARNING, logger="arb_pipeline.connectors.kalshi.client"):
        found = client.fetch_structured_target_objects([*ids, UNKNOWN, ids[0]])
    assert set(found) == set(ids)  # duplicates asked once, the unknown id absent
    assert any(UNKNOWN in r.getMessage() for r in caplog.records)
    payload = client.fetch_structured_targets_payload([UNKNOWN, *ids])
    assert payload["cursor"] == "" and [t["id"] for t in payload["structured_targets"]] == ids
    assert parse_structured_targets_response(payload)[0].keys() == set(ids)


def test_cache_serves_fresh_targets_and_refetches_after_the_ttl():
    now = [0.0]
    calls: list[list[str]] = []

    def fetch(ids):
        calls.append(list(ids))
        return {i: {"id": i, "name": i.upper()} for i in ids if i != "gone"}

    cache = StructuredTargetCache(ttl_s=100, missing_ttl_s=10, clock=lambda: now[0])
    assert set(cache.lookup(["a", "b", "gone"], fetch)) == {"a", "b"}
    assert set(cache.lookup(["b", "a", "gone"], fetch)) == {"a", "b"} and len(calls) == 1
    now[0] = 11.0  # the missing id is asked again after its shorter TTL; the found ones are not
    cache.lookup(["a", "gone"], fetch)
    assert calls[-1] == ["gone"]
    now[0] = 101.0
    cache.lookup(["a", "b", "c"], fetch)
    assert calls[-1] == ["a", "b", "c"] and cache.fetched == 7
    with pytest.raises(ValueError, match="TTLs must be positive"):
        StructuredTargetCache(ttl_s=0)


def test_capture_through_the_cache_asks_the_venue_once(client, sim):
    cache = StructuredTargetCache()
    ids = _slate_ids(client)
    first = client.fetch_structured_targets_payload(ids, cache=cache)
    after_first = client.stats.snapshot().requests
    second = client.fetch_structured_targets_payload(ids, cache=cache)
    assert first == second and cache.fetched == len(ids)
    assert client.stats.snapshot().requests == after_first  # served from the cache: no request
    assert shared_target_cache(sim.kalshi_base_url) is shared_target_cache(sim.kalshi_base_url)
    assert shared_target_cache(sim.kalshi_base_url) is not shared_target_cache(sim.kalshi_base_url + "/other")
