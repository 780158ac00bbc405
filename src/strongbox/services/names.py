"""Resource-name rules: what a vault, policy or resource group may be called.

Names become ARM ids, database keys and (for vaults) never paths: vault data lives under a
random storage id. Still, a name with '/', '..' or a control character is refused at the
door so that no layer below ever has to think about it.
"""

from __future__ import annotations

import re

from strongbox.domain.errors import InvalidResourceName

_ALLOWED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()\-]*$")


def check_name(name: str, what: str, *, max_len: int = 90) -> None:
    if not name:
        raise InvalidResourceName(name=name, detail=f"a {what} name must not be empty")
    if len(name) > max_len:
        raise InvalidResourceName(name=name[:100], detail=f"a {what} name has at most {max_len} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidResourceName(name=name.encode("unicode_escape").decode(), detail="control characters are not allowed")
    if ".." in name or "/" in name or "\\" in name:
        raise InvalidResourceName(name=name, detail="'/', '\\' and '..' are not allowed")
    if not _ALLOWED.match(name):
        raise InvalidResourceName(
            name=name, detail=f"a {what} name starts with a letter or digit and has only letters, digits, '-', '_', '.', '(' and ')'")
