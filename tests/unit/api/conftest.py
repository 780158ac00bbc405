"""Fixtures for the wire tests: domain objects, the clock, and Azure's own examples."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from strongbox.domain.sources import Source
from strongbox.domain.vaults import Vault

# ../shared beside the checkout (as on developers' machines and in CI), unless told otherwise
SPEC = Path(os.environ.get("STRONGBOX_SPEC_DIR", Path(__file__).resolve().parents[3].parent / "shared" / "spec"))
BACKUP_SPEC = SPEC / ("azure/recoveryservicesbackup/resource-manager/Microsoft.RecoveryServices/"
                      "RecoveryServicesBackup/stable")
NOW = datetime(2026, 11, 29, 8, 30, tzinfo=timezone.utc)


def example(version: str, group: str, name: str) -> dict[str, Any]:
    path = BACKUP_SPEC / version / "examples" / group / name
    if not path.exists():
        pytest.skip(f"Azure spec examples not available at {path}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def definition_properties(name: str) -> set[str]:
    """Every property the 2026-10-01 OpenAPI defines for ``name``, following allOf."""
    path = BACKUP_SPEC / "2026-10-01" / "bms.json"
    if not path.exists():
        pytest.skip(f"Azure OpenAPI not available at {path}")
    definitions = json.loads(path.read_text())["definitions"]

    def collect(key: str) -> set[str]:
        node = definitions[key]
        names = set(node.get("properties", {}))
        for parent in node.get("allOf", []):
            ref = parent.get("$ref", "").rsplit("/", 1)[-1]
            if ref in definitions:
                names |= collect(ref)
        return names

    return collect(name)


@pytest.fixture
def vault() -> Vault:
    return Vault(subscription="00000000-0000-0000-0000-000000000001", resource_group="rg-backup",
                 name="vault-a", location="westeurope", storage_id="s1", created=NOW - timedelta(days=3),
                 tags={"env": "test"}, etag="W/\"1\"")


@pytest.fixture
def source() -> Source:
    return Source(subscription="00000000-0000-0000-0000-000000000001", resource_group="rg-vms",
                  name="vm-a", paths=(Path("/srv/vm-a"),))
