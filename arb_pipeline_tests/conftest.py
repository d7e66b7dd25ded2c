"""Shared test configuration.

Fixtures that several areas use live here (the simulator server, a temporary database);
area-specific fixtures live in the conftest.py of that area's test folder.
"""

import os

from hypothesis import HealthCheck, settings

# Property tests run a moderate number of examples by default; CI may raise it with HYPOTHESIS_PROFILE=ci.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
