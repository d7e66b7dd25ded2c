"""`arb-pipeline sim`: serve the simulator in the foreground until interrupted.

Without a configured Kalshi key the simulator creates a demo RSA key pair on first run under
`<data_dir>/sim/` and prints where it is, so the Kalshi client and `make demo` can sign with it.
The clock is live (wall time), so odds move and games start and settle while the demo runs.
"""

from __future__ import annotations

from pathlib import Path

import uvicorn

from arb_pipeline.settings import default_data_dir
from arb_pipeline.sim.auth import DEMO_KEY_FILE, DEMO_KEY_ID_FILE
from arb_pipeline.sim.scenario import ScenarioConfig
from arb_pipeline.sim.server import SimConfig, create_app


def build_config(host: str, port: int, kalshi_key_id: str | None = None,
                 kalshi_public_key_path: Path | str | None = None, seed: int | None = None,
                 data_dir: Path | str | None = None, extended: bool = False) -> SimConfig:
    public_pem = Path(kalshi_public_key_path).expanduser().read_bytes() if kalshi_public_key_path else None
    if (public_pem is None) != (kalshi_key_id is None):
        raise ValueError("give both --kalshi-key-id and --kalshi-public-key, or neither (demo key)")
    seed = 7 if seed is None else seed
    # a demo should show opportunities within minutes: windows open about every 3 minutes per kind
    scenario = ScenarioConfig(seed=seed, live_clock=True, arb_rate_per_hour=20.0, value_rate_per_hour=20.0,
                              opening_windows=True, extended=extended)
    return SimConfig(host=host, port=port, seed=seed, live_clock=True, scenario=scenario,
                     kalshi_key_id=kalshi_key_id, kalshi_public_key_pem=public_pem,
                     data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(), log_level="info")


def describe(config: SimConfig, created: bool) -> str:
    base = f"http://{config.host}:{config.port}"
    lines = [f"arb_pipeline simulator on {base} (seed {config.seed})",
             f"  KALSHI_BASE_URL={base}/trade-api/v2",
             f"  ODDS_API_BASE_URL={base}",
             "  ODDS_API_KEY=<the simulator's fixed demo key: arb_pipeline.sim.server.DEFAULT_ODDS_API_KEY>"]
    # key ids and keys are never printed (DESIGN.md money rule 7): only where the demo files are
    if config.kalshi_public_key_pem is None and config.data_dir is not None:
        key_dir = config.data_dir / "sim"
        lines.append(f"  KALSHI_PRIVATE_KEY_PATH={key_dir / DEMO_KEY_FILE}"
                     + ("  (demo key pair created now)" if created else "  (demo key pair)"))
        lines.append(f"  KALSHI_API_KEY_ID: the contents of {key_dir / DEMO_KEY_ID_FILE}")
    else:
        lines.append("  Kalshi signatures are checked against the public key given with --kalshi-public-key")
    lines.append(f"  operator endpoints: {base}/_sim/state, POST {base}/_sim/faults|advance|inject")
    return "\n".join(lines)


def run_sim(host: str = "127.0.0.1", port: int = 8765, kalshi_key_id: str | None = None,
            kalshi_public_key_path: Path | str | None = None, seed: int | None = None,
            data_dir: Path | str | None = None, extended: bool = False) -> None:
    """Serve until interrupted (blocks). `extended`: every catalogued league, spreads and totals."""
    config = build_config(host, port, kalshi_key_id, kalshi_public_key_path, seed, data_dir, extended)
    app = create_app(config)
    sim = app.state.sim
    print(describe(config, sim.created_key_dir is not None), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
