"""Every error code the product can report is documented in docs/errors.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import strongbox
from strongbox.domain.errors import StrongboxError

DOC = Path(__file__).resolve().parents[3] / "docs" / "errors.md"


def _all_errors() -> set[type[StrongboxError]]:
    for mod in pkgutil.walk_packages(strongbox.__path__, "strongbox."):
        importlib.import_module(mod.name)
    found: set[type[StrongboxError]] = set()
    stack = [StrongboxError]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.add(sub)
            stack.append(sub)
    return found


def test_every_code_is_documented_with_its_status() -> None:
    text = DOC.read_text()
    rows = dict(re.findall(r"^\| `([A-Za-z]+)` \| (\d{3}) \|", text, flags=re.M))
    missing = sorted({(e.code, e.http_status) for e in _all_errors()
                      if rows.get(e.code) != str(e.http_status)})
    assert not missing, f"document these in docs/errors.md (code, HTTP status): {missing}"
