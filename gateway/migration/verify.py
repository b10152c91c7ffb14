"""``mrg migrate verify``: re-read both ends and compare every carried field and every file.

A job is verified only when every item exists on the target, every field both registries hold
is equal (parents compared through the job's version map), the provenance marker points at the
source, aliases point at the copies, every file has the source's size and sha256, and the marker's
digest is the digest of the source's files (for a source that keeps no checksums, the copy computed
it as the bytes flowed).
"""

from __future__ import annotations

from typing import Any

from gateway.core import Gateway
from gateway.migration import journal as J
from gateway.migration.plan import carried_version_fields, version_digest
from mapping.compare import diff_versions
from mapping.errors import RegistryError
from mapping.fidelity import carried
from mapping.schema import MrgUri

SKIP = {"aliases", "lineage.migrated_from", "artifact.files", "artifact.sha256"}


def verify_job(gw: Gateway, job_id: str) -> dict[str, Any]:
    journal = J.Journal(gw.store)
    job = journal.job(job_id)
    items = journal.items(job_id)
    src, dst = gw.adapter(job.source), gw.adapter(job.target)
    src_caps, dst_caps = src.capabilities(), dst.capabilities()
    fields = [f for f in carried_version_fields(src_caps, dst_caps) if f not in SKIP]
    uri_map = {
        MrgUri(registry=job.source, model=i.source_model, version=i.source_version).render():
        MrgUri(registry=job.target, model=i.target_model, version=i.target_version).render()
        for i in items if i.target_version
    }
    lines: list[dict[str, Any]] = []
    checked_models: set[str] = set()
    for item in items:
        source_uri = MrgUri(registry=job.source, model=item.source_model, version=item.source_version).render()
        line: dict[str, Any] = {"seq": item.seq, "source": source_uri, "target": uri_map.get(source_uri), "problems": []}
        lines.append(line)
        if item.state != J.CREATED or not item.target_version:
            line["problems"].append(f"missing on the target ({item.state}: {item.error or 'not attempted'})")
            continue
        try:
            s = gw.call(job.source, lambda a, i=item: a.get_version(i.source_model, i.source_version))
            d = gw.call(job.target, lambda a, i=item: a.get_version(i.target_model, i.target_version))
            expected = s.model_copy(deep=True)
            for parent in expected.lineage.parents:
                parent.uri = uri_map.get(parent.uri, parent.uri)
            for diff in diff_versions(expected, d, fields):
                line["problems"].append(f"{diff.field}: expected {diff.expected!r}, found {diff.actual!r}")
            marker = d.lineage.migrated_from
            if carried(dst_caps.fidelity, "lineage.migrated_from") and (marker is None or marker.uri != source_uri):
                line["problems"].append(f"lineage.migrated_from: expected {source_uri}, found {marker.uri if marker else None}")
            listed = gw.call(job.source, lambda a, i=item: a.list_artifacts(i.source_model, i.source_version))
            src_files = {f.path: (f.size, f.sha256) for f in listed}
            if marker is not None and marker.digest and marker.digest != version_digest(listed):
                line["problems"].append(f"lineage.migrated_from.digest: {marker.digest} is not the digest of the "
                                        f"source's files ({version_digest(listed)})")
            dst_files = {f.path: (f.size, f.sha256) for f in gw.call(job.target, lambda a, i=item: a.list_artifacts(
                i.target_model, i.target_version))}
            for path, (size, digest) in sorted(src_files.items()):
                if path not in dst_files:
                    line["problems"].append(f"artifact {path}: missing on the target")
                elif dst_files[path][0] != size or dst_files[path][1] != digest:
                    line["problems"].append(f"artifact {path}: size/sha256 {dst_files[path]} != source {(size, digest)}")
            if item.source_model not in checked_models:
                checked_models.add(item.source_model)
                line["problems"] += _alias_problems(gw, job.source, job.target, item, uri_map, dst_caps.aliases)
        except RegistryError as exc:
            line["problems"].append(f"could not read: {exc.kind.value}: {exc}")
    failed = [line for line in lines if line["problems"]]
    return {"job_id": job_id, "ok": not failed, "items": len(lines),
            "failed": len(failed), "lines": lines, "fields_compared": fields}


def _alias_problems(gw: Gateway, source: str, target: str, item: Any, uri_map: dict[str, str], aliases: bool) -> list[str]:
    if not aliases:
        return []
    src_model = gw.call(source, lambda a: a.get_model(item.source_model))
    dst_model = gw.call(target, lambda a: a.get_model(item.target_model))
    problems = []
    for alias, version in sorted(src_model.aliases.items()):
        copy = uri_map.get(MrgUri(registry=source, model=item.source_model, version=version).render())
        if copy is None:
            continue
        want = MrgUri.parse(copy).version
        if dst_model.aliases.get(alias) != want:
            problems.append(f"alias {alias!r}: expected -> {want}, found -> {dst_model.aliases.get(alias)}")
    return problems
