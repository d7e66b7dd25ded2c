"""Ingest checks: the raw frames' contracts (blocking) and quote staleness (WARN), evaluated inside
`capture_market_snapshot` (`defs/shared/checks.StageChecks`)."""

from typing import TYPE_CHECKING, Any

from arb_pipeline.defs.shared.checks import StageChecks, rows_preview, schema, warn
from arb_pipeline.defs.shared.resources import current_settings

if TYPE_CHECKING:  # pandas is imported when a step runs, not when the definitions load
    import pandas as pd

KALSHI_MARKETS_SCHEMA = "kalshi_markets_schema"
SPORTSBOOK_ODDS_SCHEMA = "sportsbook_odds_schema"
KALSHI_BOOKS_FRESH = "kalshi_books_fresh"
SPORTSBOOK_QUOTES_FRESH = "sportsbook_quotes_fresh"
MAX_STALE_FRACTION = 0.5


def kalshi_books_fresh_rule(frame: "pd.DataFrame") -> tuple[bool, dict[str, Any]]:
    import pandas as pd

    limit = current_settings().max_kalshi_quote_age_s
    stale = frame["book_age_s"].fillna(0) > limit if len(frame) else pd.Series([], dtype=bool)
    return not bool(stale.any()), {
        "max_age_s_allowed": float(limit),
        "stale_books": int(stale.sum()),
        "stale": rows_preview(frame, stale, ["ticker", "book_age_s"]),
    }


def sportsbook_quotes_fresh_rule(frame: "pd.DataFrame") -> tuple[bool, dict[str, Any]]:
    import pandas as pd

    limit = current_settings().max_book_quote_age_s
    stale = frame["quote_age_s"] > limit if len(frame) else pd.Series([], dtype=bool)
    fraction = float(stale.mean()) if len(frame) else 0.0
    return fraction <= MAX_STALE_FRACTION, {
        "max_age_s_allowed": float(limit),
        "stale_quotes": int(stale.sum()),
        "stale_fraction": fraction,
        "stale": rows_preview(frame, stale, ["bookmaker", "event_id", "outcome", "quote_age_s"]),
    }


KALSHI_MARKETS_CHECKS = StageChecks((
    schema("KalshiMarketsFrame", name=KALSHI_MARKETS_SCHEMA),
    warn(name=KALSHI_BOOKS_FRESH, rule=kalshi_books_fresh_rule,
         description="Order books were fetched within ARB_MAX_KALSHI_QUOTE_AGE_S of the rest of the capture."),
))
SPORTSBOOK_ODDS_CHECKS = StageChecks((
    schema("SportsbookOddsFrame", name=SPORTSBOOK_ODDS_SCHEMA),
    warn(name=SPORTSBOOK_QUOTES_FRESH, rule=sportsbook_quotes_fresh_rule,
         description="At most half of the bookmaker quotes are older than ARB_MAX_BOOK_QUOTE_AGE_S."),
))

