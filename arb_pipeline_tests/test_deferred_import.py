"""`deferred_import.deferring`: a module imported inside the block is the real module at its first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from arb_pipeline.deferred_import import deferring

_TARGET = "arb_deferred_target"


@pytest.fixture
def target(tmp_path, monkeypatch):
    """A module that counts its own executions (`sys.arb_deferred_runs`) and is not imported yet."""
    (tmp_path / f"{_TARGET}.py").write_text(textwrap.dedent("""
        import sys
        sys.arb_deferred_runs.append(1)
        VALUE = 42
        def double(x):
            return 2 * x
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "arb_deferred_runs", [], raising=False)
    sys.modules.pop(_TARGET, None)
    yield sys.arb_deferred_runs
    sys.modules.pop(_TARGET, None)


def test_the_module_runs_at_its_first_use_not_at_the_import(target):
    with deferring(_TARGET):
        bound = __import__(_TARGET)
    assert target == [] and _TARGET not in sys.modules  # imported by name only; nothing left standing in
    assert bound.VALUE == 42 and bound.double(4) == 8  # the first use imports it, once
    assert target == [1]
    real = __import__(_TARGET)
    assert real is sys.modules[_TARGET] and real is not bound and type(real).__name__ == "module"
    assert bound.double is real.double and target == [1]


def test_a_use_inside_the_block_imports_the_real_module(target):
    with deferring(_TARGET):
        bound = __import__(_TARGET)
        assert bound.VALUE == 42  # no recursion through the stand-in
        from arb_deferred_target import double  # noqa: PLC0415
        assert double(1) == 2
        assert type(sys.modules[_TARGET]).__name__ == "module"
    assert target == [1] and sys.modules[_TARGET].VALUE == 42  # the real module stays imported


def test_a_submodule_imported_inside_the_block_is_refused_not_loaded_twice(tmp_path, monkeypatch):
    package = tmp_path / "arb_deferred_package"
    package.mkdir()
    (package / "__init__.py").write_text("import sys\nsys.arb_deferred_package_runs.append('package')\n")
    (package / "sub.py").write_text("import sys\nsys.arb_deferred_package_runs.append('sub')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "arb_deferred_package_runs", [], raising=False)
    try:
        with deferring("arb_deferred_package"), pytest.raises(ImportError, match="not a package"):
            __import__("arb_deferred_package.sub")
        assert sys.arb_deferred_package_runs == []  # nothing ran; nothing left standing in
        assert "arb_deferred_package" not in sys.modules
        __import__("arb_deferred_package.sub")
        assert sys.arb_deferred_package_runs == ["package", "sub"]
    finally:
        for name in ("arb_deferred_package", "arb_deferred_package.sub"):
            sys.modules.pop(name, None)


def test_an_imported_module_is_left_as_it_is(target):
    real = __import__(_TARGET)
    with deferring(_TARGET):
        assert __import__(_TARGET) is real
    assert sys.modules[_TARGET] is real and target == [1]


def test_settings_leave_asyncio_to_its_first_user():
    """Importing the settings (pydantic-settings) does not import asyncio; pydantic-settings' own name for
    it reaches the real module's functions, and a later `import asyncio` is the real module."""
    code = textwrap.dedent("""
        import sys
        import arb_pipeline.settings as settings
        settings.Settings()
        print("asyncio" in sys.modules)
        import pydantic_settings.main as main
        import asyncio
        print(type(asyncio).__name__, main.asyncio.run is asyncio.run, main.asyncio.get_running_loop is
              asyncio.get_running_loop)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "module", "True", "True"]
