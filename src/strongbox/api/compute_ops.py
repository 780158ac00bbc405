"""A read-only ``Microsoft.Compute/virtualMachines`` view of the declared sources.

``az backup protection enable-for-vm`` (through ``az vm show``) GETs the VM before it protects
it: it needs ``type`` exactly ``Microsoft.Compute/virtualMachines`` and a ``location`` equal to
the vault's. Sources have no location of their own, so a VM reports the location of the vault
that protects it, else of a vault in its resource group, else of any vault in its subscription,
else :data:`DEFAULT_LOCATION`. Only the token's subscription is visible (the app checks it);
an undeclared VM is 404 ``ResourceNotFound``, as in Azure.
"""

from __future__ import annotations

import uuid
from typing import Any

from strongbox.api.call import Call, Reply
from strongbox.domain.errors import NotFound
from strongbox.domain.sources import Source
from strongbox.services import protection, vaults

VM_TYPE = "Microsoft.Compute/virtualMachines"
DEFAULT_LOCATION = "westeurope"


class VirtualMachineNotFound(NotFound):
    """The Resource 'Microsoft.Compute/virtualMachines/{name}' under resource group '{resource_group}' \
was not found."""

    code = "ResourceNotFound"


def _location(call: Call, source: Source) -> str:
    candidates = vaults.list_vaults(call.ctx, source.subscription)
    for vault in candidates:
        if any(view.source == source for view in protection.list_items(call.ctx, vault)):
            return vault.location
    in_group = [v for v in candidates if v.resource_group.lower() == source.resource_group.lower()]
    for vault in in_group + candidates:
        return vault.location
    return DEFAULT_LOCATION


def vm_resource(call: Call, source: Source) -> dict[str, Any]:
    vm_id = str(uuid.uuid5(uuid.NAMESPACE_URL, source.vm_id.lower()))
    return {
        "id": source.vm_id,
        "name": source.name,
        "type": VM_TYPE,
        "location": _location(call, source),
        "tags": {"strongbox-paths": str(len(source.paths))},
        "properties": {
            "vmId": vm_id,
            "provisioningState": "Succeeded",
            "hardwareProfile": {"vmSize": "Standard_B1s"},
            "storageProfile": {
                "osDisk": {"osType": "Linux", "name": f"{source.name}_OsDisk", "createOption": "FromImage",
                           "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Standard_LRS"}},
                "dataDisks": [],
            },
            "osProfile": {"computerName": source.name},
            "networkProfile": {"networkInterfaces": []},
        },
    }


def virtual_machines_get(call: Call) -> Reply:
    p = call.params
    source = call.ctx.catalog.source(p["subscriptionId"], p["resourceGroupName"], p["vmName"])
    if source is None:
        raise VirtualMachineNotFound(name=p["vmName"], resource_group=p["resourceGroupName"])
    return Reply(200, vm_resource(call, source))


def virtual_machines_list(call: Call) -> Reply:
    p = call.params
    found = call.ctx.catalog.sources(p["subscriptionId"])
    if "resourceGroupName" in p:
        found = [s for s in found if s.resource_group.lower() == p["resourceGroupName"].lower()]
    found = [s for s in found if call.visible(s.resource_group)]
    return Reply(200, {"value": [vm_resource(call, s) for s in found]})
