from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories import HedgeRepository, MappingRepository, OpportunityRepository

D = Decimal
T0 = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_mapping_upsert_and_overrides_keep_who_when_why(session_factory):
    with session_scope(session_factory) as s:
        repo = MappingRepository(s)
        repo.upsert(kalshi_ticker="KX-NYK", kalshi_event_ticker="KX", provider="the_odds_api",
                    sportsbook_event_id="e1", outcome="home", method="exact", confidence=D("0.98"), resolved_at=T0)
        repo.upsert(kalshi_ticker="KX-NYK", kalshi_event_ticker="KX", provider="the_odds_api",
                    sportsbook_event_id="e2", outcome="home", method="fuzzy", confidence=D("0.7"), resolved_at=T0)
        override = repo.add_override(kalshi_ticker="KX-NYK", action="reject", who="alice", why="wrong game",
                                     sportsbook_event_id="e2", at=T0)
    with session_scope(session_factory) as s:
        repo = MappingRepository(s)
        (mapping,) = repo.mappings(kalshi_event_ticker="KX")
        assert (mapping.sportsbook_event_id, mapping.confidence) == ("e2", D("0.7"))
        (active,) = repo.active_overrides("KX-NYK")
        assert (active.who, active.why, active.action) == ("alice", "wrong game", "reject")
        repo.revoke_override(override.id, who="bob", at=T0)
        assert repo.active_overrides() == []


@pytest.mark.parametrize("kw", [{"action": "delete"}, {"who": " "}, {"action": "override", "outcome": "home"}])
def test_bad_overrides_are_refused(session_factory, kw):
    args = dict(kalshi_ticker="KX", action="confirm", who="alice", why="ok", at=T0)
    args.update(kw)
    with session_scope(session_factory) as s, pytest.raises(ValueError):
        MappingRepository(s).add_override(**args)


def test_opportunity_and_hedge_are_recorded_once(session_factory):
    with session_scope(session_factory) as s:
        opps = OpportunityRepository(s)
        opps.record(opportunity_id="o1", opportunity_key="k", event_key="KX", detected_at=T0, cost=D("22.95"),
                    profit=D("2.04"), payload={"legs": [{"price": "0.456"}], "age": float("nan"), "at": T0,
                                               "cost": D("22.95")}, at=T0)
        again = opps.record(opportunity_id="o1", opportunity_key="k", event_key="KX", detected_at=T0 + timedelta(1),
                            cost=D(1), profit=D(1), payload={}, at=T0)
        assert again.cost == D("22.95")
        hedges = HedgeRepository(s)
        h = hedges.record(client_order_id="c", opportunity_id="o1", leg_index=1, bookmaker="pinnacle", event="KX",
                          selection="BOS", odds=D("2.25"), stake=D("11.11"), worst_acceptable_odds=D("2.0658"), at=T0)
        assert hedges.record(client_order_id="c", opportunity_id="o1", leg_index=1, bookmaker="x", event="x",
                             selection="x", odds=D(3), stake=D(1), worst_acceptable_odds=None, at=T0).id == h.id
    with session_scope(session_factory) as s:
        hedges = HedgeRepository(s)
        assert [x.worst_acceptable_odds for x in hedges.pending()] == [D("2.0658")]
        hedges.set_status(h.id, "placed", note="placed at 2.24")
        assert hedges.pending() == [] and hedges.for_order("c")[0].note == "placed at 2.24"
        assert OpportunityRepository(s).get("o1").payload == {
            "legs": [{"price": "0.456"}], "age": None, "at": T0.isoformat(), "cost": "22.95"}


