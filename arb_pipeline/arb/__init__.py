"""Pure arbitrage/+EV maths: no I/O, no httpx/SQLAlchemy/Dagster, only `arb_pipeline.domain`.

Modules, one job each:
- `money`: strict Decimal parsing and directed rounding (fees up, payouts down);
- `odds`: odds conversions (float for screening, exact Decimal for money);
- `implied_prob`: de-vigging and the weighted consensus of books;
- `fees`: Kalshi trading fees, per order, rounded as Kalshi does;
- `book`: Kalshi order book as asks, walking it at size, the tick grid;
- `sizing`: equal-payout splits, Kelly variants, `SizingPolicy` caps;
- `constraints`: `Limits` and the checks that produce rejection reasons;
- `combos`: instrument sets that pay exactly $1 in every outcome of a game;
- `lines`: the same for a spread or total line, the push on a whole-number point included;
- `market`, `quotes`: detection inputs (`KalshiContract`, `GameLine`, columnar `GameColumns` and `QuoteTable`);
- `screen` (vectorized float screen) → `confirm` (exact Decimal confirmation) → `results`;
- `cover`: the exact sizing and pricing of a cover or a value bet, shared by games and lines;
- `opportunity`: the `detect` entry point (game winners);
- `line_game`, `line_detect`: spread/total inputs and `detect_lines`.
"""
