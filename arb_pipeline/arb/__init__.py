"""Pure arbitrage/+EV maths: no I/O, no httpx/SQLAlchemy/Dagster, only `arb_pipeline.domain`.

Modules, one job each:
- `money`: strict Decimal parsing and directed rounding (fees up, payouts down);
- `odds`: odds conversions (float for screening, exact Decimal for money);
- `implied_prob`: de-vigging and the weighted consensus of books;
- `fees`: Kalshi trading fees, per order, rounded as Kalshi does;
- `book`: Kalshi order book as asks, walking it at size, the tick grid;
- `sizing`: equal-payout splits, Kelly variants, `SizingPolicy` caps;
- `constraints`: `Limits` and the checks that produce rejection reasons;
- `combos`: instrument sets that pay exactly $1 in every outcome;
- `market`, `quotes`: detection inputs (`KalshiContract`, `GameLine`, columnar `QuoteTable`);
- `screen` (vectorized float screen) → `confirm` (exact Decimal confirmation) → `results`;
- `opportunity`: the `detect` entry point.
"""
