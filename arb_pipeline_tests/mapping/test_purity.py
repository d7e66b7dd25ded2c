"""mapping/ is pure: it never imports I/O frameworks or other arb_pipeline layers (DESIGN.md)."""

import ast
from pathlib import Path

import arb_pipeline.mapping as mapping

FORBIDDEN = ("httpx", "sqlalchemy", "dagster", "requests", "fastapi", "pandas")
ALLOWED_INTERNAL = ("arb_pipeline.domain", "arb_pipeline.mapping", "arb_pipeline.slotted")  # slotted: stdlib only


def test_mapping_imports_are_pure() -> None:
    for path in Path(mapping.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
                if name.startswith("arb_pipeline"):
                    assert name.startswith(ALLOWED_INTERNAL), f"{path.name} imports {name}"
