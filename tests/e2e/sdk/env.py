"""The suite's fixed names and settings, the static-token credential, and per-api-version
names (vault, sources, Azure-style ids)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AccessToken

SUB = "00000000-0000-0000-0000-00000000e2e1"
RG = "rg-sdk"
RESTORE_ACCOUNT = "sdkrestores"
API_VERSIONS = ("2026-10-01", "2017-07-01", "2021-12-01")
PAGE_SIZE = 3
IO_LIMIT_MBPS = 20
BIG_SOURCE = 48 << 20          # ~2.4 s at 20 MB/s: a backup that is observably running
POLLING_INTERVAL = 0.2


class StaticToken:
    """A credential that hands out one bearer token (from ``strongbox token issue``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def tag(api_version: str) -> str:
    return "v" + api_version.replace("-", "")


@dataclass
class Names:
    """The per-api-version names: vault, sources and their Azure-style ids."""

    api_version: str

    @property
    def vault(self) -> str:
        return f"vault-{tag(self.api_version)}"

    @property
    def vm(self) -> str:
        return f"vm-a-{tag(self.api_version)}"

    @property
    def big_vm(self) -> str:
        return f"vm-big-{tag(self.api_version)}"

    @staticmethod
    def vm_id(vm: str) -> str:
        return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{vm}"

    @staticmethod
    def container(vm: str) -> str:
        return f"IaasVMContainer;iaasvmcontainerv2;{RG};{vm}"

    @staticmethod
    def item(vm: str) -> str:
        return f"VM;iaasvmcontainerv2;{RG};{vm}"

    @staticmethod
    def storage_account_id(name: str = RESTORE_ACCOUNT) -> str:
        return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{name}"
