"""Shared test configuration: bounded Hypothesis profiles so CI stays fast and stable."""

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow],
           # CI runs the same examples every time (reproducible); local runs explore.
           "derandomize": bool(os.environ.get("CI"))}

settings.register_profile("default", max_examples=60, **_COMMON)
settings.register_profile("quick", max_examples=15, **_COMMON)
settings.load_profile("quick" if os.environ.get("SRCGRAD_QUICK") else "default")
