"""Code generated from a frozen, slotted dataclass's own fields, for the records made by the ten thousand.

Why generated: hand-written copies of a field list are what goes wrong when a field is added. Both
builders here read the class's fields (or slots) when the class is defined and refuse there what they
do not model, so an added field is either built like the others or a TypeError at import, never a
record with a field silently missing.

`fast_init` - a faster `__init__` for such a class. A frozen dataclass's generated `__init__` sets each
field with `object.__setattr__(self, "name", v)`, which looks the attribute up by name on every call; a
19-field `ResolvedMarket` cost ~2.4 µs, and a 5,000-game scan makes ~45,000 such objects (~10 % of
resolution). `fast_init` replaces it with one that calls each slot's own descriptor (`member.__set__`,
what `object.__setattr__` ends up calling) - the same signature, defaults, stored values and
`__post_init__` call, about twice as fast. Anything this does not model (default factories, `InitVar`,
keyword-only fields, a non-frozen or dict-backed class) is refused when the class is defined.

`unfrozen_twin` - a builder class for callers that already hold every field's final value (parsers,
batch builders): the same slot layout without the frozen `__setattr__`, whose `__init__` is plain slot
stores (`self.x = x`) and then `self.__class__ = cls`. CPython allows that assignment only between
classes of identical layout, and from then on the object IS a `cls`, frozen. It skips `__init__`'s
conversions and `__post_init__`'s checks: the caller vouches for the values (each call site says why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Class decorator, applied after `@dataclass(frozen=True, slots=True)`; keeps the generated
    `__init__` as `cls.__dataclass_init__` (the tests hold the two to the same objects)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"fast_init: {cls.__name__} must be a frozen, slotted dataclass")
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__):  # a ClassVar is not in fields(); an InitVar is
        raise TypeError(f"fast_init: {cls.__name__} has InitVar or ClassVar pseudo-fields")
    args: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {}
    for f in fields:
        if f.default_factory is not dataclasses.MISSING or f.kw_only:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name}: default factories and keyword-only "
                            "fields are not supported")
        if not f.init:
            if f.default is not dataclasses.MISSING:
                raise TypeError(f"fast_init: {cls.__name__}.{f.name}: init=False with a default is not supported")
            continue  # set by __post_init__, as with the generated __init__
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(args)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - source built above from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__dataclass_init__ = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    return cls


def unfrozen_twin(cls: type[T], params: Sequence[str] | None = None,
                  constants: Mapping[str, Any] | None = None) -> type[T]:
    """The builder class of `cls`: `twin(*args)` (or by keyword) returns a `cls` whose slot `params[i]` is
    `args[i]` and slot `name` is `constants[name]` (the same object for every record), with no conversion
    and no `__post_init__`. `params` defaults to every slot not in `constants`, in `__slots__` order.

    Refuses (TypeError naming the class and the field) a `cls` that is not a frozen dataclass with its own
    `__slots__` directly over `object` (or whose layout CPython will not swap into, e.g. with a
    `__weakref__` slot), and `params` + `constants` that do not name every slot exactly once.

    The generated `__init__` is the bytecode a hand-written one has, op for op (constants are literals,
    `cls` a global), so it costs the same per record."""
    name = getattr(cls, "__name__", repr(cls))
    dc_params = getattr(cls, "__dataclass_params__", None)
    if (dc_params is None or not dc_params.frozen or "__slots__" not in cls.__dict__
            or cls.__bases__ != (object,) or "__dict__" in cls.__slots__):
        raise TypeError(f"unfrozen_twin: {name} must be a frozen, slotted dataclass with no base class")
    slots = tuple(s for s in cls.__slots__ if s != "__weakref__")
    if isinstance(params, str):
        raise TypeError(f"unfrozen_twin: {name}: params must be a sequence of slot names, not one string")
    constants = dict(constants or {})
    params = tuple(s for s in slots if s not in constants) if params is None else tuple(params)
    named = [*params, *constants]
    for field_name in named:
        if named.count(field_name) > 1:
            raise TypeError(f"unfrozen_twin: {name}.{field_name} is named more than once in params and constants")
        if field_name not in slots:
            raise TypeError(f"unfrozen_twin: {name} has no slot {field_name!r}")
        if field_name == "self" or field_name.startswith("_twin_"):  # the generated code's own names
            raise TypeError(f"unfrozen_twin: {name}.{field_name}: a slot name the generated code cannot take")
    for slot in slots:
        if slot not in named:
            raise TypeError(f"unfrozen_twin: {name}.{slot} is neither a parameter nor a constant")
    # The statements a hand-written twin has, op for op: `self.x = x` per parameter, `self.x = <constant>` per
    # constant (a placeholder literal in the source, replaced by the very object in the compiled constants),
    # then `self.__class__ = cls` (a global of the function, as a module's class would be).
    placeholders = {f"unfrozen_twin constant {k}": v for k, v in constants.items()}
    body = [f"    self.{s} = {s}" if s in params else f"    self.{s} = {f'unfrozen_twin constant {s}'!r}" for s in slots]
    source = (f"def __init__(self{''.join(', ' + p for p in params)}):\n" + "\n".join(body) + "\n"
              "    self.__class__ = _twin_cls  # from here on it is frozen\n")
    namespace: dict[str, Any] = {"_twin_cls": cls}
    exec(source, namespace)  # noqa: S102 - source built above from the class's own slot names
    init = namespace["__init__"]
    code = init.__code__
    init.__code__ = code.replace(co_consts=tuple(placeholders.get(c, c) if type(c) is str else c
                                                 for c in code.co_consts))
    twin = type(f"_{name}UnderConstruction", (), {
        "__slots__": cls.__slots__, "__module__": cls.__module__,
        "__doc__": f"`{name}` built by plain slot stores, then made a `{name}` (see `unfrozen_twin`).",
        "__init__": init})
    twin.__init__.__qualname__ = f"{twin.__qualname__}.__init__"
    try:  # the swap, tried once now on an empty record, so a layout CPython will not swap fails here, not later
        object.__new__(twin).__class__ = cls
    except TypeError as error:
        raise TypeError(f"unfrozen_twin: {name}: its layout cannot be swapped into ({error})") from None
    return twin  # type: ignore[return-value]
