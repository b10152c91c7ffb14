"""ARM's cloud metadata document, for wiring by ``ARM_CLOUD_METADATA_URL`` alone (no code change
in the caller). azure-ai-ml picks the cloud whose ``resourceManager`` occurs in that URL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulators.azureml.routes.common import ctx_of

router = APIRouter()


@router.get("/metadata/endpoints")
def endpoints(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    base = ctx.endpoint + "/"
    return JSONResponse([{
        "name": ctx.cloud_name(),
        "portal": base,
        "resourceManager": base,
        "authentication": {"loginEndpoint": base, "audiences": [base]},
        "media": base,
        "graphAudience": base,
        "graph": base,
        "suffixes": {"storage": ctx.blobs.storage_endpoint, "azureDataLakeStoreFileSystem": "localhost"},
        "batch": base,
        "sqlManagement": base,
        "gallery": base,
        "activeDirectoryDataLake": base,
        "vmImageAliasDoc": base,
    }])
