"""REST-level behaviour a non-SDK client (or a future SDK) relies on: ARM error shapes, auth,
api-versions, validation, frozen and add-only fields, list filters."""

from __future__ import annotations

import pytest


def _version_url(emulator, name: str, version: str = "1") -> str:
    return f"{emulator.workspace_prefix}/models/{name}/versions/{version}"


BODY = {"properties": {"modelUri": "azureml://datastores/workspaceblobstore/paths/x/model.bin"}}


def test_missing_authorization_is_an_arm_401(emulator, name):
    response = emulator.session.request(
        "GET", _version_url(emulator, name), params={"api-version": "2023-08-01-preview"},
        headers={"Authorization": ""}, verify=emulator.info["ca_bundle"],
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert response.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_api_version_is_required_and_checked(emulator, name):
    missing = emulator.rest("GET", _version_url(emulator, name), api_version=None)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
    unknown = emulator.rest("GET", _version_url(emulator, name), api_version="2099-01-01")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")
    registry_on_arm = emulator.rest("GET", _version_url(emulator, name), api_version="2021-10-01-dataplanepreview")
    assert registry_on_arm.status_code == 400


def test_not_found_has_arm_error_shape(emulator, name):
    response = emulator.rest("GET", _version_url(emulator, name))
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "UserError" and error["message"]
    assert response.headers["x-ms-error-code"] == "UserError"


@pytest.mark.parametrize("bad_name", ["-leading-dash", "has space", "dot.name", "x" * 256])
def test_invalid_model_names_are_rejected(emulator, bad_name):
    response = emulator.rest("PUT", _version_url(emulator, bad_name), BODY)
    assert response.status_code in (400, 404)
    assert response.json()["error"]["code"] in {"UserError", "NotFound"}


@pytest.mark.parametrize("bad_version", ["0", "v1", "1.0", "01"])
def test_model_versions_must_be_positive_integers(emulator, name, bad_version):
    response = emulator.rest("PUT", _version_url(emulator, name, bad_version), BODY)
    assert response.status_code == 400
    assert response.json()["error"]["target"] == "version"


def test_create_requires_model_uri(emulator, name):
    response = emulator.rest("PUT", _version_url(emulator, name), {"properties": {"description": "no uri"}})
    assert response.status_code == 400


def test_invalid_json_is_invalid_request_content(emulator, name):
    response = emulator.session.put(
        _version_url(emulator, name), params={"api-version": "2023-08-01-preview"}, data="{nope",
        headers={"Content-Type": "application/json"}, verify=emulator.info["ca_bundle"],
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "InvalidRequestContent")


def test_job_name_and_flavors_are_stored_and_frozen(emulator, name):
    body = {"properties": {**BODY["properties"], "jobName": "train-123",
                           "flavors": {"python_function": {"data": {"loader_module": "mlflow.sklearn"}}}}}
    created = emulator.rest("PUT", _version_url(emulator, name), body)
    assert created.status_code == 201
    assert created.json()["properties"]["jobName"] == "train-123"
    changed = {"properties": {**body["properties"], "jobName": "other"}}
    assert emulator.rest("PUT", _version_url(emulator, name), changed).status_code == 400
    # leaving jobName out of an update keeps it (the SDK never sends it)
    update = {"properties": {**BODY["properties"], "description": "later"}}
    assert emulator.rest("PUT", _version_url(emulator, name), update).json()["properties"]["jobName"] == "train-123"


def test_version_list_filters_by_tags_and_orders(emulator, name):
    for v, tags in (("1", {"env": "dev"}), ("2", {"env": "prod", "gpu": ""}), ("3", {"env": "prod"})):
        body = {"properties": {**BODY["properties"], "tags": tags}}
        assert emulator.rest("PUT", _version_url(emulator, name, v), body).status_code == 201
    url = f"{emulator.workspace_prefix}/models/{name}/versions"
    prod = emulator.rest("GET", url, params={"tags": "env=prod"}).json()["value"]
    assert [v["name"] for v in prod] == ["2", "3"]
    gpu = emulator.rest("GET", url, params={"tags": "gpu"}).json()["value"]
    assert [v["name"] for v in gpu] == ["2"]
    newest = emulator.rest("GET", url, params={"$orderBy": "createdtime desc", "$top": "1"}).json()
    assert [v["name"] for v in newest["value"]] == ["3"] and newest["nextLink"] is None


def test_container_put_get_and_next_version(emulator, name):
    url = f"{emulator.workspace_prefix}/models/{name}"
    created = emulator.rest("PUT", url, {"properties": {"description": "c", "tags": {"k": "v"}}})
    assert created.status_code == 201
    assert emulator.rest("PUT", _version_url(emulator, name, "5"), BODY).status_code == 201
    container = emulator.rest("GET", url).json()
    assert container["properties"]["latestVersion"] == "5"
    assert container["properties"]["nextVersion"] == "6"
    assert container["properties"]["tags"] == {"k": "v"}


def test_list_view_type_accepts_the_registry_client_spelling(emulator, name):
    assert emulator.rest("PUT", _version_url(emulator, name), BODY).status_code == 201
    url = f"{emulator.workspace_prefix}/models"
    listed = emulator.rest("GET", url, params={"listViewType": "ListViewType.ACTIVE_ONLY"})
    assert listed.status_code == 200
    bad = emulator.rest("GET", url, params={"listViewType": "Everything"})
    assert bad.status_code == 400


def test_unknown_datastore_is_not_found(emulator):
    response = emulator.rest("GET", f"{emulator.workspace_prefix}/datastores/nope", api_version="2024-10-01-preview")
    assert response.status_code == 404


def test_cloud_metadata_document_names_the_emulator(emulator):
    response = emulator.session.get(
        f"{emulator.info['endpoint']}/metadata/endpoints", params={"api-version": "2019-05-01"},
        verify=emulator.info["ca_bundle"],
    )
    cloud = response.json()[0]
    assert cloud["resourceManager"] == emulator.info["endpoint"] + "/"
    assert cloud["suffixes"]["storage"] == emulator.info["cloud_metadata"]["storage_endpoint"]


def test_skip_then_top_pages_like_odata(emulator, name):
    for v in range(1, 6):
        assert emulator.rest("PUT", _version_url(emulator, name, str(v)), BODY).status_code == 201
    url = f"{emulator.workspace_prefix}/models/{name}/versions"
    window = emulator.rest("GET", url, params={"$skip": "2", "$top": "2", "$orderBy": "createdtime asc"}).json()
    assert [v["name"] for v in window["value"]] == ["3", "4"]
    assert window["nextLink"] is None


def test_responses_carry_arm_request_ids(emulator, name):
    response = emulator.rest("GET", _version_url(emulator, name), headers={"x-ms-correlation-request-id": "corr-1"})
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert response.headers["x-ms-request-id"]
