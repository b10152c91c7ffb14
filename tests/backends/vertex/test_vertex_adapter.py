"""The Vertex adapter against the emulator, checked from the Vertex side with the official SDKs."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AlreadyExists, ArtifactUpload, InvalidInput, NotFound
from adapters.vertex import VertexAdapter, VertexSettings
from emulators import launcher
from mapping.schema import DatasetRef, Lineage, SourceRun, VersionPatch, VersionSpec

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def adapter(vertex_emulator: launcher.RunningEmulator) -> Iterator[VertexAdapter]:
    settings = VertexSettings.from_emulator(vertex_emulator.info, bucket="mrg-adapter-tests")
    adp = VertexAdapter("vertex-test", settings.model_dump())
    yield adp
    adp.close()


def _label_rules_hold(labels: dict[str, str]) -> bool:
    from emulators.vertex.validation import validate_labels

    validate_labels(labels)
    return True


def test_alias_moved_through_adapter_is_seen_by_the_vertex_sdk(
    adapter: VertexAdapter, highlevel: Any, uid: str
) -> None:
    adapter.create_model(uid, description="fraud scorer")
    v1 = adapter.create_version(uid, VersionSpec(description="one"))
    v2 = adapter.create_version(uid, VersionSpec(description="two"))
    adapter.set_alias(uid, "prod", v1.version)
    assert highlevel.Model(f"{uid}@prod").version_id == v1.version
    adapter.set_alias(uid, "prod", v2.version)
    assert highlevel.Model(f"{uid}@prod").version_id == v2.version
    assert adapter.get_model(uid).aliases == {"prod": v2.version}
    adapter.delete_alias(uid, "prod")
    from google.api_core.exceptions import NotFound as GNotFound

    with pytest.raises(GNotFound):
        highlevel.Model(f"{uid}@prod")


def test_tag_outside_label_charset_survives_byte_for_byte(adapter: VertexAdapter, model_client: Any, uid: str) -> None:
    tags = {"Team": "Fraud Detection/EU", "team": "risk", "Ümlaut key ✓": "x" * 200}
    adapter.create_model(uid, tags=tags)
    version = adapter.create_version(uid, VersionSpec(tags=tags))
    assert adapter.get_model(uid).tags == tags
    assert adapter.get_version(uid, version.version).tags == tags
    assert adapter.list_versions(uid).items[0].tags == tags
    # What Vertex stores is valid Vertex labels; the plain label-safe tag is mirrored natively.
    native = model_client.get_model(name=f"{adapter.parent}/models/{uid}@{version.version}")
    assert _label_rules_hold(dict(native.labels))
    assert native.labels["team"] == "risk"
    assert "Team" not in native.labels


def test_envelope_overflow_goes_to_the_gcs_sidecar(adapter: VertexAdapter, uid: str) -> None:
    card = "# Card\n" + "details " * 2000  # far beyond what 48 labels can carry
    adapter.create_model(uid)
    version = adapter.create_version(uid, VersionSpec(model_card=card, metrics={"auc": 0.9}))
    sidecar = adapter._bucket().get_blob(f"mrg/{uid}/versions/{version.version}/mrg.json")
    assert sidecar is not None and b"mrg.card" in sidecar.download_as_bytes()
    got = adapter.get_version(uid, version.version)
    assert got.model_card == card and got.metrics == {"auc": 0.9}
    adapter.update_version(uid, version.version, VersionPatch(model_card="short"))
    assert adapter.get_version(uid, version.version).model_card == "short"
    assert adapter._bucket().get_blob(f"mrg/{uid}/versions/{version.version}/mrg.json") is None


def test_lineage_is_native_ml_metadata(adapter: VertexAdapter, metadata_client: Any, uid: str) -> None:
    lineage = Lineage(
        source_run=SourceRun(system="vertex", id=f"{uid}-job", uri="projects/p/locations/l/customJobs/1"),
        datasets=[DatasetRef(uri=f"gs://data/{uid}/train.csv", digest="abc123", name="train")],
    )
    adapter.create_model(uid)
    version = adapter.create_version(uid, VersionSpec(lineage=lineage))
    assert adapter.get_lineage(uid, version.version) == lineage
    from mapping.vertex import metadata_id

    artifact = f"{adapter.store}/artifacts/{metadata_id('model', adapter._resource(uid, version.version))}"
    graph = metadata_client.query_artifact_lineage_subgraph(artifact=artifact)
    assert {a.schema_title for a in graph.artifacts} == {"system.Model", "system.Dataset"}
    assert [e.metadata["id"] for e in graph.executions] == [f"{uid}-job"]
    assert sorted(e.type_.name for e in graph.events) == ["INPUT", "OUTPUT"]


def test_artifacts_stream_with_gcs_and_sha256_checksums(adapter: VertexAdapter, uid: str) -> None:
    data = bytes(range(256)) * 5000
    adapter.create_model(uid)
    upload = ArtifactUpload(
        path="weights/model.bin", chunks=[data[i : i + 100_000] for i in range(0, len(data), 100_000)]
    )
    version = adapter.create_version(uid, VersionSpec(), [upload])
    files = adapter.list_artifacts(uid, version.version)
    assert [(f.path, f.size, f.sha256) for f in files] == [
        ("weights/model.bin", len(data), hashlib.sha256(data).hexdigest())
    ]
    bucket, _, prefix = version.artifact.uri.removeprefix("gs://").partition("/")
    blob = adapter.gcs.bucket(bucket).get_blob(prefix + "weights/model.bin")
    assert base64.b64decode(blob.md5_hash) == hashlib.md5(data).digest()  # GCS's own checksum agrees
    assert b"".join(adapter.read_artifact(uid, version.version, "weights/model.bin", chunk_size=300_000)) == data


def test_errors_map_to_the_taxonomy(adapter: VertexAdapter, uid: str) -> None:
    with pytest.raises(NotFound):
        adapter.get_model(uid)
    adapter.create_model(uid)
    with pytest.raises(AlreadyExists):
        adapter.create_model(uid)
    with pytest.raises(InvalidInput):
        adapter.create_model("Bad Name")
    with pytest.raises(InvalidInput):
        adapter.delete_alias(uid, "default")
    version = adapter.create_version(uid, VersionSpec())
    with pytest.raises(NotFound):
        adapter.set_alias(uid, "prod", "99")
    with pytest.raises(NotFound):
        adapter.get_version(uid, "1")  # the hidden placeholder is not a version
    assert adapter.get_version(uid, version.version).version == version.version


def test_deleting_the_last_version_keeps_the_model(adapter: VertexAdapter, model_client: Any, uid: str) -> None:
    adapter.create_model(uid)
    only = adapter.create_version(uid, VersionSpec())
    adapter.delete_version(uid, only.version)
    assert adapter.list_versions(uid).items == []
    model = adapter.get_model(uid)
    assert model.latest_version is None
    # Vertex still has its default version: the adapter's placeholder
    assert model_client.get_model(name=f"{adapter.parent}/models/{uid}").version_id != only.version


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = "import sys, adapters.vertex, mapping.vertex; print('google.cloud.aiplatform_v1' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_streamed_reads_fail_when_bytes_do_not_match_gcs_crc32c() -> None:
    import io

    from adapters.vertex import _stream_blob
    from mapping.errors import Unavailable

    class _Object:
        """Stands in for a GCS object whose stored crc32c disagrees with its bytes."""

        name = "weights.bin"
        crc32c = "AAAAAA=="

        def open(self, mode: str, chunk_size: int) -> io.BytesIO:
            return io.BytesIO(b"bytes that were altered in transit")

    stream = _stream_blob(_Object(), 8)
    with pytest.raises(Unavailable):
        list(stream)
