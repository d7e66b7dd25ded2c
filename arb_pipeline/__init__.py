"""arb_pipeline: Kalshi vs sportsbook arbitrage, orchestrated by Dagster.

One process-wide default is set here, before anything imports NumPy: OpenBLAS's thread pool is kept to
one thread unless the environment already says otherwise. Nothing here does linear algebra - NumPy is
used for element-wise screening and sorting, which never runs on BLAS threads - yet OpenBLAS starts one
thread per core when NumPy is imported, and that start-up alone cost ~0.12 s of CPU per process
(`scan --snapshot` at 5,000 games, 4 alternating runs: 1.42 -> 1.30 s user time; every Dagster run
process pays it too). Set OPENBLAS_NUM_THREADS yourself to override it.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
