"""`arb/` is pure: importing all of it must not pull in I/O frameworks or other project layers."""

import subprocess
import sys

CHECK = """
import sys, importlib, pkgutil
import arb_pipeline.arb as arb
for m in pkgutil.iter_modules(arb.__path__):
    importlib.import_module(f"arb_pipeline.arb.{m.name}")
bad = sorted(m for m in sys.modules
             if m.split(".")[0] in ("httpx", "sqlalchemy", "dagster", "fastapi")
             or (m.startswith("arb_pipeline.") and not m.startswith("arb_pipeline.arb") and m not in ("arb_pipeline.domain", "arb_pipeline.slotted")))
print(",".join(bad))
"""


def test_arb_imports_nothing_impure():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
