"""Positions checks: exposure the ledger cannot vouch for, and a leg left unhedged past its hedge."""

from datetime import UTC, datetime

import dagster as dg

from arb_pipeline.defs.execution.resources import CircuitBreakerResource, ExecutionResource
from arb_pipeline.defs.positions.assets import POSITIONS
from arb_pipeline.defs.shared.checks import ERROR

POSITIONS_RECONCILED = "positions_reconciled"
NO_EXPIRED_UNHEDGED_LEG = "no_expired_unhedged_leg"


@dg.asset_check(asset=POSITIONS, name=POSITIONS_RECONCILED, blocking=False,
                description="Every open position is explained by recorded fills and no order has been in flight "
                            "(sent/unknown) for more than 5 minutes: no unreconciled exposure.",
                metadata={"severity": ERROR.value})
def positions_reconciled(execution: ExecutionResource, circuit_breaker: CircuitBreakerResource) -> dg.AssetCheckResult:
    from arb_pipeline.services.ledger import unreconciled
    from arb_pipeline.storage.db import session_scope

    with session_scope(circuit_breaker.sessions()) as session:
        problems = unreconciled(session, execution.mode, datetime.now(UTC))
    return dg.AssetCheckResult(passed=not problems, severity=ERROR,
                               metadata={"problems": dg.MetadataValue.json(problems[:50]), "count": len(problems)})


@dg.asset_check(asset=POSITIONS, name=NO_EXPIRED_UNHEDGED_LEG, blocking=False,
                description="No hedge expired or was abandoned while its arbitrage's Kalshi leg is still open "
                            "(one-sided exposure waiting for a person).",
                metadata={"severity": ERROR.value})
def no_expired_unhedged_leg(execution: ExecutionResource,
                            circuit_breaker: CircuitBreakerResource) -> dg.AssetCheckResult:
    from arb_pipeline.services.ledger import expired_unhedged
    from arb_pipeline.storage.db import session_scope

    with session_scope(circuit_breaker.sessions()) as session:
        stranded = expired_unhedged(session, execution.mode)
    return dg.AssetCheckResult(passed=not stranded, severity=ERROR,
                               metadata={"legs": dg.MetadataValue.json(stranded[:50]), "count": len(stranded)})


CHECKS = [positions_reconciled, no_expired_unhedged_leg]
