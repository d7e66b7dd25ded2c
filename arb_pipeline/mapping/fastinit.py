"""A faster `__init__` for the frozen, slotted dataclasses that resolution makes by the ten thousand.

Why: a frozen dataclass's generated `__init__` sets each field with `object.__setattr__(self, "name", v)`,
which looks the attribute up by name on every call; a 19-field `ResolvedMarket` cost ~2.4 µs, and a
5,000-game scan makes ~45,000 such objects (~10 % of resolution). `fast_init` replaces it with one that
calls each slot's own descriptor (`member.__set__`, what `object.__setattr__` ends up calling) — the
same signature, defaults, stored values and `__post_init__` call, about twice as fast. Anything this
does not model (default factories, `InitVar`, keyword-only fields, a non-frozen or dict-backed class)
is refused when the class is defined, never half-supported.
"""

from __future__ import annotations

import dataclasses
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