def test_two_processes_recording_one_opportunity_at_once_both_succeed(session_factory, other_engine):
    """Two scan processes (separate engines) record the same opportunity at the same moment. The first
    has inserted but not committed when the second records: a look-up-then-insert sees no row and dies
    on the primary key (UniqueViolation on PostgreSQL); ON CONFLICT DO NOTHING waits and returns the row."""
    import threading
    import time

    from arb_pipeline.storage.db import session_factory as make_sessions
    from arb_pipeline_tests.waiting import join, wait_until

    inserted, done = threading.Event(), {}

    def first():
        with session_scope(session_factory) as s:
            OpportunityRepository(s).record(opportunity_id="o1", opportunity_key="k", event_key="KX", detected_at=T0,
                                            cost=D("22.95"), profit=D("2.04"), payload={"by": "first"}, at=T0)
            inserted.set()
            time.sleep(0.5)  # still uncommitted while the second process records
        done["first"] = True

    def second():
        wait_until(inserted.is_set)
        try:
            with session_scope(make_sessions(other_engine)) as s:
                row = OpportunityRepository(s).record(opportunity_id="o1", opportunity_key="k", event_key="KX",
                                                      detected_at=T0, cost=D("22.95"), profit=D("2.04"),
                                                      payload={"by": "second"}, at=T0)
                done["second"] = row.payload
        except Exception as exc:  # noqa: BLE001 - the failure is the finding
            done["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        join(t)
    assert done == {"first": True, "second": {"by": "first"}}
    with session_scope(session_factory) as s:
        assert OpportunityRepository(s).get("o1").payload == {"by": "first"}


def test_a_lease_has_one_holder_until_released_or_expired(session_factory, other_engine):
    from datetime import timedelta as td

    from arb_pipeline.storage.db import session_factory as make_sessions
    from arb_pipeline.storage.repositories import LeaseRepository

    other = make_sessions(other_engine)
    with session_scope(session_factory) as s:
        assert LeaseRepository(s).acquire("orders:paper", "a", at=T0, ttl=td(seconds=300))
    with session_scope(other) as s:  # a second process
        assert not LeaseRepository(s).acquire("orders:paper", "b", at=T0 + td(seconds=10), ttl=td(seconds=300))
        assert LeaseRepository(s).acquire("orders:live", "b", at=T0, ttl=td(seconds=300))  # another name
    with session_scope(session_factory) as s:
        assert LeaseRepository(s).acquire("orders:paper", "a", at=T0 + td(seconds=20), ttl=td(seconds=300))  # renew
        LeaseRepository(s).release("orders:paper", "b")  # not b's to release
    with session_scope(other) as s:
        assert not LeaseRepository(s).acquire("orders:paper", "b", at=T0 + td(seconds=319), ttl=td(seconds=300))
        assert LeaseRepository(s).acquire("orders:paper", "b", at=T0 + td(seconds=320), ttl=td(seconds=300))  # a died
        assert LeaseRepository(s).holder("orders:paper").owner == "b"
        LeaseRepository(s).release("orders:paper", "b")
    with session_scope(session_factory) as s:
        assert LeaseRepository(s).holder("orders:paper") is None


_marks_example = iter(range(10**9))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scans=st.lists(st.tuples(
    st.integers(-120, 120),  # minutes from the game's start the scan sees it (negative: before the start)
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["home", "away"]),
                       st.one_of(st.none(), st.floats(0.01, 0.99)), st.sampled_from(["", "KX-ALT"])),
             min_size=1, max_size=6)),
    min_size=1, max_size=5))
def test_marking_many_outcomes_at_once_keeps_the_rules_of_marking_one_at_a_time(session_factory, scans):
    """`mark_many` (one query, one flush: the scan's path at 1,000 games) leaves exactly the rows `mark`
    leaves, scan after scan: before the start the latest consensus wins, an older scan changes nothing,
    after the start only unseen outcomes are added (without a consensus), a scan naming one outcome twice
    keeps its last word."""
    from arb_pipeline.storage.repositories import GameMarkRepository

    n = next(_marks_example)
    one, many = f"ONE{n}-", f"MANY{n}-"
    start = T0 + timedelta(hours=2)
    for minutes, outcomes in scans:
        at = start + timedelta(minutes=minutes)
        items = [dict(outcome=outcome, kalshi_ticker=f"KX{game}-{outcome}{alt}", league="NBA",
                      commence_time=start + timedelta(minutes=game), fair_probability=fair, method="power")
                 for game, outcome, fair, alt in outcomes]
        games = [game for game, *_ in outcomes]
        with session_scope(session_factory) as s:
            for game, item in zip(games, items, strict=True):
                GameMarkRepository(s).mark(event_ticker=f"{one}{game}", at=at, **item)
        with session_scope(session_factory) as s:
            assert GameMarkRepository(s).mark_many(
                [dict(event_ticker=f"{many}{game}", **item) for game, item in zip(games, items, strict=True)],
                at=at) == len(items)
    with session_scope(session_factory) as s:
        repo = GameMarkRepository(s)

        def rows(prefix):
            return sorted((m.event_ticker.removeprefix(prefix), m.outcome, m.kalshi_ticker, m.league, m.commence_time,
                           m.fair_probability, m.method, m.marked_at)
                          for e in repo.for_events([f"{prefix}{g}" for g in range(3)]).values() for m in e)

        assert rows(many) == rows(one) and rows(one)
