"""Hypothesis profiles: ``ci`` (derandomized, bounded, no deadline) when CI=true, ``dev`` otherwise.

Select one by hand with HYPOTHESIS_PROFILE=ci|dev.
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_default = "ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))

# Overflow and division warnings are part of what some tests provoke on purpose.
np.seterr(all="ignore")
