"""The operator's desk over HTTP: the REST API, the dashboard page at `/` and Prometheus `/metrics`.

`create_app(settings)` builds the FastAPI app; `arb-pipeline api` serves it with uvicorn. Every route
calls the same services as the CLI and the Dagster assets (`services.desk`, `services.operations`,
`services.mappings`): there is no rule of its own here. Nothing in this package is imported by
`arb_pipeline.definitions`.
"""
