"""Specimen inputs shared by the conformance tests: every common field filled in."""

from __future__ import annotations

import hashlib

from adapters.base import ArtifactUpload
from mapping.schema import (
    Approval,
    ApprovalStatus,
    CodeRef,
    DatasetRef,
    Lineage,
    MigratedFrom,
    ParentRef,
    SourceRun,
    Stage,
    VersionSpec,
)

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB, several chunks when streamed
CONFIG = b'{"threshold": 0.42}'


def full_spec(**overrides: object) -> VersionSpec:
    spec = VersionSpec(
        description="gradient-boosted fraud scorer",
        tags={"team": "risk", "Team Name": "Fraud Detection/EU", "owner": "alice@example.com"},
        stage=Stage.STAGING,
        approval=Approval(status=ApprovalStatus.PENDING, by="alice", comment="please review the drift report"),
        metrics={"auc": 0.931, "f1": 0.77, "latency_ms": 12.5},
        params={"max_depth": "6", "learning_rate": "0.05"},
        lineage=Lineage(
            source_run=SourceRun(system="sagemaker", id="train-job-42", uri="arn:aws:sagemaker:us-east-1:1:training-job/train-job-42"),
            datasets=[DatasetRef(uri="s3://data/fraud/train.parquet", digest="9f2c1ab0", name="fraud-train")],
            parents=[ParentRef(uri="mrg://hub/base-models/xgb/versions/3", relation="fine-tune")],
            code=CodeRef(repo="https://git.example.com/risk/fraud.git", commit="4e1d2c3"),
            migrated_from=MigratedFrom(uri="mrg://old/fraud/versions/7", digest="sha256:abc"),
        ),
        model_card="# Fraud scorer\n\nTrained on 2026-Q3 data. Known limits: EU only.\n",
        created_by="alice",
    )
    return spec.model_copy(update=overrides)


def uploads() -> list[ArtifactUpload]:
    return [
        ArtifactUpload(path="model.bin", chunks=[WEIGHTS[i : i + 65536] for i in range(0, len(WEIGHTS), 65536)],
                       size=len(WEIGHTS), sha256=hashlib.sha256(WEIGHTS).hexdigest()),
        ArtifactUpload.from_bytes("config/settings.json", CONFIG),
    ]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
