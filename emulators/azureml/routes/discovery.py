"""Registry discovery: ``MLClient(registry_name=...)`` asks this in its constructor for the
registry's home (subscription, resource group, region) and the data-plane base URL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulators.azureml import validation
from emulators.azureml.routes.common import ctx_of

router = APIRouter()


@router.get("/registrymanagement/v1.0/registries/{registry}/discovery")
def discover(request: Request, registry: str) -> JSONResponse:
    ctx = ctx_of(request)
    validation.parent_name("registries", registry)
    return JSONResponse({
        "registryName": registry,
        "tenantId": ctx.extras.get("tenant_id"),
        "primaryRegion": ctx.location,
        "regions": [ctx.location],
        "subscriptionId": ctx.extras["subscription"],
        "resourceGroup": ctx.extras["resource_group"],
        "workspaceName": None,
        # azure-ai-ml appends "mferp/managementfrontend" to this, so the trailing slash matters.
        "primaryRegionResourceProviderUri": ctx.endpoint + "/",
    })
