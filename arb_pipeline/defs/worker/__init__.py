"""The websocket worker seen from Dagster: its records as observations, its health as a check."""
