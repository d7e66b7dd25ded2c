import json

from arb_pipeline.domain import Outcome
from arb_pipeline.mapping.results import MatchMethod, Resolution, ResolvedMarket, Unresolved, UnresolvedKind
from arb_pipeline_tests.mapping.factories import utc


def _row(ticker: str, tradable: bool) -> ResolvedMarket:
    return ResolvedMarket(ticker, "E", "EPL", "g", "soccer_epl", Outcome.DRAW, None, "Draw", "h", "a",
                          MatchMethod.OVERRIDE, 1.0, utc(2026, 1, 1), None, tradable, () if tradable else ("x",))


def test_to_dict_is_json_and_keeps_reasons() -> None:
    miss = Unresolved(UnresolvedKind.SPORTSBOOK_EVENT, "g9", "unknown", ({"score": 91.0},))
    res = Resolution((_row("A", True), _row("B", False)), (miss,))
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["rows"][0] | {"start_time": None} == {
        "kalshi_market": "A", "kalshi_event": "E", "league": "EPL", "sportsbook_event_id": "g", "sport_key": "soccer_epl",
        "outcome": "draw", "team_id": None, "team_name": "Draw", "home_team": "h", "away_team": "a",
        "method": "override", "confidence": 1.0, "orientation": "yes_backs_outcome", "start_time": None,
        "kalshi_start": None, "tradable": True, "guards": [], "yes_price": None, "fair_probability": None}
    assert doc["unresolved"] == [{"kind": "sportsbook_event", "id": "g9", "reason": "unknown", "candidates": [{"score": 91.0}]}]
    assert [r.kalshi_market for r in res.tradable()] == ["A"]
    assert res.row_for("B").guards == ("x",) and res.row_for("C") is None
    assert res.unresolved_for("g9") == (miss,)
