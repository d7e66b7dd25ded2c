"""Child processes a command starts and must stop completely: `make demo`'s simulator, API and
`dagster dev` (webserver, daemon, code server and one process per run).

Why this module: Ctrl-C on the old demo left 8 processes behind — `dagster dev`'s children ignore
SIGINT/SIGTERM or outlive their parent. Here each child starts in its own session (a terminal's
Ctrl-C reaches only the demo, which then stops everything in order), every descendant inherits a
marker variable naming this demo, and `stop_all` escalates per child — SIGINT (let Dagster shut
down cleanly), SIGTERM, SIGKILL to its whole process group — then sweeps any process still carrying
the marker (one that left the group), by pid. Nothing else on the machine is touched.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
MARKER = "ARB_PROCESS_SESSION"
PROC = Path("/proc")


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    interrupt_grace_s: float  # how long a clean shutdown may take after SIGINT

    @property
    def pgid(self) -> int:
        return self.process.pid  # start_new_session: the child leads its own group


@dataclass
class ChildProcesses:
    """Start children in their own sessions; `stop_all` stops them and every descendant."""

    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              interrupt_grace_s: float = 10.0, **popen: object) -> subprocess.Popen:
        environment = {**(env if env is not None else os.environ), MARKER: self.marker}
        # A shell starts background jobs (`make demo &` from a script) with SIGINT ignored; children would
        # inherit that, and the clean stop (SIGINT) could never reach them.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            popen.setdefault("preexec_fn", _default_sigint)
        process = subprocess.Popen(list(argv), env=environment, start_new_session=True, **popen)  # type: ignore[call-overload]
        self.children.append(Child(name, process, interrupt_grace_s))
        return process

    def stop_all(self, *, term_grace_s: float = 5.0) -> list[str]:
        """Stop every child, newest first, then whatever still carries the marker. Returns what had
        to be killed (for the log): an empty list means everything shut down cleanly."""
        forced: list[str] = []
        for child in reversed(self.children):
            forced += self._stop(child, term_grace_s)
        for pid in self.leftovers():
            _signal_pid(pid, signal.SIGKILL)
            forced.append(f"pid {pid} (left its process group)")
        deadline = time.monotonic() + 5
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.1)
        return forced

    def _stop(self, child: Child, term_grace_s: float) -> list[str]:
        """SIGINT, then SIGTERM, then SIGKILL to the child's whole group, each given its grace period."""
        sent: list[str] = []
        for sig, grace in ((signal.SIGINT, child.interrupt_grace_s), (signal.SIGTERM, term_grace_s),
                           (signal.SIGKILL, 5.0)):
            if _stopped(child):
                break
            _signal_group(child.pgid, sig)
            sent.append(sig.name)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and not _stopped(child):
                time.sleep(0.1)
        return [f"{child.name} (needed {' then '.join(sent)})"] if len(sent) > 1 else []

    def leftovers(self) -> list[int]:
        """Live processes that inherited this session's marker (Linux: read from /proc; elsewhere none)."""
        return list(processes_with_marker(self.marker))


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default action (Python then installs its own
    KeyboardInterrupt handler, which it does not do when SIGINT arrives ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def processes_with_marker(marker: str) -> Iterator[int]:
    if not PROC.is_dir():
        return
    needle = f"{MARKER}={marker}".encode()
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0") and not _zombie(entry):
                yield int(entry.name)
        except OSError:  # gone, or not ours to read
            continue


def _zombie(entry: Path) -> bool:
    try:
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _stopped(child: Child) -> bool:
    child.process.poll()  # reap our direct child
    return child.process.returncode is not None and not _group_alive(child.pgid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return _group_members_running(pgid)


def _group_members_running(pgid: int) -> bool:
    """Whether the group holds a process that is not a zombie (zombies answer signal 0 too)."""
    if not PROC.is_dir():
        return True
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_pid(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
