"""The warm run launcher: a run is a fresh process forked from the warm forkserver, executes like a
`dagster api execute_run` run, is recorded in the instance, and can be terminated."""

import os
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.launcher import WorkerStatus

from arb_pipeline.launch.warm_launcher import DEFAULT_PRELOAD, PID_TAG, WarmRunLauncher
from arb_pipeline_tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@dg.op
def report(context: dg.OpExecutionContext) -> None:
    """Writes where it ran: its pid, its parent's pid, and whether pandas was there before our code."""
    Path(context.run.tags["out"]).write_text(f"{os.getpid()} {os.getppid()} {'pandas' in sys.modules}")
    if context.run.tags.get("block"):  # the termination test: run until the launcher interrupts us
        while not Path(context.run.tags["block"]).exists():
            import time

            time.sleep(0.02)


@dg.job(executor_def=dg.in_process_executor)  # the op runs in the run worker itself, as scan_job does
def tiny_job() -> None:
    report()


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def _launch(instance, tags):
    origin = ReconstructableJob.for_file(__file__, "tiny_job").get_python_origin()
    run = instance.create_run_for_job(job_def=tiny_job, job_code_origin=origin, tags=tags)
    instance.launch_run(run.run_id, workspace=None)
    return run.run_id


def _finished(instance, run_id):
    return instance.get_run_by_id(run_id).is_finished


def test_the_project_template_launches_runs_warm(instance):
    launcher = instance.run_launcher
    assert isinstance(launcher, WarmRunLauncher)
    assert launcher.preload_modules == DEFAULT_PRELOAD and launcher.supports_check_run_worker_health


def test_a_run_is_its_own_process_forked_from_the_warm_one_and_succeeds(instance, tmp_path):
    # Python has one forkserver per process: if an earlier test of this pytest process started it, our
    # preload list never reached it (the daemon has one launcher, so there it always does)
    from multiprocessing import forkserver

    ours = forkserver._forkserver._forkserver_pid is None
    outs = [tmp_path / "first.txt", tmp_path / "second.txt"]
    run_ids = [_launch(instance, {"out": str(out)}) for out in outs]
    assert wait_until(lambda: all(_finished(instance, r) for r in run_ids), 120)
    pids, parents = set(), set()
    for run_id, out in zip(run_ids, outs, strict=True):
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        pid, parent, preloaded = out.read_text().split()
        assert run.tags[PID_TAG] == pid and int(pid) != os.getpid()
        assert preloaded == "True" or not ours
        pids.add(pid)
        parents.add(parent)
        messages = [r.event_log_entry.message for r in instance.get_records_for_run(run_id).records]
        assert any("warm process" in (m or "") for m in messages)
        assert any(f"Started process for run (pid: {pid})" in (m or "") for m in messages)
    assert len(pids) == 2  # one process per run
    # both forked by the same warm process: neither by this one
    assert len(parents) == 1 and str(os.getpid()) not in parents

    # the worker writes RUN_SUCCESS and then exits (tearing down its resources): under load the exit can
    # come a moment after the run reads finished, and until then the worker is rightly RUNNING
    def health() -> WorkerStatus:
        return instance.run_launcher.check_run_worker_health(instance.get_run_by_id(run_ids[0])).status

    assert wait_until(lambda: health() != WorkerStatus.RUNNING, 30)
    assert health() in (WorkerStatus.SUCCESS, WorkerStatus.NOT_FOUND)


def test_a_run_worker_launched_elsewhere_is_judged_by_its_pid(instance, tmp_path):
    """The daemon's run monitoring may hold another launcher object than the one that launched the run:
    a live pid is RUNNING (Dagster fails a run on any other answer), a vanished one NOT_FOUND."""
    out, never = tmp_path / "out.txt", tmp_path / "never"
    run_id = _launch(instance, {"out": str(out), "block": str(never)})
    assert wait_until(out.exists, 120)
    other = WarmRunLauncher()
    other.register_instance(instance)
    assert other.check_run_worker_health(instance.get_run_by_id(run_id)).status == WorkerStatus.RUNNING
    never.write_text("done")
    assert wait_until(lambda: _finished(instance, run_id), 60)
    pid = int(instance.get_run_by_id(run_id).tags[PID_TAG])
    assert wait_until(lambda: not _alive(pid), 30)
    instance.add_run_tags(run_id, {PID_TAG: str(pid)})
    assert other.check_run_worker_health(instance.get_run_by_id(run_id)).status == WorkerStatus.NOT_FOUND


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_terminate_cancels_a_running_run(instance, tmp_path):
    out, never = tmp_path / "out.txt", tmp_path / "never"
    run_id = _launch(instance, {"out": str(out), "block": str(never)})
    assert wait_until(out.exists, 120)
    launcher = instance.run_launcher
    assert launcher.check_run_worker_health(instance.get_run_by_id(run_id)).status == WorkerStatus.RUNNING
    assert launcher.terminate(run_id)
    assert wait_until(lambda: _finished(instance, run_id), 60)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED
    assert not launcher.terminate(run_id)  # finished: nothing to terminate


def test_our_own_code_is_never_preloaded():
    with pytest.raises(ValueError, match="arb_pipeline.definitions"):
        WarmRunLauncher(preload_modules=["pandas", "arb_pipeline.definitions"])
