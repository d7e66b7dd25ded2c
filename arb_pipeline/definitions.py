"""The one Dagster `Definitions` of arb_pipeline: the domains under `arb_pipeline/defs`, merged.

Loaded by `workspace.yaml` (`python_module: arb_pipeline.definitions`). Each domain binds its own
resources; a resource several domains use is one shared object, which `Definitions.merge` accepts.
The domains are imported as modules: Dagster refuses a module with more than one `Definitions`
object at its top level.
"""

import dagster as dg

from arb_pipeline.defs.execution import definitions as execution
from arb_pipeline.defs.history import definitions as history
from arb_pipeline.defs.ingest import definitions as ingest
from arb_pipeline.defs.monitoring import definitions as monitoring
from arb_pipeline.defs.opportunities import definitions as opportunities
from arb_pipeline.defs.positions import definitions as positions
from arb_pipeline.defs.pricing import definitions as pricing
from arb_pipeline.defs.resolve import definitions as resolve
from arb_pipeline.defs.worker import definitions as worker

defs = dg.Definitions.merge(
    ingest.defs,
    resolve.defs,
    pricing.defs,
    opportunities.defs,
    execution.defs,
    positions.defs,
    history.defs,
    monitoring.defs,
    worker.defs,
)
