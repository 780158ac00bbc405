"""Data-plane errors. Each docstring is the message template; codes are stable.

Storage errors (:class:`StorageError`, :class:`StorageFull`) live in
:mod:`strongbox.storage.base` and are re-exported here.
"""

from __future__ import annotations

from strongbox.domain.errors import StrongboxError
from strongbox.storage.base import BlobNotFound, StorageError, StorageFull

__all__ = [
    "BlobNotFound", "Cancelled", "PathEscape", "SnapshotNotFound", "SourceMissing", "StorageError",
    "StorageFull", "VaultCorrupt", "VaultExists", "VaultLocked", "VaultNotFound", "WrongPassphrase",
]


class Cancelled(StrongboxError):
    """Operation cancelled{detail}"""

    code = "OperationCancelled"
    http_status = 409
    exit_code = 130


class SourceMissing(StrongboxError):
    """Source path does not exist: {detail}"""

    code = "SourceMissing"
    http_status = 400
    exit_code = 2


class WrongPassphrase(StrongboxError):
    """Wrong passphrase for this vault{detail}"""

    code = "WrongPassphrase"
    http_status = 401
    exit_code = 5


class VaultNotFound(StrongboxError):
    """No vault found at {detail}"""

    code = "VaultNotFound"
    http_status = 404
    exit_code = 3


class VaultExists(StrongboxError):
    """A vault already exists at {detail}"""

    code = "VaultExists"
    http_status = 409
    exit_code = 4


class VaultLocked(StrongboxError):
    """Vault is locked: {detail}"""

    code = "VaultLocked"
    http_status = 409
    exit_code = 4


class VaultCorrupt(StrongboxError):
    """Vault data is corrupt: {detail}"""

    code = "VaultCorrupt"
    http_status = 500
    exit_code = 7


class PathEscape(StrongboxError):
    """Refused: {detail}"""

    code = "PathEscape"
    http_status = 400
    exit_code = 7


class SnapshotNotFound(StrongboxError):
    """Recovery point not found: {detail}"""

    code = "SnapshotNotFound"
    http_status = 404
    exit_code = 3
