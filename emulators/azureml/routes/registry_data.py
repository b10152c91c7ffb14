"""The registry data plane's storage hand-off: ``tempdatarefs`` (where to upload a new version's
files) and ``datarefs`` (how to read an existing version's files), both as container SAS URIs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulators.azureml import model_assets, validation
from emulators.azureml.blobstore import registry_container_name
from emulators.azureml.errors import bad_request, conflict
from emulators.azureml.routes.common import ctx_of, json_body, scope_of

PREFIX = (
    "/mferp/managementfrontend/subscriptions/{sub}/resourceGroups/{rg}/providers/"
    "Microsoft.MachineLearningServices/registries/{parent}"
)
router = APIRouter()


def _check_asset_id(body: Any, registry: str, name: str, version: str) -> None:
    expected = f"azureml://registries/{registry}/models/{name}/versions/{version}"
    asset_id = body.get("assetId") if isinstance(body, dict) else None
    if not isinstance(asset_id, str) or asset_id.lower() != expected.lower():
        raise bad_request(f"assetId must be '{expected}'.", target="assetId")


def _reference(blob_uri: str, sas_uri: str, account_id: str) -> dict[str, Any]:
    return {
        "blobReferenceForConsumption": {
            "blobUri": blob_uri,
            "storageAccountArmId": account_id,
            "credential": {"credentialType": "SAS", "sasUri": sas_uri, "wasbsUri": None},
        }
    }


def _account_id(request: Request) -> str:
    ctx = ctx_of(request)
    p = request.path_params
    return f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/Microsoft.Storage/storageAccounts/" + (
        ctx.blobs.account
    )


@router.put("/tempdatarefs/{name}/versions/{version}")
async def temporary_data_reference(request: Request, name: str, version: str) -> JSONResponse:
    ctx = ctx_of(request)
    scope = scope_of(request)
    body = await json_body(request)
    validation.model_name(name)
    validation.model_version(version)
    _check_asset_id(body, scope["parent"], name, version)
    if body.get("temporaryDataReferenceType", "TemporaryBlobReference") != "TemporaryBlobReference":
        raise bad_request("Only TemporaryBlobReference is supported.", target="temporaryDataReferenceType")
    with ctx.store.transaction():
        container = scope["models"].get(name)
        if container and version in container["versions"]:
            # azure-ai-ml treats this 409 as "already uploaded" and skips the upload.
            raise conflict(f"Asset {model_assets.asset_id(scope, name, version)} already exists.")
    blob_container = registry_container_name(scope["parent"], name, version, uuid.uuid4().hex)
    ctx.blobs.ensure_container(blob_container)
    blob_uri = f"{ctx.blobs.public_endpoint}/{blob_container}"
    sas = ctx.blobs.container_sas_url(blob_container, write=True)
    return JSONResponse(_reference(blob_uri, sas, _account_id(request)))


@router.post("/datarefs/{name}/versions/{version}")
async def data_reference(request: Request, name: str, version: str) -> JSONResponse:
    ctx = ctx_of(request)
    scope = scope_of(request)
    body = await json_body(request)
    _check_asset_id(body, scope["parent"], name, version)
    with ctx.store.transaction():
        record = model_assets.require_version(scope, name, version)
        model_uri = record["props"].get("modelUri") or ""
    blob_uri = body.get("blobUri") or model_uri
    container = ctx.blobs.container_of(blob_uri)
    if container is None:
        raise bad_request(f"blobUri '{blob_uri}' is not in this registry's storage.", target="blobUri")
    sas = ctx.blobs.container_sas_url(container, write=False)
    return JSONResponse(_reference(blob_uri, sas, _account_id(request)))
