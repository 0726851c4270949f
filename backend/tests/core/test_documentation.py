"""The docs stay true: every setting is documented in README's table and listed in .envrc."""

import re
from pathlib import Path

import pytest

from backend.config import Settings

REPO = Path(__file__).resolve().parents[3]
# Settings read under another name: `oidc` is filled from OIDC_<NAME>_*, which the row of
# OIDC_PROVIDERS documents.
DOCUMENTED_AS = {"oidc": "OIDC_PROVIDERS"}


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    name = DOCUMENTED_AS.get(field, field.upper())
    readme = (REPO / "README.md").read_text()
    envrc = (REPO / ".envrc").read_text()

    # In the first column of a table row: `| `NAME` | default | meaning |` (or `| `A`, `NAME` |`).
    row = rf"^\|[^|\n]*`{re.escape(name)}`[^|\n]*\|"
    assert re.search(row, readme, re.MULTILINE), f"{name} is not in README's configuration table"
    if field not in DOCUMENTED_AS:
        assert re.search(rf"^(# )?export {name}=", envrc, re.MULTILINE), f"{name} is not in .envrc"
