"""Dagster types of the stage frames: each stage model's structure via dagster-pandera.

The value rules of the same model run as the blocking asset check (see `arb_pipeline.schemas`).
"""

from __future__ import annotations

import warnings
from functools import cache

import dagster as dg
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from arb_pipeline.schemas import structural_schema


@cache
def frame_type(model: type[pa.DataFrameModel]) -> dg.DagsterType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagster-pandera marks it beta; pinned version
        return pandera_schema_to_dagster_type(structural_schema(model))


@cache
def column_schema(model: type[pa.DataFrameModel]) -> dict[str, dg.TableSchema]:
    """Asset-definition metadata for the UI's column view: the *whole* model (descriptions and
    value constraints included), as dagster-pandera renders it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        full = pandera_schema_to_dagster_type(model)
    return {"dagster/column_schema": full.metadata["schema"].schema}
