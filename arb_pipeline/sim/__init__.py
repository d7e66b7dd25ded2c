"""Local venue simulator: Kalshi Trade API v2 and The Odds API v4, on their real wire formats.

Proves every connector without a network and powers `make demo`. Entry points:
`server.start_simulator(SimConfig(...))` (tests, demo; background thread), `cli.run_sim(...)`
(`arb-pipeline sim`, foreground) and `record.record_snapshot(...)` (snapshots, the bundled sample).

Modules, one job each: `scenario` (seeded world and time) built on `slate` (games and venue names),
`pricing` (odds and ladders) and `windows` (injected opportunities); `exchange` and `portfolio`
(matching engine and account); `kalshi_views`/`kalshi_api` and `odds_api` (the two venues' routes);
`auth` (signatures), `ratelimit`, `faults`/`middleware` (fault modes), `admin_api` (/_sim),
`money`, `clock` and `wire` (shared helpers).
"""
