"""Hypothesis profiles.

- ``ci`` (the default, whatever the environment): derandomized and bounded, so ``python -m pytest``
  checks the same cases on every machine and every run, quickly.
- ``dev`` (opt-in: ``HYPOTHESIS_PROFILE=dev python -m pytest``): randomized and eight times deeper,
  for contributors hunting new failures; add ``--hypothesis-seed=N`` to replay one run.
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
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Overflow and division warnings are part of what some tests provoke on purpose.
np.seterr(all="ignore")
