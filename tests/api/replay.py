"""Hypothesis settings shared by the generated-request (schemathesis) tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def replayable(examples: int) -> settings:
    """`examples` cases, the same ones every run (a failure in CI is a failure on any machine).

    No example database and no blob: a pass is replayed from its seed, not from state kept
    between runs. No deadline: the cases go through a real server, whose time is not the test's.
    """
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
