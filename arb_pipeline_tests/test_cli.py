"""The command line as a person uses it: real arguments in, printed output and exit codes out."""

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arb_pipeline import cli
from arb_pipeline.settings import get_settings

AS_OF = "2026-11-24T17:00:00Z"
LEG_KEYS = {"venue", "market", "outcome", "side", "price", "size"}


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ARB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARB_MAPPING_OVERRIDES", str(tmp_path / "overrides.yaml"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_itself(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("scan", "resolve", "mapping", "sim", "breaker", "run", "demo", "paper"):
        assert word in out


def test_scan_sample_json_has_the_documented_fields(capsys):
    code, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    assert code == 0
    opportunities = json.loads(out)
    assert {o["kind"] for o in opportunities} == {"arbitrage", "value"}
    for opp in opportunities:
        assert {"kind", "event", "legs", "cost", "profit", "roi", "edge_bps"} <= opp.keys()
        assert opp["event"].startswith("KX")
        for leg in opp["legs"]:
            assert LEG_KEYS <= leg.keys()
            if leg["venue"] == "sportsbook":
                assert leg["bookmaker"] == leg["market"] and leg["side"] == "back"
                assert leg["outcome"] not in ("home", "away")  # the team (or "draw"), as a trader reads it
            else:
                assert leg["side"] in ("yes", "no") and leg["market"].startswith(opp["event"])
            Decimal(leg["price"]), Decimal(leg["size"])  # exact strings, not floats
        # cost is every leg's outlay plus every fee
        assert Decimal(opp["cost"]) == sum(Decimal(leg["cost"]) for leg in opp["legs"])
        if opp["kind"] == "arbitrage":
            assert Decimal(opp["profit"]) > 0


def test_scan_sample_table_is_readable(capsys):
    code, out, _ = run(capsys, "scan", "--sample", "--as-of", AS_OF)
    assert code == 0
    assert "arbitrage" in out and "edge bps" in out and "markets resolved" in out


def test_scan_labels_what_cannot_be_executed(capsys, monkeypatch):
    """ARB_ACCOUNT_BOOKS / ARB_TRADE_VALUE: the table's `executable` column and --json carry the label."""
    from arb_pipeline.settings import get_settings

    monkeypatch.setenv("ARB_ACCOUNT_BOOKS", "bet365")
    get_settings.cache_clear()
    try:
        code, out, _ = run(capsys, "scan", "--sample", "--as-of", AS_OF)
        assert code == 0 and "executable" in out.splitlines()[3]
        [arb_row] = [line for line in out.splitlines() if line.startswith("arbitrage")]
        assert arb_row.rstrip().endswith("PAPER: no account at draftkings (ARB_ACCOUNT_BOOKS)")
        code, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
        labels = {(o["kind"], o["executable"], tuple(o["not_executable"])) for o in json.loads(out)}
        assert ("arbitrage", False, ("PAPER: no account at draftkings (ARB_ACCOUNT_BOOKS)",)) in labels
        assert {(kind, ok) for kind, ok, _ in labels} == {("arbitrage", False), ("value", False)}
    finally:
        get_settings.cache_clear()


def test_scan_after_every_game_started_finds_nothing_tradable(capsys):
    code, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", "2026-11-26T12:00:00Z")
    assert code == 0
    assert json.loads(out) == []


def test_scan_json_with_nothing_found_still_says_why_on_stderr(capsys):
    code, out, err = run(capsys, "scan", "--sample", "--json", "--as-of", "2026-11-26T12:00:00Z")
    assert code == 0 and json.loads(out) == []
    assert "0 opportunities, 3 rejected candidates" in err
    assert "KXNBAGAME-26NOV24BOSMEM" in err and "game started" in err


def test_a_recorded_snapshot_is_judged_at_its_capture_time_and_says_so(capsys):
    """Judged "now", the bundled sample is all stale quotes and started games: 0 opportunities."""
    code, out, _ = run(capsys, "scan", "--sample")
    assert code == 0
    assert "as of 2026-11-24T17:00:00+00:00 (the snapshot's capture time" in out
    assert "3 opportunities" in out
    code, out, err = run(capsys, "scan", "--sample", "--json")
    assert {o["kind"] for o in json.loads(out)} == {"arbitrage", "value"}
    assert "capture time" in err
    code, out, _ = run(capsys, "resolve", "--sample")
    assert "capture time" in out and "33 resolved" in out


