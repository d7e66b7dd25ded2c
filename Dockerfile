# One image for the code location, the webserver and the daemon (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    ARB_DATA_DIR=/opt/arb/data

RUN pip install --no-cache-dir uv

WORKDIR /opt/arb
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY arb_pipeline ./arb_pipeline
COPY mapping_overrides.yaml workspace.yaml ./
COPY deploy ./deploy
RUN uv sync --frozen --no-dev \
    && mkdir -p "$DAGSTER_HOME" "$ARB_DATA_DIR" \
    && cp deploy/dagster.postgres.yaml "$DAGSTER_HOME/dagster.yaml"

# the code location's gRPC server; the webserver and the daemon override the command
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "arb_pipeline.definitions", "--location-name", "arb_pipeline"]
