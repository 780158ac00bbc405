"""Authorization: Azure's built-in Backup roles, as action patterns, checked on every route.

Every route has an *action*, named the way Azure RBAC names them: the resource types of its
path after ``providers/`` (parameters dropped) and a verb, ``read`` for GET, ``write`` for
PUT and PATCH, ``delete`` for DELETE and, for POST, ``{last segment}/action``. For example
``POST .../protectedItems/{item}/backup`` is
``Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/backup/action``.
Paths outside a provider (``/subscriptions``, ``/tenants``, strongbox's ``/admin`` routes)
get ``Microsoft.Resources/...`` and ``Strongbox/...`` names in the same shape.

A role is a list of allowed patterns and of excluded ones (Azure's ``actions`` and
``notActions``); ``*`` matches any run of characters, and matching ignores case, as Azure's
does. The definitions follow Azure's built-in roles, narrowed to what strongbox serves:

``Backup Reader``        every read, and the job export (Azure grants it ``backupJobsExport/action``)
``Backup Operator``      reads, plus discovery, enable protection, on-demand backup, restore
                         and job cancel; not policies, not stopping protection, not deleting data
``Backup Contributor``   all backup management, but not deleting a vault
``Owner``                everything, including the virtual clock (``serve --virtual-clock``)

One write needs its body to be judged: a PUT of a protected item may enable protection
(Backup Operator may) or stop it, change its policy or undelete it (Backup Contributor
only). Handlers ask for that with :data:`MANAGE_PROTECTION` through ``Call.authorize``.

A token may also be scoped to one resource group. It then acts only on resources in it: a
path whose vault, container or item (the VM's resource group is part of their names) lies in
another resource group is refused with 403, and so is a restore into a restore location of
another resource group; lists show only what lies in its resource group.
"""

from __future__ import annotations

import re
from functools import lru_cache

from strongbox.domain.errors import AuthorizationFailed
from strongbox.domain.sources import parse_container_name, parse_item_name
from strongbox.services.tokens import Principal

RS = "Microsoft.RecoveryServices/vaults"
ITEMS = RS + "/backupFabrics/protectionContainers/protectedItems"
#: Stopping protection, changing an item's policy, or undeleting it: strongbox's name for the
#: part of ``protectedItems/write`` that Backup Operator does not get.
MANAGE_PROTECTION = ITEMS + "/manageProtection/action"

_READS = ("*/read",)
_OPERATOR = _READS + (
    RS + "/backupJobsExport/action",
    RS + "/backupFabrics/refreshContainers/action",
    ITEMS + "/write",
    ITEMS + "/backup/action",
    ITEMS + "/recoveryPoints/restore/action",
    RS + "/backupJobs/cancel/action",
)

#: role -> (actions, notActions)
ROLE_DEFINITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Owner": (("*",), ()),
    "Backup Contributor": (("Microsoft.RecoveryServices/*", "*/read"), (RS + "/delete",)),
    "Backup Operator": (_OPERATOR, ()),
    "Backup Reader": (_READS + (RS + "/backupJobsExport/action",), ()),
}

_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def action_for(method: str, template: str) -> str:
    """The RBAC action of a route: ``action_for("DELETE", ".../vaults/{vaultName}")`` is
    ``Microsoft.RecoveryServices/vaults/delete``."""
    segments = [s for s in template.strip("/").split("/") if s]
    lowered = [s.lower() for s in segments]
    if "providers" in lowered:
        at = len(lowered) - 1 - lowered[::-1].index("providers")
        namespace, rest = segments[at + 1], segments[at + 2:]
    elif lowered and lowered[0] == "admin":
        namespace, rest = "Strongbox", segments
    else:
        namespace, rest = "Microsoft.Resources", segments
    types = [s for s in rest if not s.startswith("{")]
    if method == "POST":
        return "/".join([namespace, *types, "action"])
    return "/".join([namespace, *types, _VERBS.get(method, method.lower())])


@lru_cache(maxsize=None)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in text.split("*")) + "$", re.IGNORECASE)


def permits(role: str, action: str) -> bool:
    actions, not_actions = ROLE_DEFINITIONS.get(role, ((), ()))
    return any(_pattern(a).match(action) for a in actions) \
        and not any(_pattern(n).match(action) for n in not_actions)


def authorize(principal: Principal, action: str, scope: str) -> None:
    """Raise 403 ``AuthorizationFailed`` unless the principal's role allows ``action``."""
    if not permits(principal.role, action):
        raise AuthorizationFailed(
            f"The client '{principal.token_id}' with object id '{principal.token_id}' (role "
            f"'{principal.role}') does not have authorization to perform action '{action}' over scope "
            f"'{scope}' or the scope is invalid. If access was recently granted, please refresh your "
            f"credentials.")


def check_resource_group(principal: Principal, resource_group: str | None, scope: str) -> None:
    """A token scoped to one resource group acts only inside it (403 elsewhere)."""
    if principal.resource_group is None or resource_group is None:
        return
    if principal.resource_group.lower() != resource_group.lower():
        raise AuthorizationFailed(
            f"The client '{principal.token_id}' is scoped to resource group '{principal.resource_group}' "
            f"and does not have authorization over scope '{scope}'.")


def resource_groups_named(params: dict[str, str]) -> list[str]:
    """Every resource group a route's parameters name: the vault's, and the VM's in container
    and item names (``IaasVMContainer;iaasvmcontainerv2;{rg};{vm}``)."""
    found = [params["resourceGroupName"]] if "resourceGroupName" in params else []
    for key, parse in (("containerName", parse_container_name), ("protectedItemName", parse_item_name)):
        parsed = parse(params[key]) if key in params else None
        if parsed is not None:
            found.append(parsed[0])
    return found


def resource_group_of(resource_id: str) -> str | None:
    """``/subscriptions/s/resourceGroups/{rg}/...`` -> rg (None when the id names none)."""
    parts = resource_id.strip("/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return None


def in_scope(principal: Principal | None, resource_group: str) -> bool:
    """Whether a resource in ``resource_group`` is visible to the principal (for lists)."""
    return principal is None or principal.resource_group is None \
        or principal.resource_group.lower() == resource_group.lower()
