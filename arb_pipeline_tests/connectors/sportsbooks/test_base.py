"""League codes and the problem record's readable form."""

from arb_pipeline.connectors.sportsbooks.base import NormalizeProblem, league_for_sport, split_names


def test_league_codes_and_fallback():
    assert [league_for_sport(k) for k in ("americanfootball_nfl", "basketball_nba", "icehockey_nhl",
                                          "baseball_mlb", "soccer_epl")] == ["NFL", "NBA", "NHL", "MLB", "EPL"]
    assert league_for_sport("soccer_spain_la_liga") == "LALIGA" and league_for_sport("tennis_wta_us_open") == "WTA"
    assert league_for_sport("cricket_ipl") == "CRICKET_IPL"  # not ours: visibly so


def test_problem_str_names_source_path_event_and_bookmaker():
    problem = NormalizeProblem("odds_soccer_epl.json", "$[0].bookmakers[2]", "bad", "e1", "bet365")
    assert str(problem) == "odds_soccer_epl.json:$[0].bookmakers[2] (event e1, bookmaker bet365): bad"
    assert str(NormalizeProblem("", "$[1]", "bad")) == "$[1]: bad"


def test_split_names_never_reads_a_string_as_letters():
    assert split_names("us, eu,") == ("us", "eu")
    assert split_names("h2h") == ("h2h",)
    assert split_names(["h2h", " totals "]) == ("h2h", "totals")
    assert split_names("") == ()
