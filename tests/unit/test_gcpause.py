"""paused_gc: the collector is off inside, back to its previous state after, and cycles are still collected."""

from __future__ import annotations

import gc
import weakref

import pytest

from fabric.core.gcpause import paused_gc


class Node:
    """A weak-referenceable object that can sit in a reference cycle."""

    other: Node | None = None


@pytest.fixture
def gc_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pauses_and_restores(gc_enabled):
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: the inner block must not re-enable it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restores_a_disabled_collector_as_disabled(gc_enabled):
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_restores_after_an_exception(gc_enabled):
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_cycles_built_inside_are_still_collected(gc_enabled):
    with paused_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
    assert ref() is not None  # nothing collected while paused, and the exit only moves generations
    gc.collect()
    assert ref() is None
