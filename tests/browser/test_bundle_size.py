"""The built app's JavaScript stays under its budget (gzipped)."""

from __future__ import annotations

import gzip

import pytest

pytestmark = pytest.mark.browser

BUDGET_BYTES = 600 * 1024


def test_the_built_javascript_is_under_600_kb_gzipped(web_dist):
    scripts = sorted((web_dist / "assets").glob("*.js"))
    assert scripts, f"no JavaScript in {web_dist / 'assets'}"
    size = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in scripts)
    assert size < BUDGET_BYTES, f"{size / 1024:.1f} KB gzipped, over {BUDGET_BYTES / 1024:.0f} KB"
