"""Execution checks: the order frame's contract (blocking, ERROR)."""

from arb_pipeline.defs.execution.assets import EXECUTED_ORDERS
from arb_pipeline.defs.shared.checks import schema_check

EXECUTED_ORDERS_SCHEMA = "executed_orders_schema"

executed_orders_schema = schema_check(EXECUTED_ORDERS, "ExecutedOrdersFrame", name=EXECUTED_ORDERS_SCHEMA)

CHECKS = [executed_orders_schema]
