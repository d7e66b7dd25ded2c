"""Kalshi market ↔ sportsbook event/outcome resolution (pure: no I/O beyond reading packaged YAML).

Entry points: `catalogue.load_catalogue()` (team data), `resolver.resolve(...)` (the matching, by
Kalshi's identifiers: milestones and structured targets passed in by the caller), `manual_overrides`
(human corrections) and `commands` (functions the CLI calls). `rules` identifies teams and winner
markets, `lines` spread and total markets.
"""
