"""Shared test configuration: bounded Hypothesis profiles so CI stays fast."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "quick", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("quick" if os.environ.get("SRCGRAD_QUICK") else "default")
