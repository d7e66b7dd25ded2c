"""`paused_gc`: the cyclic collector is paused inside, restored after, and never turned on by a nested pause."""

import gc

import pytest

from arb_pipeline.gcpause import gc_paused, paused_gc


@pytest.fixture(autouse=True)
def restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_restored_after_even_on_error():
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: still paused, and the inner exit does not resume it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    with paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_decorator_pauses_for_the_call():
    gc.enable()

    @gc_paused
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False and gc.isenabled()


def test_what_a_pause_allocated_moves_to_the_oldest_generation_without_a_collection():
    """After the pause no young collection is due for the stage's objects (they are in generation 2),
    and nothing is left frozen; a cycle made garbage inside is still collected by a full collection."""
    import weakref

    class Node:
        pass

    gc.enable()
    collections = []
    callback = lambda phase, info: collections.append(info["generation"]) if phase == "start" else None  # noqa: E731
    gc.callbacks.append(callback)
    try:
        with paused_gc():
            kept = [[i] for i in range(20_000)]
            cycle = Node()
            cycle.me = cycle
            gone = weakref.ref(cycle)
            del cycle
            assert gc.get_count()[0] >= 20_000
        assert gc.get_count()[0] < 700 and gc.get_freeze_count() == 0
        assert collections == [] and gone() is not None  # no collection ran: the cycle waits
        assert any(o is kept for o in gc.get_objects(generation=2))
    finally:
        gc.callbacks.remove(callback)
    gc.collect()
    assert gone() is None


def test_objects_someone_froze_stay_frozen():
    gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with paused_gc():
            _ = [[i] for i in range(1_000)]
        # still frozen (undoing their freeze would leave 0) and nothing of the stage's added (more than
        # before); frozen objects that reference counting freed meanwhile may make it a little less
        assert 0 < gc.get_freeze_count() <= frozen and gc.isenabled()
    finally:
        gc.unfreeze()
