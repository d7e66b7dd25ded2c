"""`arb_pipeline/__init__.py`: the process-wide default it sets before NumPy is imported."""

import os
import subprocess
import sys

import pytest

PROBE = ("import os, arb_pipeline, numpy; "
         "print(os.environ['OPENBLAS_NUM_THREADS'], numpy.__config__ is not None)")


def _probe(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.split()[0]


def test_openblas_runs_one_thread_unless_the_environment_says_otherwise() -> None:
    assert _probe() == "1"
    assert _probe(OPENBLAS_NUM_THREADS="4") == "4"


def _os_threads_after(imports: str) -> int:
    code = f"import os; {imports}; print(len(os.listdir('/proc/self/task')))"
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True, timeout=60,
                          check=True)
    return int(done.stdout)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2,
                    reason="counts the process's OS threads in /proc on a machine with 2+ cores")
def test_the_default_is_in_place_before_numpy_starts_its_threads() -> None:
    """OpenBLAS reads the variable once, when NumPy is first imported, and starts its pool then: NumPy
    imported alone starts a thread per core; imported after the package, none besides the main one."""
    assert _os_threads_after("import numpy") > 1
    assert _os_threads_after("import arb_pipeline, numpy") == 1
