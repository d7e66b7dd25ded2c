from datetime import datetime

import pytest

from arb_pipeline.mapping.catalogue import Catalogue, load_catalogue
from arb_pipeline.mapping.results import Resolution
from arb_pipeline_tests.mapping.factories import utc


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def as_of() -> datetime:
    return utc(2026, 6, 1, 12)


def assert_each_market_once(events, resolution: Resolution) -> None:
    """Every input market is either one row (winner or line) or one kalshi_market unresolved item, never both/twice."""
    placed = [r.kalshi_market for r in (*resolution.rows, *resolution.lines)]
    placed += [u.id for u in resolution.unresolved if u.kind.value == "kalshi_market"]
    expected = sorted(m.ticker for e in events for m in e.markets)
    assert sorted(placed) == expected
