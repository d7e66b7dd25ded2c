"""Execution of the Kalshi leg, behind the circuit breaker (paper by default).

- `breaker`: the database-backed circuit breaker every process obeys.
- `ids`: deterministic opportunity ids and client_order_ids.
- `plan`: an `arb.results.Opportunity` made explicit for execution (orders and hedge legs).
- `paper` / `live`: the executors (captured-book paper fills; the Kalshi connector).
- `hedge`: sportsbook hedge instructions with exact worst acceptable odds.
The use-case that ties them together is `services.execute.execute_opportunities`.
"""
