"""`strongbox item list` and `strongbox point list VM`: what the vaults protect, and the
recovery points of one virtual machine (newest first)."""

from __future__ import annotations

from typing import Annotated

import typer

from strongbox.cli.client import connect
from strongbox.cli.connection import CaOption, ProfileOption, ServerOption, TokenOption
from strongbox.cli.jobs import VaultOption
from strongbox.cli.output import Output, OutputOption, print_json, print_table, when

items_app = typer.Typer(no_args_is_help=True, help="The virtual machines the vaults protect.")
points_app = typer.Typer(no_args_is_help=True, help="The recovery points of a protected virtual machine.")

VmArgument = Annotated[str, typer.Argument(
    help="The virtual machine (a declared source): VM, or RG/VM when the name is in two resource groups.",
    show_default=False)]


@items_app.command("list")
def list_items(
    vault: VaultOption = None,
    output: OutputOption = Output.table,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Protected items of every vault the token can see (or of --vault)."""
    with connect(server, token, ca, profile) as client:
        found = [item for ref in client.vaults_named(vault) for item in client.items(ref)]
    if output is Output.json:
        print_json([item.resource for item in found])
        return
    rows = []
    for item in found:
        p = item.resource.get("properties") or {}
        count = (p.get("extendedInfo") or {}).get("recoveryPointCount")
        rows.append([item.vm, item.vm_resource_group, item.vault.name,
                     str(p.get("policyName") or ""), str(p.get("protectionState") or ""),
                     str(p.get("lastBackupStatus") or ""), when(p.get("lastBackupTime")),
                     "" if count is None else str(count)])
    print_table(("VM", "RESOURCE GROUP", "VAULT", "POLICY", "PROTECTION", "LAST BACKUP",
                 "LAST BACKUP TIME (UTC)", "POINTS"), rows)


@points_app.command("list")
def list_points(
    vm: VmArgument,
    vault: VaultOption = None,
    output: OutputOption = Output.table,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Recovery points of VM, newest first (the first is what `strongbox restore` takes by default)."""
    with connect(server, token, ca, profile) as client:
        points = client.points(client.find_item(vm, vault))
    if output is Output.json:
        print_json(points)
        return
    rows = []
    for point in points:
        p = point.get("properties") or {}
        tiers = ", ".join(str(t.get("type")) for t in p.get("recoveryPointTierDetails") or [])
        expiry = (p.get("recoveryPointProperties") or {}).get("expiryTime")
        rows.append([str(point.get("name")), when(p.get("recoveryPointTime")),
                     str(p.get("recoveryPointType") or ""), tiers, when(expiry)])
    print_table(("POINT ID", "TIME (UTC)", "TYPE", "TIER", "EXPIRES (UTC)"), rows)
