"""Demo models for a fresh sandbox (``mrg sandbox --seed``): something to search, compare and migrate.

Each registry gets the same small model — two versions with a real artifact, metrics, lineage
and a card, v2 approved and aliased ``champion`` — written through the adapters, so what a
newcomer sees is exactly what the gateway stores on each backend.
"""

from __future__ import annotations

import contextlib

from adapters.base import ArtifactUpload
from gateway.core import Gateway
from mapping.errors import AlreadyExists, RegistryError
from mapping.schema import Approval, ApprovalStatus, DatasetRef, Lineage, SourceRun, Stage, VersionSpec

DEMO = "demo-fraud-scorer"


def demo_name(gw: Gateway, registry: str) -> str:
    namespace = gw.adapter(registry).capabilities().default_namespace
    return f"{namespace}/{DEMO}" if namespace else DEMO


def seed(gw: Gateway) -> dict[str, str]:
    """Seed every registry; returns registry -> what happened (a failure never stops the others)."""
    outcome: dict[str, str] = {}
    for registry in gw.registry_names():
        try:
            outcome[registry] = _seed_one(gw, registry)
        except RegistryError as exc:
            outcome[registry] = f"not seeded: {exc.kind.value}: {exc.message}"
    return outcome


def _seed_one(gw: Gateway, registry: str) -> str:
    adapter = gw.adapter(registry)
    name = demo_name(gw, registry)
    try:
        adapter.create_model(name, description="Demo: gradient-boosted fraud scorer", tags={"team": "risk", "demo": "yes"})
    except AlreadyExists:
        return f"{name} already there"
    versions = []
    for index in (1, 2):
        spec = VersionSpec(
            description=f"demo build {index}", tags={"build": str(index)},
            stage=Stage.PRODUCTION if index == 2 else Stage.STAGING,
            metrics={"auc": 0.9 + index / 100}, params={"max_depth": str(4 + index)},
            lineage=Lineage(source_run=SourceRun(system="demo", id=f"train-{index}"),
                            datasets=[DatasetRef(uri="s3://demo/fraud/train.parquet", digest="5eed", name="train")]),
            model_card=f"# Demo fraud scorer v{index}\n",
        )
        weights = (f"demo weights {index}\n" * 1024).encode()
        versions.append(adapter.create_version(name, spec, [ArtifactUpload.from_bytes("model/weights.bin", weights)]))
    adapter.set_approval(name, versions[1].version, Approval(status=ApprovalStatus.APPROVED, by="sandbox",
                                                             comment="seeded demo approval"))
    with contextlib.suppress(RegistryError):  # a registry without aliases still gets its versions
        adapter.set_alias(name, "champion", versions[1].version)
    return f"{name}: versions {', '.join(v.version for v in versions)}"
