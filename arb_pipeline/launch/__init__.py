"""Launchers: processes that run the Dagster layer (the bounded headless runner, the demo).

They sit above `defs/` (they execute its jobs and mark its interrupted runs) and beside the CLI that
calls them; nothing below imports them.
"""
