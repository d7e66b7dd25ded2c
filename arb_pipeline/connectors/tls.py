"""One TLS context per process for every venue client (Kalshi, The Odds API, Pinnacle).

Why: an `httpx.Client` created without `verify=` builds a new `ssl.SSLContext` and loads certifi's CA
bundle into it — ~35 ms of CPU per client, and a scan run builds several clients (the capture's Kalshi
and odds clients, the execution's Kalshi client): measured at ~0.14 s of each sensor -> order run at
1,000 games (benchmarks/bench_pipeline_latency.py --profile). The context is exactly httpx's default
(`httpx.create_ssl_context()`: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set — read once,
when the first client of the process is built). An `SSLContext` may be shared by clients and threads.
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()
