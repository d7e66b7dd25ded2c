"""A library's top-level `import x` of a module it uses only in code this project never calls, deferred.

Why: `pydantic_settings.main` imports `asyncio` at its top for `CliApp.run` alone (the only place it
touches `asyncio`), and the one `Settings` class needs `pydantic_settings`. Importing `asyncio` (with
`ssl`, `socket`, `subprocess`, `concurrent.futures`) is ~0.04 s CPU - about 3 % of `scan --snapshot`
at 5,000 games, a process that never runs an event loop. Processes that do use `asyncio` (Dagster, the
API, the simulator) import it themselves, and nothing changes for them: a module already imported is
never stood in for.

How: while `deferring(name)` is active, `sys.modules[name]` is a `_OnFirstUse` stand-in, so an
`import name` inside it binds the stand-in. On leaving, the stand-in is taken out of `sys.modules`, so
every later `import name` anywhere imports the real module as usual. The stand-in forwards every
attribute to the real module, importing it at the first access (thread-safe: the import system's own
lock), so the library's code behaves exactly as if it had imported the module itself. A submodule
imported inside the block (`import name.sub`) is refused with an ImportError rather than loaded twice: a
library that starts doing so fails its import loudly (`test_deferred_import` imports the settings).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


class _OnFirstUse(types.ModuleType):
    """Forwards attribute access to the real module `self.__name__`, imported at the first access."""

    def __getattr__(self, attribute: str) -> object:
        name = self.__name__
        if sys.modules.get(name) is self:  # accessed while still standing in: make way for the real one
            if attribute == "__path__":
                # `import name.sub` inside the block: the import system would go on to load `name.sub` a
                # second time after the real `name` loaded it, so it fails instead ("not a package")
                raise AttributeError(f"{name} is deferred (arb_pipeline.deferred_import): import it first")
            del sys.modules[name]
        return getattr(importlib.import_module(name), attribute)


@contextmanager
def deferring(name: str) -> Iterator[None]:
    """Within the block, `import name` (a top-level module not imported yet) binds a stand-in that imports
    the real module when first used; a module already imported is left as it is."""
    if name in sys.modules:
        yield
        return
    stand_in = _OnFirstUse(name)
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
