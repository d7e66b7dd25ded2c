"""Read-only desk queries: the order states they accept are exactly the schema's."""

import re

from arb_pipeline.storage.models import Order
from arb_pipeline.storage.repositories.desk import ORDER_STATUSES


def test_the_desk_knows_every_order_status_the_schema_allows():
    (constraint,) = [c for c in Order.__table__.constraints if str(getattr(c, "sqltext", "")).startswith("status IN")]
    assert tuple(re.findall(r"'([a-z_]+)'", str(constraint.sqltext))) == ORDER_STATUSES
