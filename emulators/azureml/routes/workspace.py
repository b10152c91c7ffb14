"""ARM workspace resources the model API depends on: the workspace itself, its default
``workspaceblobstore`` datastore (backed by an Azurite container) and ``listSecrets``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulators.azureml.blobstore import workspace_container_name
from emulators.azureml.context import EmulatorContext
from emulators.azureml.errors import ArmError
from emulators.azureml.model_assets import PROVIDER
from emulators.azureml.routes.common import ctx_of, page, scope_of
from emulators.azureml.store import Scope

PREFIX = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{parent}"
DEFAULT_DATASTORE = "workspaceblobstore"
router = APIRouter()


def _workspace_id(scope: Scope) -> str:
    return (
        f"/subscriptions/{scope['subscription']}/resourceGroups/{scope['resourceGroup']}/providers/{PROVIDER}"
        f"/workspaces/{scope['parent']}"
    )


def _system_data() -> dict[str, str]:
    at = "2024-01-01T00:00:00+00:00"
    return {"createdAt": at, "createdBy": "Emulator User", "createdByType": "User",
            "lastModifiedAt": at, "lastModifiedBy": "Emulator User", "lastModifiedByType": "User"}


def _datastore(ctx: EmulatorContext, scope: Scope) -> dict[str, Any]:
    guid = ctx.workspace_guid(scope["subscription"], scope["resourceGroup"], scope["parent"])
    container = workspace_container_name(guid)
    ctx.blobs.ensure_container(container)
    return {
        "id": f"{_workspace_id(scope)}/datastores/{DEFAULT_DATASTORE}",
        "name": DEFAULT_DATASTORE,
        "type": f"{PROVIDER}/workspaces/datastores",
        "systemData": _system_data(),
        "properties": {
            "description": None,
            "tags": {},
            "properties": {},
            "isDefault": True,
            "credentials": {"credentialsType": "AccountKey"},
            "datastoreType": "AzureBlob",
            "accountName": ctx.blobs.account,
            "containerName": container,
            "endpoint": ctx.blobs.storage_endpoint,
            "protocol": "https",
            "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity",
            "subscriptionId": scope["subscription"],
            "resourceGroup": scope["resourceGroup"],
        },
    }


def _no_datastore(name: str) -> ArmError:
    return ArmError(404, "UserError", f"Datastore with name {name} not found.")


@router.get("")
def get_workspace(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    scope = scope_of(request)
    wid = _workspace_id(scope)
    guid = ctx.workspace_guid(scope["subscription"], scope["resourceGroup"], scope["parent"])
    storage = (
        f"/subscriptions/{scope['subscription']}/resourceGroups/{scope['resourceGroup']}/providers/"
        f"Microsoft.Storage/storageAccounts/{ctx.blobs.account}"
    )
    return JSONResponse({
        "id": wid,
        "name": scope["parent"],
        "type": f"{PROVIDER}/workspaces",
        "location": ctx.location,
        "kind": "Default",
        "tags": {},
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned", "principalId": guid, "tenantId": ctx.extras.get("tenant_id")},
        "systemData": _system_data(),
        "properties": {
            "friendlyName": scope["parent"],
            "description": "",
            "workspaceId": guid,
            "storageAccount": storage,
            "discoveryUrl": f"{ctx.endpoint}/discovery",
            "mlFlowTrackingUri": (
                f"azureml://{ctx.location}.api.azureml.ms/mlflow/v1.0{wid}"
            ),
            "provisioningState": "Succeeded",
            "hbiWorkspace": False,
            "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False,
        },
    })


@router.get("/datastores")
def list_datastores(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    scope = scope_of(request)
    items = [_datastore(ctx, scope)]
    is_default = request.query_params.get("isDefault")
    if is_default is not None and is_default.lower() == "false":
        items = []
    names = request.query_params.getlist("names")
    if names:
        items = [d for d in items if d["name"] in names]
    return JSONResponse(page(request, items, size_param="count"))


@router.get("/datastores/{name}")
def get_datastore(request: Request, name: str) -> JSONResponse:
    ctx = ctx_of(request)
    scope = scope_of(request)
    if name != DEFAULT_DATASTORE:
        raise _no_datastore(name)
    return JSONResponse(_datastore(ctx, scope))


@router.post("/datastores/{name}/listSecrets")
def list_secrets(request: Request, name: str) -> JSONResponse:
    ctx = ctx_of(request)
    scope_of(request)
    if name != DEFAULT_DATASTORE:
        raise _no_datastore(name)
    return JSONResponse({"secretsType": "AccountKey", "key": ctx.blobs.key})
