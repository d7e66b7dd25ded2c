from pathlib import Path

import pytest

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.manual_overrides import (
    Override,
    OverrideAction,
    OverrideError,
    OverrideSet,
    load_overrides,
    save_overrides,
)
from arb_pipeline_tests.mapping.factories import utc

WHEN = utc(2026, 6, 1)


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    overrides = (
        Override(OverrideAction.FORCE, who="ann", when=WHEN, why="feed bug", kalshi_market="E-BOS",
                 sportsbook_event_id="g1", outcome=Outcome.AWAY),
        Override(OverrideAction.CONFIRM, who="bob", when=WHEN, why="alias", team_aliases={"LA Clipperz": "NBA-LAC"}),
        Override(OverrideAction.REJECT, who="cy", when=WHEN, why="no", kalshi_event="E"),
    )
    path = save_overrides(overrides, tmp_path / "o.yaml")
    assert load_overrides(path) == overrides
    assert not list(tmp_path.glob(".o.yaml.*.tmp"))  # temp file renamed away


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "absent.yaml") == ()


def test_repo_default_file_loads() -> None:
    assert isinstance(load_overrides(), tuple)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(action="force", kalshi_market="M", sportsbook_event_id="g"), "needs 'outcome'"),
        (dict(action="force", kalshi_market="M"), "needs kalshi_market/kalshi_event and sportsbook_event_id"),
        (dict(action="reject"), "needs kalshi_market or kalshi_event"),
        (dict(action="confirm", kalshi_event="E"), "needs a target with sportsbook_event_id, or team_aliases"),
        (dict(action="confirm", kalshi_event="E", kalshi_market="M", sportsbook_event_id="g"), "not both"),
        (dict(action="confirm", kalshi_event="E", sportsbook_event_id="g", outcome="home"), "'outcome' needs kalshi_market"),
        (dict(action="confirm", sportsbook_event_id="g", team_aliases={"a": "NBA-LAC"}), "needs kalshi_market or kalshi_event"),
    ],
)
def test_invalid_overrides(kwargs: dict, message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        Override(who="ann", when=WHEN, why="x", **kwargs)


def test_who_why_when_are_required() -> None:
    with pytest.raises(OverrideError, match="'why' is required"):
        Override(OverrideAction.REJECT, who="ann", when=WHEN, why=" ", kalshi_event="E")
    from datetime import datetime

    with pytest.raises(OverrideError, match="timezone-aware"):
        Override(OverrideAction.REJECT, who="ann", when=datetime(2026, 1, 1), why="x", kalshi_event="E")


def test_file_errors_name_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("overrides:\n  - {action: reject, who: a, when: '2026-06-01T00:00:00Z', why: x, kalshi_event: E}\n"
                    "  - {action: reject, who: a, when: yesterday, why: x, kalshi_event: E}\n")
    with pytest.raises(OverrideError, match=r"overrides\[1\]: 'when' 'yesterday' is not an ISO-8601"):
        load_overrides(path)
    path.write_text("overrides:\n  - {action: nuke, who: a, when: '2026-06-01T00:00:00Z', why: x, kalshi_event: E}\n")
    with pytest.raises(OverrideError, match=r"overrides\[0\]: 'nuke' is not a valid OverrideAction"):
        load_overrides(path)
    path.write_text("overrides:\n  - {action: reject, who: a, when: '2026-06-01T00:00:00Z', why: x, colour: red}\n")
    with pytest.raises(OverrideError, match=r"overrides\[0\]: unknown field\(s\) colour"):
        load_overrides(path)


def test_latest_wins_and_market_beats_event() -> None:
    early = Override(OverrideAction.REJECT, who="a", when=WHEN, why="x", kalshi_market="E-A")
    late = Override(OverrideAction.CONFIRM, who="b", when=utc(2026, 6, 2), why="y", kalshi_market="E-A",
                    sportsbook_event_id="g")
    event = Override(OverrideAction.REJECT, who="c", when=utc(2026, 6, 3), why="z", kalshi_event="E")
    rejected_alias = Override(OverrideAction.REJECT, who="d", when=WHEN, why="w", kalshi_event="F")
    s = OverrideSet([late, early, event, rejected_alias])
    assert s.for_market("E-A", "E") is late
    assert s.for_market("E-B", "E") is event
    assert s.aliases == {}
