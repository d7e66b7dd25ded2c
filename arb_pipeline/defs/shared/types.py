"""Dagster types of the stage frames: each stage model's structure via dagster-pandera.

The value rules of the same model run as the blocking asset check (see `arb_pipeline.schemas`).
"""

from __future__ import annotations

import warnings
from functools import cache

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from arb_pipeline.schemas import structural_schema
from arb_pipeline.services.stages import StageValue


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


@cache
def stage_type(model: type[pa.DataFrameModel], value_class: type[StageValue]) -> dg.DagsterType:
    """The Dagster type of a scan stage's value: a `value_class` whose frame has `model`'s structure."""
    frame_check = frame_type(model)

    def _check(context: dg.TypeCheckContext, value: object) -> dg.TypeCheck:
        if not isinstance(value, value_class):
            return dg.TypeCheck(success=False,
                                description=f"expected {value_class.__name__}, got {type(value).__name__}")
        return frame_check.type_check(context, value.frame)

    return dg.DagsterType(type_check_fn=_check, name=f"{value_class.__name__}[{model.__name__}]",
                          typing_type=value_class, description=f"{value_class.__doc__ or ''} Frame: {model.__name__}.")


def frame_of(value: object) -> pd.DataFrame:
    """The contract frame of a stage value (a history asset's value is the frame itself); the checks
    take `object` because Dagster cannot type an input as a union."""
    if isinstance(value, StageValue):
        return value.frame
    if isinstance(value, pd.DataFrame):
        return value
    raise TypeError(f"expected a stage value or a DataFrame, got {type(value).__name__}")
