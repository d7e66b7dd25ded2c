from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arb_pipeline.mapping.catalogue import LeagueCatalogue, load_catalogue
from arb_pipeline.mapping.tickers import (
    TickerError,
    _split,
    market_code,
    parse_event_ticker,
    split_team_codes,
)


def test_parse_plain_and_mlb_tickers() -> None:
    plain = parse_event_ticker("KXNBAGAME-26NOV03BOSNYK")
    assert (plain.series, plain.game_date, plain.start_hhmm, plain.team_blob) == ("KXNBAGAME", date(2026, 11, 3), None, "BOSNYK")
    mlb = parse_event_ticker("KXMLBGAME-26JUL282210SEALAD")
    assert (mlb.game_date, mlb.start_hhmm, mlb.team_blob) == (date(2026, 7, 28), time(22, 10), "SEALAD")


@pytest.mark.parametrize("bad", ["KXNBAGAME", "KXNBAGAME-26XYZ03BOSNYK", "KXNBAGAME-26FEB30BOSNYK",
                                 "KXMLBGAME-26JUL282570SEALAD", "kxnbagame-26nov03bosnyk"])
def test_bad_event_tickers(bad: str) -> None:
    with pytest.raises(TickerError, match="event ticker"):
        parse_event_ticker(bad)


def test_market_code() -> None:
    assert market_code("KXEPLGAME-26NOV07MUNMCI-TIE", "KXEPLGAME-26NOV07MUNMCI") == "TIE"
    with pytest.raises(TickerError, match="is not 'KXNBAGAME-26NOV03BOSNYK-<CODE>'"):
        market_code("KXNBAGAME-26NOV04BOSNYK-BOS", "KXNBAGAME-26NOV03BOSNYK")
    with pytest.raises(TickerError, match="not a single code"):
        market_code("KXNBAGAME-26NOV03BOSNYK-BOS-X", "KXNBAGAME-26NOV03BOSNYK")


def test_split_team_codes_is_unordered_and_never_guesses() -> None:
    cat = load_catalogue()
    assert split_team_codes("NYGLA", cat.league("NFL")) == frozenset({"NFL-NYG", "NFL-LAR"})
    assert split_team_codes("LANYG", cat.league("NFL")) == frozenset({"NFL-NYG", "NFL-LAR"})
    assert split_team_codes("NJSJ", cat.league("NHL")) == frozenset({"NHL-NJD", "NHL-SJS"})
    assert split_team_codes("BOSXYZ", cat.league("NBA")) is None
    assert split_team_codes("BOSBOS", cat.league("NBA")) is None


def _split_every_cut(blob: str, league: LeagueCatalogue) -> frozenset[str] | None:
    """The split as first written: both halves of every cut looked up."""
    found: set[frozenset[str]] = set()
    for cut in range(1, len(blob)):
        first, second = league.by_code(blob[:cut]), league.by_code(blob[cut:])
        if first is not None and second is not None and first.id != second.id:
            found.add(frozenset((first.id, second.id)))
    return next(iter(found)) if len(found) == 1 else None


_LEAGUES = ("NBA", "NFL", "NHL", "MLB", "EPL")
_CODES = sorted({c for code in _LEAGUES for t in load_catalogue().league(code).teams
                 for c in (t.kalshi_code, *t.aliases) if c and c.isalnum() and len(c) <= 4})


@given(league=st.sampled_from(_LEAGUES),
       parts=st.lists(st.one_of(st.sampled_from(_CODES), st.text("ABCDELNSTY0123", min_size=1, max_size=3)),
                      min_size=1, max_size=4))
def test_split_looks_up_the_second_half_only_after_a_known_first(league: str, parts: list[str]) -> None:
    lg = load_catalogue().league(league)
    blob = "".join(parts)
    assert _split(blob, lg) == _split_every_cut(blob, lg)
