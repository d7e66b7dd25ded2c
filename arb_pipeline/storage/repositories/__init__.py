"""Repositories: explicit, named operations on the schema. Callers own the transaction (Session)."""

from arb_pipeline.storage.repositories.alerts import AlertRepository
from arb_pipeline.storage.repositories.breaker import BreakerRepository
from arb_pipeline.storage.repositories.hedges import HedgeRepository
from arb_pipeline.storage.repositories.leases import LeaseRepository
from arb_pipeline.storage.repositories.mappings import MappingRepository
from arb_pipeline.storage.repositories.marks import GameMarkRepository
from arb_pipeline.storage.repositories.opportunities import OpportunityRepository
from arb_pipeline.storage.repositories.orders import OrderIntent, OrderRepository
from arb_pipeline.storage.repositories.positions import PositionRepository
from arb_pipeline.storage.repositories.snapshots import SnapshotRepository, StoredSnapshot

__all__ = [
    "AlertRepository",
    "BreakerRepository",
    "GameMarkRepository",
    "HedgeRepository",
    "LeaseRepository",
    "MappingRepository",
    "OpportunityRepository",
    "OrderIntent",
    "OrderRepository",
    "PositionRepository",
    "SnapshotRepository",
    "StoredSnapshot",
]
