"""Sources and restore locations: the only paths the service may ever read or write.

A source is a "virtual machine" the operator declares in the config; its ARM identity and
the container and item names are derived from it exactly as Azure derives them from a VM:
container ``IaasVMContainer;iaasvmcontainerv2;{rg};{vm}``, item ``VM;iaasvmcontainerv2;{rg};{vm}``,
fabric ``Azure``. A restore location is addressed as a storage account. Nothing in the API
can name any other path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FABRIC = "Azure"


@dataclass(frozen=True)
class Source:
    subscription: str
    resource_group: str
    name: str
    paths: tuple[Path, ...]

    @property
    def vm_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Compute/virtualMachines/{self.name}")

    @property
    def container_name(self) -> str:
        return f"IaasVMContainer;iaasvmcontainerv2;{self.resource_group};{self.name}"

    @property
    def short_container_name(self) -> str:
        return f"iaasvmcontainerv2;{self.resource_group};{self.name}"

    @property
    def item_name(self) -> str:
        return f"VM;iaasvmcontainerv2;{self.resource_group};{self.name}"


@dataclass(frozen=True)
class RestoreLocation:
    subscription: str
    resource_group: str
    name: str
    path: Path

    @property
    def storage_account_id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Storage/storageAccounts/{self.name}")


def parse_container_name(name: str) -> tuple[str, str] | None:
    """``IaasVMContainer;iaasvmcontainerv2;{rg};{vm}`` (or the short form) -> (rg, vm)."""
    parts = name.split(";")
    if len(parts) == 4 and parts[0].lower() == "iaasvmcontainer" and parts[1].lower().startswith("iaasvmcontainer"):
        return parts[2], parts[3]
    if len(parts) == 3 and parts[0].lower().startswith("iaasvmcontainer"):
        return parts[1], parts[2]
    return None


def parse_item_name(name: str) -> tuple[str, str] | None:
    """``VM;iaasvmcontainerv2;{rg};{vm}`` -> (rg, vm)."""
    parts = name.split(";")
    if len(parts) == 4 and parts[0].lower() == "vm" and parts[1].lower().startswith("iaasvmcontainer"):
        return parts[2], parts[3]
    return None
