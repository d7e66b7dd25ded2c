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
    allowed = {"arb_pipeline.domain", "arb_pipeline.slotted", f"arb_pipeline.{folder}"}
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
    assert third_party <= {"arb_pipeline.slotted"}  # itself standard library only: its row in LAYERS_BELOW
    assert imported_modules(PACKAGE / "slotted.py") <= {"__future__", "collections.abc", "dataclasses", "typing"}


# --- imports between the project's own layers -------------------------------------------------------
# Each package (or top-level module) of arb_pipeline may import only the layers listed here; a new
# import between layers is a decision, made in this table. Lazy imports inside functions count.
LAYERS_BELOW: dict[str, set[str]] = {
    "slotted": set(),  # code generated from a frozen slotted dataclass's fields (standard library only)
    "domain": {"slotted"},
    "gcpause": set(),  # a context manager pausing the cyclic GC (standard library only)
    "deferred_import": set(),  # a library's unused top-level import, deferred to its first use (stdlib only)
    "arb": {"domain", "slotted"},
    "mapping": {"domain", "arb", "slotted"},
    "settings": {"domain", "arb", "deferred_import"},  # parses ARB_BOOK_COMMISSION with the commission rule; the odds markets
    "schemas": {"domain"},
    "storage": {"domain", "arb", "settings"},  # what a settled position pays: the rule in arb.settlement
    "connectors": {"domain", "arb", "settings", "gcpause", "slotted"},
    "execution": {"domain", "arb", "settings", "connectors", "storage"},
    "sim": {"domain", "arb", "mapping", "settings", "connectors"},
    "services": {"domain", "arb", "mapping", "settings", "schemas", "storage", "connectors", "execution", "sim",
                 "gcpause"},
    "api": {"domain", "arb", "settings", "schemas", "storage", "services"},
    "defs": {"domain", "arb", "settings", "schemas", "storage", "execution", "services"},
    "definitions": {"defs"},
    "launch": {"domain", "settings", "storage", "services", "sim", "defs", "definitions"},
    "cli": {"domain", "arb", "mapping", "settings", "schemas", "storage", "connectors", "execution", "sim",
            "services", "api", "launch", "gcpause"},
}
# Single files allowed one more direction, each with its reason. Keep this list short.
FILE_EXCEPTIONS: dict[str, set[str]] = {
    # executes the assembled Definitions' jobs (the headless runner and tests use it)
    "defs/runner.py": {"definitions"},
    # reconciliation in live mode builds the Kalshi client (issue 9 owns that asset; not moved here)
    "defs/execution/assets.py": {"connectors"},
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "arb_pipeline" and len(parts) > 1 else None


def test_every_layer_imports_only_the_layers_its_table_row_allows():
    assert {(p.stem if p.is_file() else p.name) for p in PACKAGE.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
            } == set(LAYERS_BELOW), "a new package needs its row in LAYERS_BELOW"
    offenders = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        source = _layer("arb_pipeline." + ".".join(relative.with_suffix("").parts))
        if source is None or source == "__init__":
            continue
        allowed = LAYERS_BELOW[source] | {source} | FILE_EXCEPTIONS.get(relative.as_posix(), set())
        for name in imported_modules(path):
            target = _layer(name)
            if target is not None and target not in allowed:
                offenders.add(f"{relative} ({source}) imports {name} ({target})")
    assert not offenders, "import against the layer table: " + ", ".join(sorted(offenders))


def test_the_layer_table_has_no_cycle():
    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
                   for nxt in LAYERS_BELOW[start])

    assert not [layer for layer in LAYERS_BELOW if reaches(layer, layer)]


def test_the_snapshot_and_replay_modules_do_not_import_each_other_both_ways():
    snapshot = imported_modules(PACKAGE / "connectors" / "snapshot.py")
    replay = imported_modules(PACKAGE / "connectors" / "sportsbooks" / "replay.py")
    assert "arb_pipeline.connectors.sportsbooks.replay" in snapshot
    assert "arb_pipeline.connectors.snapshot" not in replay
