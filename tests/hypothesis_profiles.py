"""Hypothesis settings for the fuzz tests (tests/test_fuzz.py), registered before pytest reads
``--hypothesis-profile``, which is why tests/conftest.py imports this module (test_fuzz.py does too).

``max_examples`` of a profile is the budget of the whole fuzz suite: each fuzz test takes a share of it.

- ``ci`` (the default): 300 examples in all, derandomized and without an example database, so every run
  tries the same cases and CI never flakes; about 45 s on one core. A failure is shown unshrunk.
- ``ci-shrink``: the same 300 cases, a failure shrunk to its smallest form (this can take minutes).
- ``medium``: 2,000 examples, random.
- ``long``: 10,000 examples, random, with the example database in .hypothesis/ (git ignores it), so a
  failure found once is tried first next time. For occasional runs; see the README's "Fuzzing".
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,                # a render takes 0.1-1 s and varies with the machine; no per-example deadline
    print_blob=True,              # a failure prints the blob to replay it with @reproduce_failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.filter_too_much],
)

# CI does not shrink: a failing case is printed as it was found (its steps and a diff, already small), in
# seconds rather than the minutes shrinking can take. ``ci-shrink`` finds the same cases and shrinks them.
settings.register_profile("ci", max_examples=300, derandomize=True, database=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("ci-shrink", max_examples=300, derandomize=True, database=None, **_COMMON)
settings.register_profile("medium", max_examples=2_000, database=None, **_COMMON)
settings.register_profile("long", max_examples=10_000, **_COMMON)
if settings.get_current_profile_name() == "default":
    settings.load_profile("ci")   # --hypothesis-profile, read after this, may name another
