"""The standard release scenario, run through the gateway's REST API on one registry.

Register versions with artifacts, metrics, lineage and a card; tag and describe; request an
approval and approve it with a second identity (four-eyes); promote v2 to production; register
and promote v3; roll back to v2; trace lineage; search; migrate v2 to another registry and
verify. Every step says how the registry did it — natively, through the envelope or sidecar,
emulated by the gateway, or not at all — and nothing unsupported passes silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Capabilities
from gateway.client import MrgClient
from mapping.compare import field_value
from mapping.errors import PermissionDenied, RegistryError
from mapping.fidelity import VERSION_FIELDS, Placement
from mapping.schema import (
    ApprovalStatus,
    CodeRef,
    DatasetRef,
    Lineage,
    ParentRef,
    SourceRun,
    Stage,
    VersionSpec,
)

ALIAS = "production"
ARTIFACT = bytes(range(256)) * 256  # 64 KiB, several chunks on every backend
STEPS = (
    "register", "tag_and_describe", "approve_v2", "promote_v2", "register_promote_v3", "rollback_to_v2",
    "lineage", "search", "migrate_v2",
)
READBACK_FIELDS = [f for f in VERSION_FIELDS if f not in ("aliases", "artifact.files", "artifact.sha256")]


@dataclass
class Identities:
    """Three callers: the one who registers and asks, the one who approves, the release manager."""

    requester: MrgClient
    approver: MrgClient
    admin: MrgClient


@dataclass
class StepResult:
    step: str
    ok: bool | None  # None: not attempted (e.g. migration with a single registry)
    mode: str  # native | envelope | sidecar | emulated | unsupported | n/a
    latency_ms: float
    detail: str | None = None


@dataclass
class RunResult:
    registry: str
    steps: list[StepResult] = field(default_factory=list)
    fidelity: dict[str, bool | None] = field(default_factory=dict)  # None: the registry cannot carry it
    four_eyes_enforced: bool | None = None


def placement(caps: Capabilities, name: str) -> str:
    return caps.fidelity.get(name, Placement.UNSUPPORTED).value


def pointer_mode(caps: Capabilities) -> str:
    if not caps.aliases:
        return "unsupported"
    return "native" if caps.aliases_native else "envelope"


def spec_for(index: int, parent_uri: str | None) -> VersionSpec:
    return VersionSpec(
        description=f"pilot candidate {index}",
        tags={"pilot": "standard", "candidate": str(index)},
        metrics={"auc": 0.90 + index / 100, "latency_ms": 10.0 + index},
        params={"max_depth": str(4 + index)},
        lineage=Lineage(
            source_run=SourceRun(system="pilot", id=f"train-{index}", uri=f"https://ci.example.com/runs/train-{index}"),
            datasets=[DatasetRef(uri="s3://pilot-data/train.parquet", digest="d1f2a3", name="train")],
            parents=[ParentRef(uri=parent_uri, relation="fine-tune")] if parent_uri else [],
            code=CodeRef(repo="https://git.example.com/ml/pilot.git", commit=f"c0ffee{index}"),
        ),
        model_card=f"# Pilot model v{index}\n\nTrained for the comparison pilot.\n",
        created_by="pilot-requester",
    )


class Scenario:
    """One run of the standard scenario on ``registry`` under a fresh model name."""

    def __init__(self, who: Identities, registry: str, caps: Capabilities, model: str,
                 migrate_to: tuple[str, Capabilities] | None) -> None:
        self.who = who
        self.registry = registry
        self.caps = caps
        self.model = model
        self.migrate_to = migrate_to
        self.versions: list[str] = []
        self.cleanup: list[tuple[str, str]] = [(registry, model)]
        self.result = RunResult(registry=registry)

    # -- the runner ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        try:
            for name in STEPS:
                self._step(name, getattr(self, f"_{name}"))
        finally:
            for registry, model in self.cleanup:
                # Already gone, or the registry cannot delete (its capabilities say so): not a failure.
                with contextlib.suppress(RegistryError):
                    self.who.admin.delete_model(registry, model)
        return self.result

    def _step(self, name: str, fn: Callable[[], tuple[str, str | None]]) -> None:
        started = time.perf_counter()
        try:
            mode, detail = fn()
            ok: bool | None = mode != "unsupported" if mode != "n/a" else None
        except (RegistryError, AssertionError) as exc:
            mode, detail, ok = "failed", f"{type(exc).__name__}: {exc}", False
        latency = (time.perf_counter() - started) * 1000
        self.result.steps.append(StepResult(step=name, ok=ok, mode=mode, latency_ms=round(latency, 2), detail=detail))

    # -- steps -----------------------------------------------------------------------------------
    def _register(self) -> tuple[str, str | None]:
        self.who.requester.create_model(self.registry, self.model, description="comparison pilot")
        for index in (1, 2):
            parent = self._uri(self.versions[-1]) if self.versions else None
            created = self.who.requester.create_version(self.registry, self.model, spec_for(index, parent),
                                                        files={"model/weights.bin": ARTIFACT})
            self.versions.append(created.version)
        self._read_back(self.versions[1], spec_for(2, self._uri(self.versions[0])))
        return placement(self.caps, "artifact.files"), f"versions {', '.join(self.versions)}"

    def _read_back(self, version: str, spec: VersionSpec) -> None:
        got = self.who.requester.get_version(self.registry, self.model, version)
        for name in READBACK_FIELDS:
            if placement(self.caps, name) == "unsupported":
                self.result.fidelity[name] = None
            else:
                self.result.fidelity[name] = field_value(spec, name) == field_value(got, name)
        files = {f.path: f.sha256 for f in self.who.requester.list_artifacts(self.registry, self.model, version)}
        self.result.fidelity["artifact.sha256"] = files.get("model/weights.bin") == hashlib.sha256(ARTIFACT).hexdigest()

    def _tag_and_describe(self) -> tuple[str, str | None]:
        client = self.who.requester
        client.update_model(self.registry, self.model, description="comparison pilot: fraud scorer",
                            tags={"team": "risk", "pilot": "standard"})
        client.update_version(self.registry, self.model, self.versions[1],
                              {"description": "candidate for production", "tags": {"reviewed": "yes"}})
        got = client.get_version(self.registry, self.model, self.versions[1])
        assert got.description == "candidate for production" and got.tags.get("reviewed") == "yes", "tags not read back"
        return placement(self.caps, "tags"), None

    def _approve_v2(self) -> tuple[str, str | None]:
        v2 = self.versions[1]
        request = self.who.requester.request_approval(self.registry, self.model, v2,
                                                      "ready for production: drift and bias reports attached")
        try:
            self.who.requester.approve(request.id, "approving my own work")
            self.result.four_eyes_enforced = False
        except PermissionDenied:
            self.result.four_eyes_enforced = True
        self.who.approver.approve(request.id, "reviewed: metrics and card OK")
        got = self.who.requester.get_version(self.registry, self.model, v2)
        assert got.approval.status == ApprovalStatus.APPROVED, f"approval reads back as {got.approval.status}"
        mode = "native" if self.caps.approval_native else placement(self.caps, "approval")
        return mode, "four-eyes enforced" if self.result.four_eyes_enforced else "four-eyes NOT enforced"

    def _promote(self, version: str) -> None:
        self.who.admin.promote(self.registry, self.model, version, alias=ALIAS)
        holder = self.who.requester.get_model(self.registry, self.model).aliases.get(ALIAS)
        assert holder == version, f"{ALIAS} points at {holder}, expected {version}"

    def _promote_v2(self) -> tuple[str, str | None]:
        if not self.caps.aliases:
            return "unsupported", "the registry has no aliases"
        self._promote(self.versions[1])
        self.who.admin.promote(self.registry, self.model, self.versions[1], stage=Stage.PRODUCTION)
        got = self.who.requester.get_version(self.registry, self.model, self.versions[1])
        assert got.stage == Stage.PRODUCTION, f"stage reads back as {got.stage}"
        return pointer_mode(self.caps), "alias and stage"

    def _register_promote_v3(self) -> tuple[str, str | None]:
        created = self.who.requester.create_version(self.registry, self.model, spec_for(3, self._uri(self.versions[1])),
                                                    files={"model/weights.bin": ARTIFACT})
        self.versions.append(created.version)
        if not self.caps.aliases:
            return "unsupported", "registered; the registry has no aliases to promote"
        self._promote(created.version)
        return pointer_mode(self.caps), f"v3 = {created.version}"

    def _rollback_to_v2(self) -> tuple[str, str | None]:
        if not self.caps.aliases:
            return "unsupported", "the registry has no aliases"
        moved = self.who.admin.rollback(self.registry, self.model, alias=ALIAS)
        assert moved.version == self.versions[1], f"rollback reports {moved.version}"
        holder = self.who.requester.get_model(self.registry, self.model).aliases.get(ALIAS)
        assert holder == self.versions[1], f"after rollback {ALIAS} points at {holder}, expected {self.versions[1]}"
        return "emulated", "the gateway's pointer history restores the previous holder"

    def _lineage(self) -> tuple[str, str | None]:
        graph = self.who.requester.lineage(self.registry, self.model, self.versions[2], depth=3, direction="up")
        text = graph.model_dump_json()
        assert self._uri(self.versions[1]) in text and self._uri(self.versions[0]) in text, "parents missing from lineage"
        assert "pilot-data/train.parquet" in text, "dataset missing from lineage"
        return placement(self.caps, "lineage.parents"), f"{len(graph.nodes)} nodes"

    def _search(self) -> tuple[str, str | None]:
        page = self.who.requester.search_models(q=self.model.rsplit("/", 1)[-1], registries=[self.registry])
        names = [m.name for m in page.items]
        assert self.model in names, f"search did not find {self.model}"
        pushed = "name_prefix" in self.caps.search_filters
        return ("native" if pushed else "emulated"), None

    def _migrate_v2(self) -> tuple[str, str | None]:
        if self.migrate_to is None:
            return "n/a", "needs a second registry"
        target, target_caps = self.migrate_to
        name = self.model.rsplit("/", 1)[-1] + "-copy"
        if target_caps.default_namespace:
            name = f"{target_caps.default_namespace}/{name}"
        status = self.who.admin.start_migration(f"{self.registry}/{self.model}", target, versions=self.versions[1],
                                                rename=name)
        self.cleanup.append((target, name))
        final = self.who.admin.wait_migration(status.job_id, timeout=600, poll=0.2)
        assert final.state == "succeeded", f"migration {final.state}: {final.report}"
        verified = self.who.admin.verify_migration(status.job_id)
        assert verified["ok"], f"verify found {verified['failed']} problems"
        return "emulated", f"to {target}: verified"

    def _uri(self, version: str) -> str:
        return f"mrg://{self.registry}/{self.model}/versions/{version}"


def summary_caps(caps: Capabilities) -> dict[str, Any]:
    return {"aliases": pointer_mode(caps), "approval": "native" if caps.approval_native else placement(caps, "approval"),
            "stage": "native" if caps.stage_native else placement(caps, "stage"),
            "version_ids": "caller" if caps.version_id_assignable else "registry"}
