"""`strongbox backup now VM` and `strongbox restore VM --to LOCATION`: start a job on the
server, print its id alone on stdout (so ``JOB=$(strongbox backup now demo-vm)`` works) and,
with ``--wait``, wait for it as `strongbox job wait` does, with the same exit codes.

The vault is the one that protects VM among those the token can see, unless ``--vault``
names it. A restore goes to a restore location the server declares, addressed as Azure
addresses a storage account: ``--to NAME`` is the account NAME in the VM's resource group,
``--to RG/NAME`` one in another group, or a full ``/subscriptions/.../storageAccounts/NAME``
id. It is a ``RestoreDisks`` restore of ``--point`` (default: the newest recovery point).
"""

from __future__ import annotations

from typing import Annotated

import typer

from strongbox.cli.client import ArmClient, ItemRef, VaultRef, connect
from strongbox.cli.connection import CaOption, ProfileOption, ServerOption, TokenOption
from strongbox.cli.items import VmArgument
from strongbox.cli.job_wait import EXIT_CODES_HELP, wait
from strongbox.cli.jobs import IntervalOption, TimeoutOption, VaultOption
from strongbox.domain.errors import RecoveryPointNotFound

backup_app = typer.Typer(no_args_is_help=True, help="Back up a protected virtual machine now.")

WaitOption = Annotated[bool, typer.Option(
    "--wait", help="Wait for the job to end, showing progress; exit as `strongbox job wait` does.")]


class NoRecoveryPoint(RecoveryPointNotFound):
    """Virtual machine '{name}' has no recovery point in vault '{vault}' yet: run `strongbox backup now {name}` first."""


@backup_app.command("now", epilog=EXIT_CODES_HELP + " Without --wait: 0 once the job is started.")
def now(
    vm: VmArgument,
    vault: VaultOption = None,
    expiry: Annotated[str | None, typer.Option(
        help="Keep this recovery point until then (ISO-8601, UTC unless it says); "
             "default: the policy's retention.")]
    = None,
    wait_for_it: WaitOption = False,
    interval: IntervalOption = 1.0,
    timeout: TimeoutOption = None,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Start a backup of VM; print the job id."""
    properties: dict[str, str] = {"objectType": "IaasVMBackupRequest"}
    if expiry:
        properties["recoveryPointExpiryTimeInUTC"] = expiry
    with connect(server, token, ca, profile) as client:
        item = client.find_item(vm, vault)
        job_id = client.start(f"{item.id}/backup", {"properties": properties})
        _started(client, item.vault, job_id, f"Backup of {item.vm}", wait_for_it, interval, timeout)


def restore(
    vm: VmArgument,
    to: Annotated[str, typer.Option(
        "--to", show_default=False,
        help="The restore location: NAME (in the VM's resource group), RG/NAME, or a storage account id.")],
    point: Annotated[str | None, typer.Option(
        "--point", help="The recovery point id (strongbox point list VM); default: the newest.")] = None,
    vault: VaultOption = None,
    wait_for_it: WaitOption = False,
    interval: IntervalOption = 1.0,
    timeout: TimeoutOption = None,
    server: ServerOption = None, token: TokenOption = None,
    ca: CaOption = None, profile: ProfileOption = None,
) -> None:
    """Restore VM's files into a declared restore location (a new folder there); print the job id."""
    with connect(server, token, ca, profile) as client:
        item = client.find_item(vm, vault)
        if point is None:
            points = client.points(item)
            if not points:
                raise NoRecoveryPoint(name=vm, vault=item.vault.name, point="latest")
            point = str(points[0]["name"])
        body = {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                               "recoveryPointId": point, "sourceResourceId": item.vm_id,
                               "storageAccountId": storage_account_id(client, item, to)}}
        job_id = client.start(f"{item.id}/recoveryPoints/{point}/restore", body)
        what = f"Restore of {item.vm} from point {point}"
        _started(client, item.vault, job_id, what, wait_for_it, interval, timeout)


def storage_account_id(client: ArmClient, item: ItemRef, location: str) -> str:
    if location.lower().startswith("/subscriptions/"):
        return location
    group, _, name = location.rpartition("/")
    return (f"/subscriptions/{client.conn.subscription}/resourceGroups/{group or item.vm_resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{name}")


def _started(client: ArmClient, vault: VaultRef, job_id: str, what: str, wait_for_it: bool, interval: float,
             timeout: float | None) -> None:
    typer.echo(f"{what} started in vault {vault.name}: job {job_id}", err=True)
    typer.echo(job_id)
    if wait_for_it:
        raise typer.Exit(wait(client, vault, job_id, interval=interval, timeout=timeout))
