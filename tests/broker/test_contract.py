"""The same broker contract, for GLIMPSE_BROKER=paper and GLIMPSE_BROKER=iqoption (fake server).

The paper checks run in this process on a ManualClock. The IQ Option checks
run the real client library in one driver process (its globals allow one
connection per process), and each check's outcome is reported here.
"""

from __future__ import annotations

import pytest

from tests.broker.contract import CHECKS, DROP_CHECKS, PaperHarness


@pytest.fixture(scope="module")
def iqoption_results(fake_server) -> dict[str, str]:
    return fake_server.run("contract", timeout=240)


@pytest.mark.parametrize("check", sorted(set(CHECKS) - DROP_CHECKS))
def test_paper(check, config, db, clock):
    harness = PaperHarness(config, db, clock)
    try:
        CHECKS[check](harness)
    finally:
        harness.cleanup()


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_iqoption(check, iqoption_results):
    outcome = iqoption_results.get(check, "not run")
    if outcome != "ok":
        pytest.fail(f"{check} failed against the fake IQ Option server:\n{outcome}")
