"""The route table: every URL strongbox serves, in one place.

Paths match case-insensitively (ARM's rule); ``{subscriptionId}`` is checked against the
token's scope by the app before any handler runs.
"""

from __future__ import annotations

from strongbox.api import admin_ops, compute_ops, dashboard_ops, identity_ops, job_ops, protection_ops, vault_ops
from strongbox.api.metrics import Metrics
from strongbox.api.router import Route, Router, route

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
VAULTS = "/providers/Microsoft.RecoveryServices/vaults"
V = RG + VAULTS + "/{vaultName}"
FAB = V + "/backupFabrics/{fabricName}"
PC = FAB + "/protectionContainers/{containerName}"
PI = PC + "/protectedItems/{protectedItemName}"
VMS = "/providers/Microsoft.Compute/virtualMachines"


def build_router(*, virtual_clock: bool = False, metrics: Metrics | None = None,
                 metrics_public: bool = False) -> Router:
    """The table; ``virtual_clock`` adds ``GET/POST /admin/clock`` (serve --virtual-clock only).
    ``GET /metrics`` serves ``metrics`` (a registry of its own when None), without a token when
    ``metrics_public``."""
    metrics = metrics or Metrics()
    table: list[Route] = [
        # vaults
        route("GET", SUB + VAULTS, vault_ops.vaults_list_by_subscription),
        route("GET", RG + VAULTS, vault_ops.vaults_list_by_resource_group),
        route("PUT", V, vault_ops.vaults_create_or_update),
        route("GET", V, vault_ops.vaults_get),
        route("PATCH", V, vault_ops.vaults_update),
        route("DELETE", V, vault_ops.vaults_delete),
        # policies
        route("GET", V + "/backupPolicies", vault_ops.backup_policies_list),
        route("PUT", V + "/backupPolicies/{policyName}", vault_ops.protection_policies_create_or_update),
        route("GET", V + "/backupPolicies/{policyName}", vault_ops.protection_policies_get),
        route("DELETE", V + "/backupPolicies/{policyName}", vault_ops.protection_policies_delete),
        # discovery
        route("POST", FAB + "/refreshContainers", protection_ops.protection_containers_refresh),
        route("GET", FAB + "/operationResults/{operationId}", job_ops.refresh_operation_results_get),
        route("GET", FAB + "/operationsStatus/{operationId}", job_ops.refresh_operation_statuses_get),
        route("GET", V + "/backupProtectableItems", protection_ops.backup_protectable_items_list),
        route("GET", V + "/backupProtectionContainers", protection_ops.backup_protection_containers_list),
        route("GET", PC, protection_ops.protection_containers_get),
        # protected items, backup, recovery points, restore
        route("GET", V + "/backupProtectedItems", protection_ops.backup_protected_items_list),
        route("GET", PI, protection_ops.protected_items_get),
        route("PUT", PI, protection_ops.protected_items_create_or_update),
        route("DELETE", PI, protection_ops.protected_items_delete),
        route("POST", PI + "/backup", protection_ops.backups_trigger),
        route("GET", PI + "/operationsStatus/{operationId}", job_ops.protected_item_operation_statuses_get),
        route("GET", PI + "/operationResults/{operationId}", job_ops.protected_item_operation_results_get),
        route("GET", PI + "/recoveryPoints", protection_ops.recovery_points_list),
        route("GET", PI + "/recoveryPoints/{recoveryPointId}", protection_ops.recovery_points_get),
        route("POST", PI + "/recoveryPoints/{recoveryPointId}/restore", protection_ops.restores_trigger),
        # vault-level operations
        route("GET", V + "/backupOperations/{operationId}", job_ops.backup_operation_statuses_get),
        route("GET", V + "/backupOperationResults/{operationId}", job_ops.backup_operation_results_get),
        # jobs
        route("GET", V + "/backupJobs", job_ops.backup_jobs_list),
        route("GET", V + "/backupJobs/operationResults/{operationId}", job_ops.export_jobs_operation_results_get),
        route("GET", V + "/backupJobs/{jobName}", job_ops.job_details_get),
        route("POST", V + "/backupJobs/{jobName}/cancel", job_ops.job_cancellations_trigger),
        route("GET", V + "/backupJobs/{jobName}/operationResults/{operationId}", job_ops.job_operation_results_get),
        route("GET", V + "/backupJobs/{jobName}/logs", job_ops.job_logs_get),   # strongbox's own
        route("POST", V + "/backupJobsExport", job_ops.jobs_export),
        # the export "blob", authorized by its signed link
        route("GET", "/strongbox/exports/{blobName}", job_ops.export_download, public=True),
        # sign-in and discovery for the Azure CLI (identity_ops: public routes answer OAuth2 errors)
        route("GET", "/metadata/endpoints", identity_ops.metadata_endpoints, public=True),
        route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", identity_ops.openid_configuration,
              public=True),
        route("POST", "/{tenant}/oauth2/v2.0/token", identity_ops.token, public=True),
        route("GET", "/subscriptions", identity_ops.subscriptions_list),
        route("GET", SUB, identity_ops.subscriptions_get),
        route("GET", "/tenants", identity_ops.tenants_list),
        # a read-only view of the declared sources as virtual machines
        route("GET", SUB + VMS, compute_ops.virtual_machines_list),
        route("GET", RG + VMS, compute_ops.virtual_machines_list),
        route("GET", RG + VMS + "/{vmName}", compute_ops.virtual_machines_get),
        # Prometheus
        route("GET", "/metrics", metrics.scrape, public=metrics_public, versioned=False),
        # the web dashboard's static files (it signs in with a token and calls the routes above)
        route("GET", "/dashboard", dashboard_ops.dashboard_index, public=True, versioned=False),
        route("GET", "/dashboard/{fileName}", dashboard_ops.dashboard_file, public=True, versioned=False),
    ]
    if virtual_clock:
        table += [
            route("GET", "/admin/clock", admin_ops.clock_get, versioned=False),
            route("POST", "/admin/clock", admin_ops.clock_advance, versioned=False),
        ]
    return Router(table)
