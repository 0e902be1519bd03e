"""The pipeline tests' bundle: the embedded services on a fast clock (a module may define its own)."""

from __future__ import annotations

import pytest

from tests.pipeline.bundle import make_bundle


@pytest.fixture
def bundle(config, db):
    b = make_bundle(config, db)
    yield b
    b.stop()
