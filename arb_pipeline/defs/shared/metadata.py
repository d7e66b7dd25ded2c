"""Asset metadata helpers: the numbers a trader reads in the UI at a glance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:  # imported when an asset runs, not when the definitions load
    import pandas as pd


def number(value: Any) -> float | None:
    """A finite float for metadata, or None (Dagster metadata rejects NaN/inf)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def frame_metadata(frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"dagster/row_count": len(frame)}
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = number(value)
            if value is None:
                continue
        meta[key] = value
    return meta


def preview(frame: pd.DataFrame, columns: list[str], limit: int = 10) -> dg.MetadataValue:
    from arb_pipeline.services.frames import markdown_table

    return dg.MetadataValue.md(markdown_table(frame, columns, limit))


def column_stat(frame: pd.DataFrame, column: str, how: str) -> float | None:
    if frame.empty or column not in frame:
        return None
    import pandas as pd

    series = pd.to_numeric(frame[column], errors="coerce").dropna()
    if series.empty:
        return None
    return number(getattr(series, how)())
