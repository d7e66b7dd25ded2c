"""`fast_init` and `unfrozen_twin` must build exactly the object the dataclass's own `__init__` builds, and
refuse, when the class is defined, what they do not model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.mapping.resolver import _Match
from arb_pipeline.mapping.results import ResolvedLine, ResolvedMarket, Unresolved
from arb_pipeline.mapping.rules import MarketSide, Participants
from arb_pipeline.mapping.sportsbook import SportsbookGame
from arb_pipeline.mapping.tickers import EventTicker
from arb_pipeline.slotted import fast_init, unfrozen_twin

DECORATED = (ResolvedMarket, ResolvedLine, Unresolved, MarketSide, Participants, SportsbookGame, EventTicker, _Match)


@fast_init
@dataclass(frozen=True, slots=True)
class _Sample:
    a: object
    b: object
    c: object = "c-default"
    d: object = None
    both: tuple[object, object] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "both", (self.a, self.b))


def _slots(obj: object) -> list[object]:
    return [getattr(obj, f.name) for f in dataclasses.fields(obj)]  # type: ignore[arg-type]


values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats(allow_nan=False), st.tuples(st.integers()))


@given(a=values, b=values, rest=st.lists(values, max_size=2), use_keywords=st.booleans())
def test_same_object_as_the_dataclass_init(a: object, b: object, rest: list[object], use_keywords: bool) -> None:
    names = ("a", "b", "c", "d")[:2 + len(rest)]
    args = (a, b, *rest)
    fast = _Sample(**dict(zip(names, args, strict=True))) if use_keywords else _Sample(*args)
    plain = object.__new__(_Sample)
    _Sample.__dataclass_init__(plain, *args)  # type: ignore[attr-defined]
    assert all(x is y for x, y in zip(_slots(fast)[:4], _slots(plain)[:4], strict=True))
    assert all(x is y for x, y in zip(fast.both, plain.both, strict=True))  # __post_init__ ran
    assert fast == plain and repr(fast) == repr(plain) and hash(fast) == hash(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.a = 1  # type: ignore[misc]


def test_same_errors_for_missing_or_extra_arguments() -> None:
    for call in (lambda cls: cls(1), lambda cls: cls(1, 2, 3, 4, 5), lambda cls: cls(1, 2, e=3)):
        with pytest.raises(TypeError):
            call(_Sample)


@pytest.mark.parametrize("cls", DECORATED, ids=lambda c: c.__name__)
def test_decorated_classes_keep_their_signature_and_defaults(cls: type) -> None:
    """Every field the generated `__init__` takes, in the same order with the same defaults."""
    import inspect

    fast, plain = inspect.signature(cls.__init__), inspect.signature(cls.__dataclass_init__)
    assert list(fast.parameters) == list(plain.parameters)
    assert [p.default for p in fast.parameters.values()] == [p.default for p in plain.parameters.values()]


def test_resolution_objects_rebuild_identically(resolution_objects: list[object]) -> None:
    """Real objects of a resolution (all decorated classes), rebuilt field by field both ways."""
    seen = {type(o) for o in resolution_objects}
    assert {ResolvedMarket, Unresolved, MarketSide, Participants, SportsbookGame, EventTicker, _Match} <= seen
    for obj in resolution_objects:
        cls = type(obj)
        kwargs = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
        plain = object.__new__(cls)
        cls.__dataclass_init__(plain, **kwargs)
        fast = cls(**kwargs)
        assert all(x is y or x == y for x, y in zip(_slots(fast), _slots(plain), strict=True))
        assert fast == plain == obj and repr(fast) == repr(plain)


@pytest.fixture
def resolution_objects() -> list[object]:
    """Every frozen object one resolution makes, captured from the decorated classes' constructors."""
    made: list[object] = []
    originals = {cls: cls.__init__ for cls in DECORATED}

    def capturing(original):  # type: ignore[no-untyped-def]
        def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            original(self, *args, **kwargs)
            made.append(self)
        return init

    for cls in DECORATED:
        cls.__init__ = capturing(originals[cls])
    try:
        _resolve_the_league_cases()
    finally:
        for cls, original in originals.items():
            cls.__init__ = original
    return made


