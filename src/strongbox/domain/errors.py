"""Errors: one class per failure, each with a stable code, an HTTP status and a CLI exit code.

Every error the product can report is a subclass of :class:`StrongboxError`. The class
docstring is the message template (``str.format`` over the keyword arguments given at
raise time), ``code`` is the stable, Azure-style error code that appears in ARM
``CloudError`` bodies and CLI messages, ``http_status`` is the one place the HTTP status is
decided, and ``exit_code`` is what the CLI exits with. Faces (API, CLI) translate these;
nothing below them knows about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StrongboxError(Exception):
    """{detail}"""

    code: ClassVar[str] = "InternalError"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str = "", **fields: Any) -> None:
        self.fields: dict[str, Any] = {"detail": detail, **fields}
        template = (type(self).__doc__ or "{detail}").strip().splitlines()[0]
        try:
            message = template.format(**self.fields)
        except (KeyError, IndexError):
            message = detail or template
        self.message = message
        #: Extra HTTP response headers the API sends with this error (``Retry-After`` on a 429).
        self.headers: dict[str, str] = {}
        super().__init__(message)


# --- input and addressing -------------------------------------------------------------

class BadRequest(StrongboxError):
    """{detail}"""

    code = "BadRequest"
    http_status = 400
    exit_code = 2


class InvalidParameter(StrongboxError):
    """{detail}"""

    code = "InvalidParameterValue"
    http_status = 400
    exit_code = 2


class NotFound(StrongboxError):
    """{detail}"""

    code = "ResourceNotFound"
    http_status = 404
    exit_code = 3


class Conflict(StrongboxError):
    """{detail}"""

    code = "Conflict"
    http_status = 409
    exit_code = 4


# --- auth ----------------------------------------------------------------------------

class AuthenticationFailed(StrongboxError):
    """{detail}"""

    code = "AuthenticationFailed"
    http_status = 401
    exit_code = 5


class AuthorizationFailed(StrongboxError):
    """{detail}"""

    code = "AuthorizationFailed"
    http_status = 403
    exit_code = 5


# --- configuration ----------------------------------------------------------------------

class ConfigError(StrongboxError):
    """Configuration error: {detail}"""

    code = "ConfigError"
    http_status = 400
    exit_code = 2


class DataDirInUse(StrongboxError):
    """The data dir is in use: {detail}"""

    code = "DataDirInUse"
    http_status = 409
    exit_code = 4


# --- ARM request manners ------------------------------------------------------------------

class MissingApiVersion(BadRequest):
    """The api-version query parameter (?api-version=) is required for all requests."""

    code = "MissingApiVersionParameter"


class InvalidApiVersion(BadRequest):
    """The api-version '{version}' is invalid. The supported versions are from 2016-12-01 to 2026-11-01, written yyyy-mm-dd with an optional -preview suffix."""

    code = "InvalidApiVersionParameter"


class InvalidResourceName(BadRequest):
    """The resource name '{name}' is invalid: {detail}"""

    code = "InvalidResourceName"


class InvalidRequestContent(BadRequest):
    """The request content was invalid and could not be deserialized: {detail}"""

    code = "InvalidRequestContent"


class RequestTooLarge(BadRequest):
    """The request body is larger than the limit of {limit} bytes."""

    code = "RequestEntityTooLarge"
    http_status = 413


class PathNotFound(NotFound):
    """No route matches '{method} {path}'."""

    code = "PathNotFound"


class MethodNotAllowed(BadRequest):
    """The method '{method}' is not allowed on '{path}'."""

    code = "MethodNotAllowed"
    http_status = 405


# --- backup management ----------------------------------------------------------------------

class VaultNotFound(NotFound):
    """The Resource 'Microsoft.RecoveryServices/vaults/{name}' under resource group '{resource_group}' was not found."""

    code = "ResourceNotFound"


class VaultNotEmpty(BadRequest):
    """Vault '{name}' cannot be deleted as there are existing resources within the vault: {detail}"""

    code = "ServiceResourceNotEmpty"


class PolicyNotFound(NotFound):
    """Policy '{name}' was not found in vault '{vault}'."""

    code = "BMSUserErrorPolicyNotFound"


class PolicyInUse(BadRequest):
    """Policy '{name}' is in use by {count} protected item(s) and cannot be deleted."""

    code = "BMSUserErrorPolicyInUse"
    http_status = 409


class SourceNotDeclared(NotFound):
    """No virtual machine '{name}' in resource group '{resource_group}' is declared on this server."""

    code = "BMSUserErrorContainerObjectNotFound"


class ItemNotFound(NotFound):
    """Protected item '{name}' was not found in vault '{vault}'."""

    code = "BMSUserErrorItemNotFound"


class ItemNotProtected(BadRequest):
    """Item '{name}' is not protected (protection state {state}); {detail}"""

    code = "BMSUserErrorItemNotProtected"


class ItemBusy(Conflict):
    """Another operation is already in progress on item '{name}' (job {job_id}). Wait for it to finish and retry."""

    code = "UserErrorBackupOperationInProgress"


# --- soft delete and the immutable vault (strongbox.domain.softdelete) ----------------------

class VaultHasSoftDeletedItems(VaultNotEmpty):
    """Recovery Services vault '{name}' cannot be deleted as there are backup items in soft deleted state in the vault ({detail}). Delete the vault after they are permanently deleted, or undelete them and delete them with soft delete disabled."""

    code = "ServiceResourceNotEmpty"


class ItemSoftDeleted(BadRequest):
    """Item '{name}' is soft deleted: its backup data is kept until {purge_time} and then deleted for good. Undelete it first (PUT the item with properties.isRehydrate true)."""

    code = "ItemSoftDeleted"


class ItemNotSoftDeleted(BadRequest):
    """Item '{name}' is not soft deleted (protection state {state}); only a soft-deleted item can be undeleted."""

    code = "ItemNotSoftDeleted"


class ImmutableVaultRetentionReduction(BadRequest):
    """The vault is immutable: {detail}. An immutable vault allows no reduction in retention."""

    code = "ImmutableVaultRetentionReduction"


class ImmutableVaultEarlyDeletion(BadRequest):
    """The vault is immutable: {detail}. An immutable vault keeps every recovery point until it expires."""

    code = "ImmutableVaultEarlyDeletion"


class ImmutabilityLocked(BadRequest):
    """Immutability is Locked on this vault and cannot be changed to {state}: a locked vault stays immutable."""

    code = "ImmutabilityLocked"


class SoftDeleteAlwaysOn(BadRequest):
    """Soft delete is AlwaysON on this vault and cannot be changed to {state}: AlwaysON is irreversible."""

    code = "SoftDeleteAlwaysOn"


class RecoveryPointNotFound(NotFound):
    """Recovery point '{point}' was not found for item '{name}'."""

    code = "BMSUserErrorRecoveryPointNotFound"


class RestoreLocationNotDeclared(BadRequest):
    """Storage account '{storage_account_id}' is not a restore location declared on this server."""

    code = "UserErrorStorageAccountNotFound"


class JobNotFound(NotFound):
    """Job '{job_id}' was not found in vault '{vault}'."""

    code = "BMSUserErrorJobNotFound"


class JobNotCancellable(BadRequest):
    """Job '{job_id}' cannot be cancelled: {detail}"""

    code = "BMSUserErrorJobNotCancellable"


class OperationNotFound(NotFound):
    """Operation '{operation_id}' was not found."""

    code = "BMSUserErrorOperationNotFound"


class WorkerLost(StrongboxError):
    """The process running this job stopped before the job finished ({detail}). The vault is consistent; run the operation again."""

    code = "UserErrorJobInterrupted"
    http_status = 500
