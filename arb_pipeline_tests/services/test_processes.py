"""Stopping a demo stops everything it started: children that ignore SIGINT and SIGTERM, and
grandchildren that left the process group — and nothing else on the machine."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from arb_pipeline.services.processes import ChildProcesses, processes_with_marker
from arb_pipeline_tests.waiting import wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="the leftover sweep reads /proc (Linux)")

STUBBORN = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # a grandchild that ignores both too and leaves the group (as a run worker might)
    subprocess.Popen([sys.executable, "-c",
        "import os, signal, time; os.setsid(); signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('grandchild', flush=True); time.sleep(600)"])
    print("child", flush=True)
    time.sleep(600)
""")
# says when it is inside its `try` (a SIGINT during interpreter start-up is not the clean stop tested here)
POLITE = ("import pathlib, sys, time\ntry:\n    pathlib.Path(sys.argv[1]).touch()\n    time.sleep(600)\n"
          "except KeyboardInterrupt:\n    pass\n")


def wait_for_marker_count(marker, n, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list(processes_with_marker(marker))) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"expected {n} processes with the marker")


def test_everything_started_is_stopped_even_what_ignores_signals_and_left_the_group(tmp_path):
    group = ChildProcesses()
    ready = tmp_path / "polite-ready"
    group.start("polite", [sys.executable, "-c", POLITE, str(ready)], interrupt_grace_s=30)
    group.start("stubborn", [sys.executable, "-c", STUBBORN], interrupt_grace_s=0.5, stdout=subprocess.DEVNULL)
    wait_for_marker_count(group.marker, 3)
    assert wait_until(ready.exists, 30), "the polite child never reached its try block"
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # not ours
    try:
        forced = group.stop_all(term_grace_s=0.5)
        assert list(processes_with_marker(group.marker)) == []
        assert any(f.startswith("stubborn (needed SIGINT then SIGTERM then SIGKILL)") for f in forced)
        assert any("left its process group" in f for f in forced)
        assert not any(f.startswith("polite") for f in forced)  # it stopped on SIGINT, cleanly
        assert bystander.poll() is None  # nothing else on the machine was touched
    finally:
        bystander.kill()
        bystander.wait()


def test_children_stop_cleanly_on_sigint_even_when_started_with_sigint_ignored(tmp_path):
    """A shell runs background jobs with SIGINT ignored (`make demo &` in a script); the children must
    not inherit that, or the clean stop never reaches them."""
    import signal

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        group = ChildProcesses()
        ready = tmp_path / "polite-ready"
        group.start("polite", [sys.executable, "-c", POLITE, str(ready)], interrupt_grace_s=30)
    finally:
        signal.signal(signal.SIGINT, before)
    assert wait_until(ready.exists, 30), "the polite child never reached its try block"
    assert group.stop_all(term_grace_s=0.5) == []  # SIGINT alone stopped it