def test_the_table_shows_money_to_the_cent_and_short_tickers(capsys):
    _, out, _ = run(capsys, "scan", "--sample", "--as-of", AS_OF)
    assert "$6.61" in out and "6.6063" not in out  # an expected profit, shown to the cent
    assert "@ 0.24 fee $1.92" in out and "0.240000" not in out
    assert "Kalshi YES …-BOS (Boston Celtics)" in out  # the event ticker is in its own column
    _, out, _ = run(capsys, "scan", "--sample", "--as-of", "2026-11-26T12:00:00Z")
    assert "pre-game trading closed (+2 more)" in out  # long reason lists are summarized; --json has them all


def test_bad_as_of_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan", "--sample", "--as-of", "yesterday"])
    assert exc.value.code == 2
    assert "--as-of" in capsys.readouterr().err


def test_missing_snapshot_directory_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "scan", "--snapshot", str(tmp_path / "nope"))
    assert code == 2
    assert "not a directory" in err


def test_snapshot_without_required_file_names_it(capsys, tmp_path):
    (tmp_path / "odds_basketball_nba.json").write_text("[]")
    code, _, err = run(capsys, "scan", "--snapshot", str(tmp_path))
    assert code == 2
    assert "kalshi_events.json" in err


def test_resolve_sample_json(capsys):
    code, out, _ = run(capsys, "resolve", "--sample", "--json", "--as-of", AS_OF)
    assert code == 0
    doc = json.loads(out)
    assert doc["rows"] and all(r["method"] == "rule" for r in doc["rows"])
    assert all(r["orientation"] == "yes_backs_outcome" for r in doc["rows"])


def test_a_mapping_fix_takes_effect_on_the_next_scan(capsys):
    _, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    first = json.loads(out)
    market = next(leg["market"] for o in first for leg in o["legs"] if leg["venue"] == "kalshi")
    code, out, _ = run(capsys, "mapping", "reject", market, "--why", "suspected wrong game", "--who", "tester")
    assert code == 0 and "reject" in out
    _, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    assert all(leg["market"] != market for o in json.loads(out) for leg in o["legs"])
    code, out, _ = run(capsys, "mapping", "list")
    assert "tester" in out and market in out


def test_mapping_command_without_why_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["mapping", "reject", "KXNBAGAME-26NOV24BOSMEM-BOS"])
    assert exc.value.code == 2


def test_a_mapping_fix_stored_in_the_database_takes_effect_on_the_next_scan(capsys):
    _, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    market = next(leg["market"] for o in json.loads(out) for leg in o["legs"] if leg["venue"] == "kalshi")
    code, out, _ = run(capsys, "mapping", "reject", market, "--why", "bad feed", "--who", "ops", "--store", "db")
    assert code == 0 and "database" in out
    _, out, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    assert all(leg["market"] != market for o in json.loads(out) for leg in o["legs"])
    code, out, _ = run(capsys, "resolve", "--sample", "--json", "--as-of", AS_OF)
    unresolved = json.loads(out)["unresolved"]
    assert any(u["id"] == market and "reject" in u["reason"].lower() for u in unresolved)


def test_mapping_list_lists_the_mappings_in_force(capsys):
    code, out, _ = run(capsys, "mapping", "list")
    assert code == 0 and "no scan stored yet" in out  # a fresh machine says what to do, not nothing

    from arb_pipeline.services.scan import SAMPLE_SNAPSHOT_DIR
    from arb_pipeline.storage.db import get_engine, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.repositories import SnapshotRepository

    url = get_settings().effective_database_url
    upgrade(url)
    with session_scope(get_engine(url)) as session:  # what a scan stores
        SnapshotRepository(session).append_directory(SAMPLE_SNAPSHOT_DIR, stored_at=datetime.now(UTC))
    code, out, _ = run(capsys, "mapping", "list")
    assert code == 0
    assert "mappings in force: 33 resolved, 0 unresolved — stored snapshot" in out
    assert re.search(r"KXNBAGAME-26NOV24BOSMEM-BOS +away: Boston Celtics +Boston Celtics @ Memphis Grizzlies", out)
    code, out, _ = run(capsys, "mapping", "list", "--json")
    assert len(json.loads(out)["rows"]) == 33


def test_a_database_decision_the_resolver_cannot_read_is_refused_not_stored(capsys):
    """Stored, a confirm without its game made every later scan raise OverrideError."""
    code, _, err = run(capsys, "mapping", "confirm", "KXNBAGAME-26NOV24BOSMEM-BOS", "--why", "looks right",
                       "--who", "ops", "--store", "db")
    assert code == 2 and "sportsbook_event_id" in err
    code, out, _ = run(capsys, "scan", "--sample", "--json")
    assert code == 0 and json.loads(out)


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner_name, inner in _subparsers(sub):
                    yield f"{name} {inner_name}", inner