@pytest.mark.parametrize("bad", ["factory", "kw_only", "not_frozen", "init_false_default"])
def test_refuses_what_it_does_not_model(bad: str) -> None:
    with pytest.raises(TypeError, match="fast_init"):
        if bad == "factory":
            fast_init(dataclass(frozen=True, slots=True)(type("F", (), {"__annotations__": {"x": "list"},
                                                                        "x": field(default_factory=list)})))
        elif bad == "kw_only":
            fast_init(dataclass(frozen=True, slots=True, kw_only=True)(type("K", (), {"__annotations__": {"x": "int"}})))
        elif bad == "not_frozen":
            fast_init(dataclass(slots=True)(type("N", (), {"__annotations__": {"x": "int"}})))
        else:
            fast_init(dataclass(frozen=True, slots=True)(type("I", (), {"__annotations__": {"x": "int"},
                                                                        "x": field(init=False, default=1)})))


def _resolve_the_league_cases() -> None:
    """test_resolver's league cases resolved together, plus a sportsbook game with an unknown team."""
    from arb_pipeline.domain import Outcome
    from arb_pipeline_tests.mapping.factories import game_event, h2h, milestone
    from arb_pipeline_tests.mapping.test_resolver import CASES, run

    events, milestones, quotes = [], [], []
    for n, (_, league, ticker, teams, on, start, (home, away, commence), three_way, expected) in enumerate(CASES):
        events.append(game_event(league, ticker, teams, on=on, tie=three_way))
        home_id = next(t for o, t in expected.values() if o is Outcome.HOME)
        away_id = next(t for o, t in expected.values() if o is Outcome.AWAY)
        milestones.append(milestone(ticker, start, home=home_id, away=away_id))
        quotes += h2h(f"g{n}", league, home, away, commence)
    quotes += h2h("unknown", "NBA", "Zzyzx Rovers", "Boston Celtics", CASES[0][6][2])
    res = run(events, milestones, quotes, common_fast_path=False)  # the general path makes every class
    assert res.rows and res.unresolved


# --- unfrozen_twin ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    a: object
    b: object
    c: object = "c-default"
    tag: object = field(init=False, default=None)  # set by __post_init__: the twin stores it like any slot

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag", ("tag", self.a))


def _record(a: object, b: object, c: object) -> _Record:
    return _Record(a, b, c)


@given(a=values, b=values, c=values, use_keywords=st.booleans())
def test_a_twin_builds_the_constructors_object(a: object, b: object, c: object, use_keywords: bool) -> None:
    """Parameters in the caller's order (not the slots'), a constant, every slot the very object given."""
    tag = ("tag", a)
    twin = unfrozen_twin(_Record, ("c", "a", "b"), constants={"tag": tag})
    built = twin(c=c, a=a, b=b) if use_keywords else twin(c, a, b)
    reference = _Record(a, b, c)
    assert type(built) is _Record
    assert [getattr(built, s) for s in _Record.__slots__] == [getattr(reference, s) for s in _Record.__slots__]
    assert built.a is a and built.b is b and built.c is c and built.tag is tag
    assert built == reference and repr(built) == repr(reference) and hash(built) == hash(reference)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.a = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.tag = 1  # type: ignore[misc]


def test_a_twin_sets_its_constants_on_every_record_and_takes_only_its_params() -> None:
    import inspect

    marker = object()
    twin = unfrozen_twin(_Record, ("b", "a"), constants={"c": marker, "tag": ()})
    assert list(inspect.signature(twin).parameters) == ["b", "a"]
    first, second = twin(1, 2), twin(3, 4)
    assert (first.a, first.b, second.a, second.b) == (2, 1, 4, 3)
    assert first.c is marker and second.c is marker and first.tag == () == second.tag
    with pytest.raises(TypeError):
        twin(1, 2, 3)  # a constant is no parameter
    assert twin.__slots__ == _Record.__slots__


class _HandWrittenTwin:
    """What a twin of `_Record` with params (c, a, b) and the constant `tag` used to be written as."""

    __slots__ = _Record.__slots__

    def __init__(self, c, a, b) -> None:  # type: ignore[no-untyped-def]
        self.a = a
        self.b = b
        self.c = c
        self.tag = ("tag", None)
        self.__class__ = _Record  # type: ignore[assignment]


