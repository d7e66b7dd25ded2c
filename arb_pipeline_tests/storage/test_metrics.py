"""The shared metric registry in the database: exact increments from many processes at once."""

import math
import threading

import pytest
from sqlalchemy import event

from arb_pipeline.storage.db import session_factory as make_sessions
from arb_pipeline.storage.db import session_scope
from arb_pipeline.storage.repositories.metrics import MetricRepository, label_text


def values(sessions, name):
    with session_scope(sessions) as s:
        return {(tuple(sorted(x.labels.items())), x.le): x.value for x in MetricRepository(s).all(name)}


def test_counters_and_histograms_accumulate(session_factory):
    with session_scope(session_factory) as s:
        repo = MetricRepository(s)
        repo.inc("found_total", 2, {"kind": "arbitrage"})
        repo.inc("found_total", 1, {"kind": "arbitrage"})
        repo.inc("found_total", 0, {"kind": "value"})  # nothing to add: no row
        repo.observe("stage_seconds", 0.3, (0.1, 0.5, 1.0), {"stage": "detect"})
        repo.observe("stage_seconds", 0.05, (0.1, 0.5, 1.0), {"stage": "detect"})
        repo.observe("stage_seconds", 7.0, (0.1, 0.5, 1.0), {"stage": "detect"})
    assert values(session_factory, "found_total") == {((("kind", "arbitrage"),), ""): 3.0}
    hist = {le: v for (_, le), v in values(session_factory, "stage_seconds").items()}
    # cumulative buckets: each observation counts in every bucket at or above it
    assert hist == {"0.1": 1.0, "0.5": 2.0, "1.0": 2.0, "+Inf": 3.0, "count": 3.0, "sum": pytest.approx(7.35)}


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_bad_values_are_refused(session_factory, bad):
    with session_scope(session_factory) as s, pytest.raises(ValueError):
        MetricRepository(s).inc("x_total", bad)
    with session_scope(session_factory) as s, pytest.raises(ValueError):
        MetricRepository(s).observe("x_seconds", bad, (1.0,))


def test_label_values_cannot_break_the_encoding():
    assert label_text({"b": "2", "a": "1"}) == "a=1,b=2"
    with pytest.raises(ValueError):
        label_text({"kind": "a,b=c"})


def test_concurrent_processes_never_lose_an_increment(engine, other_engine):
    """Two engines (two processes' pools) hammering the same new series: every increment counts."""
    per_worker = 40
    errors: list[BaseException] = []

    def work(eng):
        sessions = make_sessions(eng)
        try:
            for _ in range(per_worker):
                with session_scope(sessions) as s:
                    MetricRepository(s).inc("race_total", 1, {"who": "both"})
                    MetricRepository(s).observe("race_seconds", 0.2, (0.1, 1.0))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in (engine, other_engine, engine, other_engine)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    sessions = make_sessions(engine)
    assert values(sessions, "race_total") == {((("who", "both"),), ""): 4 * per_worker}
    hist = {le: v for (_, le), v in values(sessions, "race_seconds").items()}
    assert hist["count"] == hist["1.0"] == hist["+Inf"] == 4 * per_worker and "0.1" not in hist



@pytest.mark.parametrize("method", ["inc", "observe", "set_gauge"])
def test_another_process_committing_between_any_two_statements_loses_nothing(engine, other_engine, method):
    """The interleaving CI once hit on PostgreSQL, made deterministic.

    Before every statement of one call after its first, another engine (another process) writes the
    same new series and commits. The old UPDATE-then-SELECT-then-INSERT saw that row as "already
    there" and dropped its own increment; whatever statements a call runs, both writes must count.
    """
    competing = {"inc": lambda r: r.inc("gap_total", 1), "observe": lambda r: r.observe("gap_seconds", 0.2, (1.0,)),
                 "set_gauge": lambda r: r.set_gauge("gap_gauge", 5.0)}[method]
    ours = {"inc": lambda r: r.inc("gap_total", 2), "observe": lambda r: r.observe("gap_seconds", 0.5, (1.0,)),
            "set_gauge": lambda r: r.set_gauge("gap_gauge", 7.0)}[method]
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        if len(statements) > 1:
            with session_scope(make_sessions(other_engine)) as s:
                competing(MetricRepository(s))

    event.listen(engine, "before_cursor_execute", before)
    try:
        with session_scope(make_sessions(engine)) as s:
            ours(MetricRepository(s))
    finally:
        event.remove(engine, "before_cursor_execute", before)
    if len(statements) <= 1:  # one statement: nothing can come between; the other process writes after
        with session_scope(make_sessions(other_engine)) as s:
            competing(MetricRepository(s))
    sessions = make_sessions(engine)
    if method == "inc":
        assert values(sessions, "gap_total") == {((), ""): 3.0}
    elif method == "observe":
        hist = {le: v for (_, le), v in values(sessions, "gap_seconds").items()}
        assert hist == {"1.0": 2.0, "+Inf": 2.0, "count": 2.0, "sum": pytest.approx(0.7)}
    else:  # last writer wins, and a gauge is one row whichever process created it
        assert values(sessions, "gap_gauge") in ({((), "gauge"): 5.0}, {((), "gauge"): 7.0})