def test_every_subcommand_explains_each_flag():
    import argparse

    missing = [f"{name}: {'/'.join(action.option_strings) or action.dest}"
               for name, sub in _subparsers(cli.build_parser()) for action in sub._actions
               if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
               and not (action.help and action.help.strip())]
    assert missing == []


def test_prune_history_says_what_it_would_delete_and_then_deletes_it(capsys, monkeypatch):
    from datetime import timedelta

    from arb_pipeline.storage.db import get_engine, session_scope
    from arb_pipeline.storage.migrate import upgrade
    from arb_pipeline.storage.repositories.snapshots import SnapshotRepository

    monkeypatch.setenv("ARB_HISTORY_FULL_DAYS", "1")
    get_settings.cache_clear()
    engine = get_engine(get_settings().effective_database_url)
    upgrade(engine)
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        for minute in range(12):  # ten days before --as-of, one a minute: three 5-minute buckets
            SnapshotRepository(s).append(captured_at=start + timedelta(minutes=minute), source="simulator",
                                         stored_at=start, payloads={"kalshi_events.json": "{}"})
    code, out, _ = run(capsys, "prune-history", "--dry-run", "--as-of", "2026-11-30T12:00:00Z")
    assert code == 0 and "12 snapshots older than the full-history window examined" in out
    assert "would delete 9 snapshots" in out
    code, out, _ = run(capsys, "prune-history", "--as-of", "2026-11-30T12:00:00Z")
    assert "deleted 9 snapshots" in out
    code, out, _ = run(capsys, "prune-history", "--as-of", "2026-11-30T12:00:00Z")
    assert "3 snapshots older" in out and "deleted 0 snapshots" in out


def _console(tmp_path, *argv, stdout=None):
    """`python -m arb_pipeline.cli ARGV` in a process of its own - the console script's path (`cli.run`)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ARB_DATA_DIR": str(tmp_path / "data"),
           "ARB_MAPPING_OVERRIDES": str(tmp_path / "overrides.yaml")}
    env.pop("PYTHONUNBUFFERED", None)  # stdout block-buffered into a pipe, as for a user's `| jq`
    return subprocess.run([sys.executable, "-m", "arb_pipeline.cli", *argv], env=env, timeout=120,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_short_lived_command_leaving_without_teardown_loses_no_output(tmp_path, capsys):
    """`scan` skips the interpreter's teardown (`cli.SHORT_LIVED_COMMANDS`): everything it printed -
    a JSON document several times stdout's block buffer, whose last part only an explicit flush
    writes, and stderr's header - still arrives whole, with
    the same exit status and the same JSON as `main()` gives in-process."""
    assert {"scan", "resolve"} <= cli.SHORT_LIVED_COMMANDS
    code, expected, _ = run(capsys, "resolve", "--sample", "--json", "--as-of", AS_OF)
    assert code == 0 and len(expected) > 2 * io.DEFAULT_BUFFER_SIZE
    done = _console(tmp_path, "resolve", "--sample", "--json", "--as-of", AS_OF)
    assert done.returncode == 0
    assert done.stdout.decode() == expected  # to the last byte: the final newline is what a flush writes

    done = _console(tmp_path, "scan", "--sample", "--json", "--as-of", AS_OF)
    assert done.returncode == 0
    assert [o["kind"] for o in json.loads(done.stdout)] and done.stdout.endswith(b"]\n")
    assert b"33 markets resolved" in done.stderr


def test_a_short_lived_command_keeps_its_error_status_and_message(tmp_path):
    done = _console(tmp_path, "scan", "--snapshot", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert b"is not a directory" in done.stderr


def test_a_short_lived_command_into_a_closed_pipe_exits_quietly(tmp_path):
    """`arb-pipeline resolve --json | head -c 1`: the reader goes away; no traceback, status 0."""
    import subprocess
    import sys

    script = (f"{sys.executable} -m arb_pipeline.cli resolve --sample --json --as-of {AS_OF} | head -c 1")
    import os

    env = {**os.environ, "ARB_DATA_DIR": str(tmp_path / "data"),
           "ARB_MAPPING_OVERRIDES": str(tmp_path / "overrides.yaml")}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], env=env, capture_output=True, timeout=120)
    assert done.stdout == b"{"
    assert b"Traceback" not in done.stderr
    assert done.returncode == 0


def test_main_holds_nothing_past_the_command(capsys):
    """Only `run()`, which leaves the process right after, keeps a command's result until exit:
    `main()` (tests, embedding) lets it go when the command returns."""
    code, _, _ = run(capsys, "scan", "--sample", "--json", "--as-of", AS_OF)
    assert code == 0
    assert cli._HELD_UNTIL_EXIT is None
