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
