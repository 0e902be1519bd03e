"""The trader app checks a new password's length before the round trip: with the server's minimum."""

from __future__ import annotations

import re
from pathlib import Path

from glimpse.runtime.security import MIN_PASSWORD_LENGTH

FORMS = Path(__file__).resolve().parents[1] / "apps" / "web" / "src" / "lib" / "forms.tsx"


def test_the_apps_password_minimum_is_the_servers():
    found = re.search(r"export const MIN_PASSWORD = (\d+);", FORMS.read_text(encoding="utf-8"))
    assert found is not None, "apps/web/src/lib/forms.tsx no longer exports MIN_PASSWORD"
    # A shorter one let 8- and 9-character passwords through the app, for the server to refuse.
    assert int(found.group(1)) == MIN_PASSWORD_LENGTH
