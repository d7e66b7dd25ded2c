"""Dagster types of the stage frames, and the column schemas the UI shows, without importing pandas or
pandera when the definitions load.

Each stage model's *structure* is the asset's Dagster type (dagster-pandera), its *whole* model the
blocking asset check (see `arb_pipeline.schemas`). Building either from the pandera models imports
pandas and pandera (~1 s), which every run process, `dagster dev` reload and code-server start paid
before doing anything. So the definitions take them from `frame_schemas.py`, a static description
generated from the models (`python -m arb_pipeline.defs.shared.types` rewrites it;
`test_types.py` fails when it no longer matches the models), and a type's check builds the real
pandera type the first time it runs.
"""

from __future__ import annotations

import sys
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from arb_pipeline.defs.shared.frame_schemas import FRAME_SCHEMAS
from arb_pipeline.services.stages import StageValue

if TYPE_CHECKING:
    import pandas as pd

GENERATED = Path(__file__).with_name("frame_schemas.py")


def _described(model: str) -> dict[str, str]:
    try:
        return FRAME_SCHEMAS[model]
    except KeyError:
        raise KeyError(f"no frame schema for {model!r} in {GENERATED.name}: a model of arb_pipeline.schemas? "
                       f"(regenerate with `python -m arb_pipeline.defs.shared.types`)") from None


@cache
def pandera_frame_type(model: str) -> dg.DagsterType:
    """The dagster-pandera type of `model`'s structure (imports pandas and pandera: at run time only)."""
    from dagster_pandera import pandera_schema_to_dagster_type

    from arb_pipeline import schemas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagster-pandera marks it beta; pinned version
        return pandera_schema_to_dagster_type(schemas.structural_schema(getattr(schemas, model)))


@cache
def frame_type(model: str) -> dg.DagsterType:
    """The Dagster type of a frame with `model`'s structure (a model of `arb_pipeline.schemas`, by name):
    the same name, description and schema metadata as dagster-pandera's, checked by it when a value
    arrives."""
    described = _described(model)

    def _check(context: dg.TypeCheckContext, value: object) -> dg.TypeCheck:
        return pandera_frame_type(model).type_check(context, value)

    return dg.DagsterType(
        type_check_fn=_check, name=model, description=described["type_description"],
        metadata={"schema": dg.TableSchemaMetadataValue(dg.deserialize_value(described["type_schema"], dg.TableSchema))})


@cache
def column_schema(model: str) -> dict[str, dg.TableSchema]:
    """Asset-definition metadata for the UI's column view: the *whole* model (descriptions and
    value constraints included), as dagster-pandera renders it."""
    return {"dagster/column_schema": dg.deserialize_value(_described(model)["column_schema"], dg.TableSchema)}


@cache
def stage_type(model: str, value_class: type[StageValue]) -> dg.DagsterType:
    """The Dagster type of a scan stage's value: a `value_class` whose frame has `model`'s structure."""
    frame_check = frame_type(model)

    def _check(context: dg.TypeCheckContext, value: object) -> dg.TypeCheck:
        if not isinstance(value, value_class):
            return dg.TypeCheck(success=False,
                                description=f"expected {value_class.__name__}, got {type(value).__name__}")
        return frame_check.type_check(context, value.frame)

    return dg.DagsterType(type_check_fn=_check, name=f"{value_class.__name__}[{model}]",
                          typing_type=value_class, description=f"{value_class.__doc__ or ''} Frame: {model}.")


def frame_of(value: object) -> pd.DataFrame:
    """The contract frame of a stage value (a history asset's value is the frame itself); the checks
    take `object` because Dagster cannot type an input as a union."""
    if isinstance(value, StageValue):
        return value.frame
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value
    raise TypeError(f"expected a stage value or a DataFrame, got {type(value).__name__}")


# --- the generated description -------------------------------------------------------------------------

FRAME_MODELS = ("KalshiMarketsFrame", "SportsbookOddsFrame", "ResolvedEventsFrame", "ImpliedProbabilitiesFrame",
                "OpportunitiesFrame", "ExecutedOrdersFrame", "HistoryResolvedEventsFrame",
                "HistoryImpliedProbabilitiesFrame", "HistoryOpportunitiesFrame")


def describe_frames() -> dict[str, dict[str, str]]:
    """What dagster-pandera makes of each model in `FRAME_MODELS`, serialized: the structure type's
    description and schema, and the whole model's column schema (imports pandas and pandera)."""
    from dagster_pandera import pandera_schema_to_dagster_type

    from arb_pipeline import schemas

    out: dict[str, dict[str, Any]] = {}
    for name in FRAME_MODELS:
        structure = pandera_frame_type(name)
        if structure.display_name != name:
            raise ValueError(f"dagster-pandera names the type of {name} {structure.display_name!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            full = pandera_schema_to_dagster_type(getattr(schemas, name))
        out[name] = {
            "type_description": structure.description or "",
            "type_schema": dg.serialize_value(structure.metadata["schema"].schema),
            "column_schema": dg.serialize_value(full.metadata["schema"].schema),
        }
    return out


def render_frame_schemas() -> str:
    lines = ['"""Generated by `python -m arb_pipeline.defs.shared.types` from the pandera models of',
             "`arb_pipeline.schemas`: do not edit (`test_types.py` fails when it no longer matches them).",
             '"""', "", "FRAME_SCHEMAS: dict[str, dict[str, str]] = {"]
    for name, described in describe_frames().items():
        lines.append(f"    {name!r}: {{")
        for key, value in described.items():
            lines.append(f"        {key!r}: {value!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    GENERATED.write_text(render_frame_schemas())
    print(f"wrote {GENERATED}", file=sys.stderr)
