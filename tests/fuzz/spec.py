"""Azure's own OpenAPI files as one self-contained Swagger 2.0 document for schemathesis.

Sources: the backup API (``bms.json``, 2026-10-01, the version the SDK tests use) and the vault
API (``vaults.json``, 2025-01-01), exactly as saved in ``../shared/spec/azure``. What this module
changes, and why:

* Every ``$ref`` into another file (``common-types/.../types.json``, the other spec) is copied
  in under a prefix (``Common_``, ``Vaults_``), so the document stands alone; ``x-ms-examples``
  (refs to example files) are dropped.
* Polymorphic bases that strongbox serves (``ProtectionPolicy``, ``SchedulePolicy``, ...) are
  replaced where a body uses them by the concrete Azure subtypes strongbox implements, with the
  discriminator pinned to the subtype's value. Swagger's ``discriminator`` is not JSON Schema,
  so without this every generated policy would be a bare ``{"backupManagementType": "x"}`` and
  the fuzz would never get past the first check of a parser.

Every path and operation of both files stays in (unserved ones must answer a CloudError 404/405
too); :data:`SERVED` names the operations strongbox implements, which get most of the requests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SPEC_DIR = Path(os.environ.get("STRONGBOX_SPEC_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "spec"))
BACKUP = SPEC_DIR / ("azure/recoveryservicesbackup/resource-manager/Microsoft.RecoveryServices/"
                     "RecoveryServicesBackup/stable/2026-10-01/bms.json")
VAULTS = SPEC_DIR / ("azure/recoveryservices/resource-manager/Microsoft.RecoveryServices/RecoveryServices/"
                     "stable/2025-01-01/vaults.json")

#: operationId -> the api-version a client of that file sends
SERVED: dict[str, str] = {
    **{op: "2026-10-01" for op in (
        "BackupPolicies_List", "ProtectionPolicies_CreateOrUpdate", "ProtectionPolicies_Get",
        "ProtectionPolicies_Delete",
        "ProtectionContainers_Refresh", "ProtectionContainerRefreshOperationResults_Get",
        "BackupProtectableItems_List", "BackupProtectionContainers_List", "ProtectionContainers_Get",
        "BackupProtectedItems_List", "ProtectedItems_Get", "ProtectedItems_CreateOrUpdate", "ProtectedItems_Delete",
        "Backups_Trigger", "ProtectedItemOperationStatuses_Get", "ProtectedItemOperationResults_Get",
        "RecoveryPoints_List", "RecoveryPoints_Get", "Restores_Trigger",
        "BackupOperationStatuses_Get", "BackupOperationResults_Get",
        "BackupJobs_List", "JobDetails_Get", "JobCancellations_Trigger", "JobOperationResults_Get",
        "Jobs_Export", "ExportJobsOperationResults_Get")},
    **{op: "2025-01-01" for op in (
        "Vaults_ListBySubscriptionId", "Vaults_ListByResourceGroup", "Vaults_Get", "Vaults_CreateOrUpdate",
        "Vaults_Delete")},
}

#: polymorphic base -> the concrete subtypes strongbox implements (Azure's definition names)
CONCRETE: dict[str, tuple[str, ...]] = {
    "ProtectionPolicy": ("AzureIaaSVMProtectionPolicy",),
    "SchedulePolicy": ("SimpleSchedulePolicy", "SimpleSchedulePolicyV2"),
    "RetentionPolicy": ("LongTermRetentionPolicy", "SimpleRetentionPolicy"),
    "ProtectedItem": ("AzureIaaSComputeVMProtectedItem", "AzureIaaSClassicComputeVMProtectedItem"),
    "BackupRequest": ("IaasVMBackupRequest",),
    "RestoreRequest": ("IaasVMRestoreRequest", "IaasVMRestoreWithRehydrationRequest"),
}

_SECTIONS = ("definitions", "parameters", "responses")


def available() -> bool:
    return BACKUP.is_file() and VAULTS.is_file()


class _Merger:
    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "swagger": "2.0",
            "info": {"title": "Azure Backup and Recovery Services vaults (as strongbox fuzzes them)", "version": "1"},
            "host": "management.azure.com", "schemes": ["https"],
            "consumes": ["application/json"], "produces": ["application/json"],
            "paths": {}, **{section: {} for section in _SECTIONS},
        }
        self._files: dict[Path, dict[str, Any]] = {}
        self._names: dict[tuple[Path, str, str], str] = {}

    def load(self, path: Path) -> dict[str, Any]:
        path = path.resolve()
        if path not in self._files:
            self._files[path] = json.loads(path.read_text())
        return self._files[path]

    @staticmethod
    def _prefix(path: Path) -> str:
        if path.name == "bms.json":
            return ""
        return "Vaults_" if path.name == "vaults.json" else "Common_"

    def local(self, path: Path, section: str, name: str) -> str:
        """A local ``#/section/name`` for ``name`` in ``path``, copying it in on first use."""
        key = (path.resolve(), section, name)
        if key not in self._names:
            local = self._prefix(path) + name
            self._names[key] = local
            self.doc[section][local] = {}       # reserved first: definitions refer to themselves
            self.doc[section][local] = self.rewrite(self.load(path)[section][name], path)
        return f"#/{section}/{self._names[key]}"

    def rewrite(self, node: Any, path: Path, in_all_of: bool = False) -> Any:
        if isinstance(node, list):
            return [self.rewrite(item, path, in_all_of) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target, _, pointer = node["$ref"].partition("#")
            file = (path.parent / target) if target else path
            section, name = pointer.strip("/").split("/", 1)
            if section == "definitions" and name in CONCRETE and not in_all_of and file.name == "bms.json":
                return self._concrete(file, name)
            return {"$ref": self.local(file, section, name)}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "x-ms-examples":
                continue
            # a subtype's allOf names its base: that reference must stay the base itself
            out[key] = self.rewrite(value, path, in_all_of=(key == "allOf"))
        return out

    def _concrete(self, file: Path, base: str) -> dict[str, Any]:
        definitions = self.load(file)["definitions"]
        discriminator = definitions[base]["discriminator"]
        choices = []
        for sub in CONCRETE[base]:
            value = definitions[sub].get("x-ms-discriminator-value", sub)
            choices.append({"allOf": [{"$ref": self.local(file, "definitions", sub)},
                                      {"type": "object", "required": [discriminator],
                                       "properties": {discriminator: {"type": "string", "enum": [value]}}}]})
        return choices[0] if len(choices) == 1 else {"x-ms-concrete": base, "anyOf": choices}

    def add_paths(self, path: Path) -> None:
        for url, item in self.load(path)["paths"].items():
            if url not in self.doc["paths"]:        # /providers/.../operations is in both
                self.doc["paths"][url] = self.rewrite(item, path)


def merged_spec() -> dict[str, Any]:
    merger = _Merger()
    merger.add_paths(BACKUP)
    merger.add_paths(VAULTS)
    return merger.doc


def operation_ids(doc: dict[str, Any]) -> list[str]:
    return [op["operationId"] for item in doc["paths"].values() for method, op in item.items()
            if method != "parameters"]
