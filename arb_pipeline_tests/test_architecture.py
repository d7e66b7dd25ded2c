"""The layer rules of DESIGN.md, checked on the source so a stray import fails a test."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "arb_pipeline"
IO_LIBRARIES = {"httpx", "sqlalchemy", "dagster", "dagster_pandera", "dagster_postgres", "alembic", "fastapi"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["arb", "mapping"])
def test_pure_layers_import_no_io_library(folder):
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in python_files(folder)
        for name in imported_modules(path)
        if name.split(".")[0] in IO_LIBRARIES
    }
    assert not offenders, "pure layer imports I/O: " + ", ".join(sorted(offenders))


@pytest.mark.parametrize("folder", ["arb", "mapping"])
def test_pure_layers_import_only_domain_and_themselves(folder):
    allowed = {"arb_pipeline.domain", f"arb_pipeline.{folder}"}
    if folder == "mapping":
        allowed.add("arb_pipeline.arb")  # mapping may use the pure maths (de-vig for the orientation guard)
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in python_files(folder)
        for name in imported_modules(path)
        if name.startswith("arb_pipeline") and not any(name == a or name.startswith(a + ".") for a in allowed)
    }
    assert not offenders, "pure layer reaches upward: " + ", ".join(sorted(offenders))


def test_lower_layers_never_import_dagster():
    """Dagster is the top layer: services, connectors, storage and execution never depend on it."""
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for folder in ("services", "connectors", "storage", "execution", "sim", "arb", "mapping")
        for path in python_files(folder)
        for name in imported_modules(path)
        if name.split(".")[0] in {"dagster", "dagster_pandera", "dagster_postgres"}
    }
    assert not offenders, ", ".join(sorted(offenders))


def test_the_api_stays_off_the_dagster_import_path():
    """The desk calls services; importing it never loads Dagster, and `definitions` never loads the API
    (import time of the code location is measured)."""
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in python_files("api")
        for name in imported_modules(path)
        if name.split(".")[0] in {"dagster", "dagster_pandera", "dagster_postgres"} or name.startswith("arb_pipeline.defs")
    }
    assert not offenders, ", ".join(sorted(offenders))
    defs_side = {f"{path.relative_to(PACKAGE)}" for path in [*python_files("defs"), PACKAGE / "definitions.py"]
                 if any(name.startswith("arb_pipeline.api") for name in imported_modules(path))}
    assert not defs_side


def test_domain_is_standard_library_only():
    third_party = {
        name for name in imported_modules(PACKAGE / "domain.py") if name.split(".")[0] not in {
            "__future__", "array", "collections", "dataclasses", "datetime", "decimal", "enum", "typing"}
    }
    assert not third_party