def test_a_twin_runs_the_hand_written_twins_bytecode_op_for_op() -> None:
    """Why it costs what the hand-written classes cost, held without timing anything: the same instructions
    (stores by slot name, each argument a local, a constant a literal, the class a global)."""
    import dis

    tag = ("tag", None)
    twin = unfrozen_twin(_Record, ("c", "a", "b"), constants={"tag": tag})

    def ops(init: object) -> list[tuple[str, object]]:
        return [(i.opname, i.argval if i.opname in ("STORE_ATTR", "LOAD_FAST") else None)
                for i in dis.get_instructions(init)]  # type: ignore[arg-type]

    assert ops(twin.__init__) == ops(_HandWrittenTwin.__init__)
    assert [i.argval for i in dis.get_instructions(twin.__init__) if i.opname == "LOAD_CONST"][0] is tag
    assert twin.__init__.__code__.co_varnames == _HandWrittenTwin.__init__.__code__.co_varnames


def test_default_params_are_the_other_slots_in_slot_order() -> None:
    import inspect

    assert list(inspect.signature(unfrozen_twin(_Record)).parameters) == ["a", "b", "c", "tag"]
    assert list(inspect.signature(unfrozen_twin(_Record, constants={"b": 0})).parameters) == ["a", "c", "tag"]


@pytest.mark.parametrize(("params", "constants", "message"), [
    (("a", "b", "c"), None, r"_Record\.tag is neither a parameter nor a constant"),  # a slot missing
    (("a", "b", "c", "tag", "a"), None, r"_Record\.a is named more than once"),  # a parameter twice
    (("a", "b", "c", "tag"), {"b": 1}, r"_Record\.b is named more than once"),  # a parameter and a constant
    (("a", "b", "c", "tag", "d"), None, r"_Record has no slot 'd'"),  # an unknown name
    (("a", "b", "c"), {"tags": 1}, r"_Record has no slot 'tags'"),  # an unknown constant
    ("abc", None, r"_Record: params must be a sequence of slot names"),  # one string is no list of names
])
def test_refuses_params_that_do_not_cover_every_slot_once(params, constants, message) -> None:
    with pytest.raises(TypeError, match=message):
        unfrozen_twin(_Record, params, constants)


@pytest.mark.parametrize("bad", ["not_frozen", "not_slotted", "not_dataclass", "subclass", "dict_slot", "self_slot"])
def test_refuses_a_class_it_cannot_swap_into(bad: str) -> None:
    annotations = {"__annotations__": {"x": "int"}}
    if bad == "not_frozen":
        cls = dataclass(slots=True)(type("N", (), annotations))
    elif bad == "not_slotted":
        cls = dataclass(frozen=True)(type("N", (), annotations))
    elif bad == "not_dataclass":
        cls = type("N", (), {"__slots__": ("x",)})
    elif bad == "subclass":
        base = dataclass(frozen=True, slots=True)(type("B", (), {"__annotations__": {"w": "int"}}))
        cls = dataclass(frozen=True, slots=True)(type("N", (base,), annotations))
    elif bad == "dict_slot":
        cls = dataclass(frozen=True)(type("N", (), {**annotations, "__slots__": ("x", "__dict__")}))
    else:
        cls = dataclass(frozen=True, slots=True)(type("N", (), {"__annotations__": {"self": "int"}}))
    with pytest.raises(TypeError, match=r"unfrozen_twin: N"):
        unfrozen_twin(cls)


def test_refuses_a_layout_cpython_will_not_swap_when_the_twin_is_made() -> None:
    """A `__weakref__` slot is no field, but CPython refuses the swap into such a dataclass: refused here,
    when the module defining the twin is imported, never at the first record."""
    cls = dataclass(frozen=True, slots=True, weakref_slot=True)(type("W", (), {"__annotations__": {"x": "int"}}))
    with pytest.raises(TypeError, match=r"unfrozen_twin: W: its layout cannot be swapped into"):
        unfrozen_twin(cls, ("x",))
