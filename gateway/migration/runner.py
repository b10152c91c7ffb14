"""Running a migration: exactly once, in source order, streamed, resumable, reported.

Per model, versions are staged in parallel (artifacts streamed source -> target in chunks,
sha256 checked on the fly against the source's digest) and committed one by one in source
order, so a target that assigns ids numbers them as the source did. Each copy carries its
provenance (``lineage.migrated_from``: source URI + digest) written with the version itself;
a re-run or ``resume`` finds what exists by that marker and creates nothing twice. Aliases are
moved once their versions exist; parents copied in the same job are re-pointed to the copies.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from adapters.base import ArtifactUpload, Capabilities, RegistryAdapter, StagedVersion
from gateway.core import Gateway, Mutation
from gateway.migration import journal as J
from gateway.migration.plan import (
    MigrationPlan,
    PlannedModel,
    PlannedVersion,
    VersionSelector,
    field_plans,
    matches_glob,
    parse_endpoint,
    target_name,
    version_digest,
)
from mapping.errors import AlreadyExists, InvalidInput, NotFound, RegistryError
from mapping.schema import (
    MigratedFrom,
    ModelQuery,
    ModelVersion,
    MrgUri,
    RegistryKind,
    VersionPatch,
    VersionSpec,
)

Event = dict[str, Any]
PLACEHOLDER = "mrg: placeholder that keeps version numbers aligned with the source; deleted"


@dataclass
class _Context:
    job_id: str
    source: str
    target: str
    src: RegistryAdapter
    dst: RegistryAdapter
    src_caps: Capabilities
    dst_caps: Capabilities
    preserve_numbers: bool
    uri_map: dict[str, str]
    lock: threading.Lock
    warnings: list[str]
    # Items created in this run from a source version without parents: nothing to re-point, so
    # ``_repoint_parents`` need not read them back (three calls per version on MLflow).
    parentless: set[int] = field(default_factory=set)
    # The job copies every version of its models: list each model's versions once instead of
    # reading them one by one (one page of calls, not three calls per version on MLflow).
    list_sources: bool = False


class Migrator:
    def __init__(self, gw: Gateway, *, workers: int = 4, on_event: Callable[[Event], None] | None = None) -> None:
        if workers < 1:
            raise InvalidInput("workers: must be at least 1", field="workers")
        self.gw = gw
        self.workers = workers
        self.on_event = on_event or (lambda event: None)
        self.journal = J.Journal(gw.store)

    # -- plan ---------------------------------------------------------------------------------
    def plan(self, source: str, target: str, *, versions: str = "all", rename: str | None = None) -> MigrationPlan:
        src_name, glob = parse_endpoint(source)
        selector = VersionSelector.parse(versions)
        src, dst = self.gw.adapter(src_name), self.gw.adapter(target)
        if src_name == target and not rename:
            raise InvalidInput("rename: copying a registry onto itself needs --rename", field="rename")
        src_caps, dst_caps = src.capabilities(), dst.capabilities()
        prefix = glob.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0] or None
        models = [m for m in self.gw.call(src_name, lambda a: list(a.iter_models(ModelQuery(name_prefix=prefix))))
                  if matches_glob(m.name, glob)]
        planned: list[PlannedModel] = []
        seen_targets: dict[str, str] = {}
        for model in sorted(models, key=lambda m: m.name):
            tname = target_name(model.name, rename, dst_caps.kind, dst_caps.default_namespace)
            if tname in seen_targets:
                raise InvalidInput(f"rename: {model.name!r} and {seen_targets[tname]!r} would both become {tname!r}",
                                   field="rename")
            seen_targets[tname] = model.name
            chosen = selector.select(self.gw.call(src_name, lambda a, n=model.name: list(a.iter_versions(n))))
            by_version: dict[str, list[str]] = {}
            for alias, version in model.aliases.items():
                by_version.setdefault(version, []).append(alias)
            planned.append(PlannedModel(source=model.name, target=tname, versions=[
                PlannedVersion(
                    source_version=v.version, ordinal=v.ordinal,
                    target_version=v.version if dst_caps.version_id_assignable else None,
                    aliases=sorted(by_version.get(v.version, [])), stage=v.stage.value, approval=v.approval.status.value,
                ) for v in chosen
            ]))
        fields = field_plans(src_caps, dst_caps)
        warnings = [f"{f.field}: not carried ({f.note})" for f in fields if not f.carried and f.source.value != "unsupported"]
        if not dst_caps.version_id_assignable:
            warnings.append(f"version ids: {dst_caps.kind.value} assigns them; source order is kept and the mapping recorded")
        return MigrationPlan(source=source, target=target, source_kind=src_caps.kind.value, target_kind=dst_caps.kind.value,
                             selector=selector.raw, models=planned, fields=fields, warnings=warnings)

    def create_job(self, plan: MigrationPlan, *, actor: str, job_id: str | None = None,
                   preserve_numbers: bool = False) -> str:
        job_id = job_id or uuid.uuid4().hex[:16]
        items = [
            {"source_model": m.source, "source_version": v.source_version, "ordinal": v.ordinal,
             "target_model": m.target, "target_version": None}
            for m in plan.models for v in m.versions
        ]
        src_name, _ = parse_endpoint(plan.source)
        self.journal.create_job(job_id, source=src_name, target=plan.target, actor=actor, items=items,
                                options={"plan_source": plan.source, "selector": plan.selector,
                                         "preserve_numbers": preserve_numbers})
        return job_id

    # -- run ------------------------------------------------------------------------------------
    def run(self, job_id: str) -> dict[str, Any]:
        """Run (or resume) a job until every item is created or has failed; return the report."""
        job = self.journal.job(job_id)
        items = self.journal.items(job_id)
        src, dst = self.gw.adapter(job.source), self.gw.adapter(job.target)
        ctx = _Context(
            job_id=job_id, source=job.source, target=job.target,
            src=src, dst=dst, src_caps=src.capabilities(), dst_caps=dst.capabilities(),
            preserve_numbers=bool(job.options.get("preserve_numbers")),
            uri_map={}, lock=threading.Lock(), warnings=[],
            list_sources=str(job.options.get("selector", "all")).strip().lower() in ("", "all"),
        )
        for item in items:
            if item.state == J.CREATED and item.target_version:
                ctx.uri_map[_uri(job.source, item.source_model, item.source_version)] = _uri(
                    job.target, item.target_model, item.target_version)
        self.journal.set_job(job_id, state=J.RUNNING)
        self.on_event({"event": "job", "job_id": job_id, "state": J.RUNNING, "items": len(items),
                       "done": sum(1 for i in items if i.state == J.CREATED)})
        groups: dict[str, list[Any]] = {}
        for item in items:
            groups.setdefault(item.source_model, []).append(item)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="mrg-stage") as stage_pool, \
                ThreadPoolExecutor(self.workers, thread_name_prefix="mrg-model") as model_pool:
            futures = [model_pool.submit(self._run_model, ctx, group, stage_pool) for group in groups.values()]
            for future in futures:
                future.result()
        self._repoint_parents(ctx)
        return self._finish(ctx)

    def _run_model(self, ctx: _Context, items: list[Any], stage_pool: ThreadPoolExecutor) -> None:
        first = items[0]
        try:
            self._ensure_target_model(ctx, first.source_model, first.target_model)
            existing = self._existing_copies(ctx, first.target_model)
        except RegistryError as exc:
            for item in items:
                if item.state != J.CREATED:
                    self._fail(ctx, item, exc)
            return
        listed = self._list_source(ctx, first.source_model, items)
        highest = max((int(v) for v in existing.values() if v.isdigit()), default=0)
        window: deque[tuple[Any, Future[_Staged]]] = deque()
        pending = iter([i for i in items if i.state != J.CREATED])
        stopped = False

        def refill() -> None:
            while len(window) < self.workers:
                item = next(pending, None)
                if item is None:
                    return
                window.append((item, stage_pool.submit(self._stage, ctx, item, existing, listed)))

        refill()
        while window:
            item, future = window.popleft()
            if stopped:
                leftover = _quiet_result(future)
                if leftover is not None and leftover.staged is not None:
                    ctx.dst.discard_staged(leftover.staged)
                continue
            try:
                result = future.result()
                src_v, staged, found = result.source, result.staged, result.found
                if found is not None:
                    target_version = found
                    self.on_event({"event": "item", "seq": item.seq, "state": "exists", "model": item.source_model,
                                   "version": item.source_version, "target_version": found})
                else:
                    assert staged is not None
                    if ctx.preserve_numbers:
                        highest = self._pad_numbers(ctx, item, highest)
                    created = self.gw.call(ctx.target, lambda a, s=staged: a.commit_version(s))
                    target_version = created.version
                    if target_version.isdigit():
                        highest = max(highest, int(target_version))
                    if ctx.preserve_numbers and target_version != item.source_version:
                        with ctx.lock:
                            ctx.warnings.append(f"{item.source_model} v{item.source_version}: became "
                                                f"v{target_version} (the target had used that number before)")
                # One journal write per item: the digest and byte count are reported, not needed to
                # resume (the provenance marker on the copy is what a re-run finds).
                self.journal.set_item(ctx.job_id, item.seq, state=J.CREATED, target_version=target_version,
                                      error=None, attempts=item.attempts + 1, source_digest=result.digest,
                                      bytes_copied=result.bytes_copied)
                with ctx.lock:
                    ctx.uri_map[_uri(ctx.source, item.source_model, item.source_version)] = _uri(
                        ctx.target, item.target_model, target_version)
                    if found is None and not src_v.lineage.parents:
                        ctx.parentless.add(item.seq)
                if found is None:
                    self.on_event({"event": "item", "seq": item.seq, "state": J.CREATED, "model": item.source_model,
                                   "version": item.source_version, "target_version": target_version})
            except RegistryError as exc:
                self._fail(ctx, item, exc)
                stopped = True  # later versions wait: creating them now would break source order
                continue
            refill()
        if not stopped:
            self._apply_aliases(ctx, first.source_model, first.target_model)

    def _list_source(self, ctx: _Context, model: str, items: list[Any]) -> dict[str, ModelVersion]:
        """The model's source versions by id, when the job copies all of them and more than one is
        left; otherwise (or if listing fails) empty, and ``_stage`` reads each version itself."""
        if not ctx.list_sources or sum(1 for i in items if i.state != J.CREATED) < 2:
            return {}
        try:
            return {v.version: v for v in self.gw.call(ctx.source, lambda a: list(a.iter_versions(model)))}
        except RegistryError:
            return {}  # only an optimisation: the per-version reads report real errors per item

    def _stage(self, ctx: _Context, item: Any, existing: dict[str, str],
               listed: dict[str, ModelVersion] | None = None) -> _Staged:
        """Read the source version; return it with a staged copy, or with the copy that already exists."""
        src_v = (listed or {}).get(item.source_version) or self.gw.call(
            ctx.source, lambda a: a.get_version(item.source_model, item.source_version))
        found = existing.get(_uri(ctx.source, item.source_model, item.source_version))
        if found is not None:
            return _Staged(src_v, None, found)
        source_files = ctx.src.version_files(src_v)
        # A source that keeps no checksums (MLflow) would be read twice to know its digest before
        # the copy; a target that writes the metadata after the bytes (``staged_uploads``) takes
        # the digest computed while they flow, so each byte is read once.
        late_digest = not ctx.src_caps.checksums and ctx.dst_caps.staged_uploads
        files = self.gw.call(ctx.source, lambda a: source_files.list(digests=not late_digest))
        digest = None if late_digest else version_digest(files)
        self.on_event({"event": "bytes_total", "n": sum(f.size or 0 for f in files)})
        copied = [0]

        def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
            for chunk in chunks:
                copied[0] += len(chunk)
                self.on_event({"event": "bytes", "n": len(chunk)})
                yield chunk

        def stage(dst: RegistryAdapter) -> StagedVersion:
            # Built inside the retried call: a retry re-opens the source streams from the start.
            copied[0] = 0
            uploads = [ArtifactUpload(path=f.path, size=f.size, sha256=f.sha256, chunks=counted(source_files.read(f.path)))
                       for f in files]
            return dst.stage_version(item.target_model, self._spec(ctx, item, src_v, digest), uploads)

        staged = self.gw.call(ctx.target, stage)
        if late_digest:
            if staged.stored is None:  # an adapter declaring staged_uploads must report what it stored
                ctx.dst.discard_staged(staged)
                raise InvalidInput(f"{ctx.target}: stage_version reported no stored files", registry=ctx.target)
            digest = version_digest(staged.stored)
            marker = staged.spec.lineage.migrated_from
            assert marker is not None
            marker.digest = digest
        return _Staged(src_v, staged, None, digest, copied[0])

    def _spec(self, ctx: _Context, item: Any, src_v: ModelVersion, digest: str | None) -> VersionSpec:
        lineage = src_v.lineage.model_copy(deep=True)
        with ctx.lock:
            for parent in lineage.parents:
                parent.uri = ctx.uri_map.get(parent.uri, parent.uri)
        lineage.migrated_from = MigratedFrom(uri=_uri(ctx.source, item.source_model, item.source_version), digest=digest)
        assignable = ctx.dst_caps.version_id_assignable
        return VersionSpec(
            version=src_v.version if assignable else None,
            description=src_v.description, tags=dict(src_v.tags), stage=src_v.stage, approval=src_v.approval,
            metrics=dict(src_v.metrics), params=dict(src_v.params), lineage=lineage, model_card=src_v.model_card,
            format=src_v.artifact.format, framework=src_v.artifact.framework, created_by=src_v.created_by,
        )

    def _ensure_target_model(self, ctx: _Context, source_model: str, target_model: str) -> None:
        try:
            self.gw.call(ctx.target, lambda a: a.get_model(target_model))
            return
        except NotFound:
            pass
        src_model = self.gw.call(ctx.source, lambda a: a.get_model(source_model))
        with contextlib.suppress(AlreadyExists):
            self.gw.call(ctx.target, lambda a: a.create_model(target_model, description=src_model.description,
                                                              tags=src_model.tags))

    def _existing_copies(self, ctx: _Context, target_model: str) -> dict[str, str]:
        """Source URI -> target version, read from the provenance markers on the target."""
        found: dict[str, str] = {}
        for v in self.gw.call(ctx.target, lambda a: list(a.iter_versions(target_model))):
            marker = v.lineage.migrated_from
            if marker is not None and marker.uri not in found:
                found[marker.uri] = v.version
        return found

    def _pad_numbers(self, ctx: _Context, item: Any, highest: int) -> int:
        """MLflow never reuses numbers: burn placeholders so the next version gets the source's number."""
        if not item.source_version.isdigit() or ctx.dst.kind is not RegistryKind.MLFLOW:
            return highest
        wanted = int(item.source_version)
        while highest + 1 < wanted:
            placeholder = self.gw.call(ctx.target, lambda a: a.create_version(item.target_model,
                                                                              VersionSpec(description=PLACEHOLDER)))
            self.gw.call(ctx.target, lambda a, v=placeholder.version: a.delete_version(item.target_model, v))
            highest = int(placeholder.version)
        return highest

    def _apply_aliases(self, ctx: _Context, source_model: str, target_model: str) -> None:
        if not ctx.dst_caps.aliases:
            return
        model = self.gw.call(ctx.source, lambda a: a.get_model(source_model))
        for alias, version in sorted(model.aliases.items()):
            with ctx.lock:
                copy = ctx.uri_map.get(_uri(ctx.source, source_model, version))
            if copy is None:
                continue  # the aliased version is not part of this job
            target_version = MrgUri.parse(copy).version or ""
            try:
                self.gw.call(ctx.target, lambda a, al=alias, tv=target_version: a.set_alias(target_model, al, tv))
            except RegistryError as exc:
                with ctx.lock:
                    ctx.warnings.append(f"{target_model}: alias {alias!r} not set ({exc.message})")

    def _repoint_parents(self, ctx: _Context) -> None:
        """Parents copied later than their children in this job: point the children at the copies now."""
        for item in self.journal.items(ctx.job_id):
            if item.state != J.CREATED or not item.target_version or item.seq in ctx.parentless:
                continue
            copy = self.gw.call(ctx.target, lambda a, i=item: a.get_version(i.target_model, i.target_version))
            parents = copy.lineage.parents
            if any(p.uri in ctx.uri_map for p in parents):
                lineage = copy.lineage.model_copy(deep=True)
                for parent in lineage.parents:
                    parent.uri = ctx.uri_map.get(parent.uri, parent.uri)
                self.gw.call(ctx.target, lambda a, i=item, lin=lineage: a.update_version(
                    i.target_model, i.target_version, VersionPatch(lineage=lin)))

    def _fail(self, ctx: _Context, item: Any, exc: RegistryError) -> None:
        message = f"{exc.kind.value}: {exc}"
        self.journal.set_item(ctx.job_id, item.seq, state=J.FAILED, error=message, attempts=item.attempts + 1)
        self.on_event({"event": "item", "seq": item.seq, "state": J.FAILED, "model": item.source_model,
                       "version": item.source_version, "error": message})

    def _finish(self, ctx: _Context) -> dict[str, Any]:
        items = self.journal.items(ctx.job_id)
        failed = [i for i in items if i.state != J.CREATED]
        state = J.SUCCEEDED if not failed else J.JOB_FAILED
        report = {
            "job_id": ctx.job_id, "state": state, "source": ctx.source, "target": ctx.target,
            "items": len(items), "created": len(items) - len(failed), "failed": len(failed),
            "bytes": sum(i.bytes_copied for i in items),
            "failures": [{"source": _uri(ctx.source, i.source_model, i.source_version), "state": i.state,
                          "error": i.error or "not attempted: an earlier version of the model failed"} for i in failed],
            "version_map": [{"source": _uri(ctx.source, i.source_model, i.source_version),
                             "target": _uri(ctx.target, i.target_model, i.target_version) if i.target_version else None}
                            for i in items],
            "warnings": ctx.warnings,
        }
        self.journal.set_job(ctx.job_id, state=state, report=report)
        job = self.journal.job(ctx.job_id)
        self.gw.record(Mutation(
            actor=job.actor, action="migration.finished", registry=ctx.target, target=f"migration:{ctx.job_id}",
            before=None, after={k: report[k] for k in ("job_id", "state", "source", "target", "items", "created", "failed")},
            request_id=None,
        ))
        self.on_event({"event": "job", "job_id": ctx.job_id, "state": state, "created": report["created"],
                       "failed": report["failed"]})
        return report


@dataclass
class _Staged:
    """What staging one item produced: the source version, and a staged copy or the existing one."""

    source: ModelVersion
    staged: StagedVersion | None
    found: str | None
    digest: str | None = None
    bytes_copied: int = 0


def _uri(registry: str, model: str, version: str) -> str:
    return MrgUri(registry=registry, model=model, version=version).render()


def _quiet_result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - a discarded stage's error is not this item's outcome
        return None
