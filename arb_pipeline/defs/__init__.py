"""The Dagster layer: one folder per domain, merged by `arb_pipeline/definitions.py` (see CONVENTIONS.md)."""
