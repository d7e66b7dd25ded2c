"""Kalshi market ↔ sportsbook event/outcome resolution (pure: no I/O beyond reading packaged YAML).

Entry points: `catalogue.load_catalogue()` (team data), `resolver.resolve(...)` (the matching),
`manual_overrides` (human corrections) and `commands` (functions the CLI calls).
"""
