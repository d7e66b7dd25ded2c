"""Talking to the local simulator with zero configuration.

The simulator (`arb-pipeline sim`, `make demo`) writes a demo Kalshi key pair under
`<ARB_DATA_DIR>/sim/` and accepts a fixed demo odds key. A scan pointed at the simulator source
needs nothing else: whatever credential is not configured is taken from there. Configured values
always win (a simulator started with `--kalshi-public-key` checks your own key). These demo
credentials are not secrets of anyone's account, but they are still never printed.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from arb_pipeline.settings import Settings


def simulator_key_dir(settings: Settings) -> Path:
    return settings.data_dir / "sim"


def simulator_settings(settings: Settings) -> Settings:
    """`settings` with the simulator's demo credentials filling in every unconfigured one."""
    from arb_pipeline.sim.auth import DEMO_KEY_FILE, DEMO_KEY_ID_FILE
    from arb_pipeline.sim.server import DEFAULT_ODDS_API_KEY

    update: dict[str, object] = {}
    if settings.odds_api_key is None or not settings.odds_api_key.get_secret_value():
        update["odds_api_key"] = SecretStr(DEFAULT_ODDS_API_KEY)
    if settings.odds_provider.strip() == "pinnacle":  # the simulator's Pinnacle routes: demo login, its own ids
        from arb_pipeline.sim import pinnacle_api

        if settings.pinnacle_username is None or not settings.pinnacle_username.get_secret_value():
            update["pinnacle_username"] = SecretStr(pinnacle_api.DEFAULT_USERNAME)
        if settings.pinnacle_password is None or not settings.pinnacle_password.get_secret_value():
            update["pinnacle_password"] = SecretStr(pinnacle_api.DEFAULT_PASSWORD)
        if not settings.pinnacle_leagues.strip():
            update["pinnacle_leagues"] = ",".join(f"{k}:{s}:{lg}" for k, (s, lg) in pinnacle_api.SIM_LEAGUES.items())
    has_key = settings.kalshi_private_key_path is not None or (
        settings.kalshi_private_key_pem is not None and settings.kalshi_private_key_pem.get_secret_value())
    has_id = settings.kalshi_key_id is not None and settings.kalshi_key_id.get_secret_value()
    if not (has_key and has_id):
        key_dir = simulator_key_dir(settings)
        key_file, id_file = key_dir / DEMO_KEY_FILE, key_dir / DEMO_KEY_ID_FILE
        if not (key_file.exists() and id_file.exists()):
            raise ValueError(
                f"no Kalshi credentials configured and no simulator demo key under {key_dir}: start the "
                f"simulator with the same ARB_DATA_DIR first (`arb-pipeline sim` or `make demo` writes it), or "
                "set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH")
        if not has_id:
            update["kalshi_key_id"] = SecretStr(id_file.read_text(encoding="utf-8").strip())
        if not has_key:
            update["kalshi_private_key_path"] = key_file
    return settings.model_copy(update=update) if update else settings
