"""Execution checks: the order frame's contract (blocking, ERROR), evaluated inside the `executed_orders`
step - also when it places nothing (`StageChecks.not_applicable`), so no evaluation is left PLANNED."""

from arb_pipeline.defs.shared.checks import StageChecks, schema

EXECUTED_ORDERS_SCHEMA = "executed_orders_schema"

EXECUTED_ORDERS_CHECKS = StageChecks((schema("ExecutedOrdersFrame", name=EXECUTED_ORDERS_SCHEMA),))
