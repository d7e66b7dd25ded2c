import pytest

from arb_pipeline.mapping.catalogue import load_catalogue
from arb_pipeline.mapping.fuzzy import propose_team, score_teams

EPL = load_catalogue().league("EPL")


@pytest.mark.parametrize(("name", "team_id"), [("Manchester Untied", "EPL-MUN"), ("Manchster City", "EPL-MCI"),
                                               ("Totenham Hotspur", "EPL-TOT")])
def test_proposals(name: str, team_id: str) -> None:
    proposal = propose_team(name, EPL, threshold=85, margin=8)
    assert proposal is not None and proposal.team_id == team_id and proposal.score >= 85
    assert proposal.runner_up_id != team_id


def test_united_and_city_never_cross() -> None:
    scores = dict((t.id, s) for t, s in score_teams("Manchester Utd", EPL))
    assert scores["EPL-MCI"] < 50
    assert dict((t.id, s) for t, s in score_teams("Manchester City", EPL))["EPL-MUN"] < 50
    for name in ("Manchester Cityy", "Man City FC"):
        proposal = propose_team(name, EPL, threshold=70, margin=0)
        assert proposal is None or proposal.team_id == "EPL-MCI"


def test_no_proposal_for_known_names_or_ambiguity() -> None:
    assert propose_team("Manchester United", EPL, threshold=85, margin=8) is None  # exact, not fuzzy
    assert propose_team("Manchester", EPL, threshold=50, margin=8) is None  # United and City tie closely
    assert propose_team("Zzyzx Rovers", EPL, threshold=85, margin=8) is None


def test_rapidfuzz_is_imported_only_when_a_name_is_scored():
    import subprocess
    import sys

    code = ("import sys, arb_pipeline.mapping.resolver, arb_pipeline.services.scan; "
            "print('rapidfuzz' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
