import os

from hypothesis import HealthCheck, settings

# "ci" (the default) draws the same examples on every run, so a run that passed on
# one machine passes on the next; "explore" draws new ones each time to hunt for bugs.
settings.register_profile(
    "ci", deadline=None, max_examples=40, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=15)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
