"""A large artifact between two object stores through the migrator: SageMaker/S3 -> Azure ML/blob.

The goals (DESIGN.md, "Migration jobs"): the migrator moves a multi-GiB artifact in bounded
memory (peak RSS under 300 MiB) and at no less than 70% of the throughput of a raw SDK copy of
the same bytes, measured in the same run. The raw copy is what the SDKs give for free: boto3
``get_object`` streamed straight into azure-storage-blob's ``upload_blob`` on the same Azurite
container the Azure ML workspace uses, with each SDK's default settings.

Both copies run in fresh child processes (so one's memory never counts against the other) and
report the process's absolute peak RSS (``VmHWM``) and its growth over the warm, idle process.
Sources: the project's SageMaker emulator with moto's S3; target: the Azure ML emulator with
Azurite (on disk: with a data directory, so sizes past Azurite's 512 MiB in-memory limit work).
The default 256 MiB keeps a run to a couple of minutes; ``--size 2GiB`` is the full
goal size (needs about 3x that in free disk for moto, the spool and Azurite).

    .venv/bin/python bench/object_store_copy.py [--size 256MiB] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, ROOT)
from harness import generate, proc_status, reset_peak, sagemaker_settings  # noqa: E402
from sizes import mib, parse_size  # noqa: E402

MODEL = "copy-bench"
PATH = "model.bin"
GOAL_PEAK = 300 * 2**20
GOAL_RATIO = 0.70


# -- the measured processes -------------------------------------------------------------------
def child_migrate(spec: dict[str, Any]) -> dict[str, Any]:
    """One migration job, sm/<model> -> az/<target>, in this (fresh) process."""
    from adapters.azureml import AzureMLAdapter
    from adapters.sagemaker import SageMakerAdapter
    from gateway.config import GatewayConfig
    from gateway.core import Gateway
    from gateway.migration.runner import Migrator

    src = SageMakerAdapter("sm", spec["sm"])
    dst = AzureMLAdapter("az", spec["az"])
    gw = Gateway(GatewayConfig(data_dir=spec["store"]), adapters={"sm": src, "az": dst})
    migrator = Migrator(gw, workers=2)
    # Warm up: SDKs imported, clients built, one tiny version through the same upload path, so
    # the measurement is the copy and not azure-ai-ml's first-use imports.
    from adapters.base import ArtifactUpload
    from mapping.schema import VersionSpec

    src.list_artifacts(MODEL, spec["version"])
    dst.create_model(f"{spec['target']}-warm")
    dst.create_version(f"{spec['target']}-warm", VersionSpec(), [ArtifactUpload.from_bytes(PATH, b"warm")])
    _ = gw.store
    idle = proc_status()["VmRSS"]
    exact = reset_peak()
    started = time.perf_counter()
    plan = migrator.plan(f"sm/{MODEL}", "az", versions=spec["version"], rename=spec["target"])
    report = migrator.run(migrator.create_job(plan, actor="bench"))
    seconds = time.perf_counter() - started
    if report["state"] != "succeeded":
        raise SystemExit(f"migration failed: {report['failures']}")
    copy = report["version_map"][0]["target"].rsplit("/", 1)[-1]
    files = {f.path: f for f in dst.list_artifacts(spec["target"], copy)}
    gw.close()
    return {"seconds": seconds, "idle": idle, "peak": proc_status()["VmHWM"], "exact_peak": exact,
            "bytes": report["bytes"], "sha256": files[PATH].sha256, "version": copy}


def child_raw(spec: dict[str, Any]) -> dict[str, Any]:
    """boto3 ``get_object`` streamed into ``BlobClient.upload_blob``: SDK defaults, no gateway."""
    import boto3
    from azure.storage.blob import BlobClient

    from adapters.azureml import AzureMLAdapter
    from mapping import azureml as am

    sm = spec["sm"]
    s3 = boto3.client("s3", endpoint_url=sm["s3_endpoint_url"], region_name=sm["region"],
                      aws_access_key_id=sm["aws_access_key_id"], aws_secret_access_key=sm["aws_secret_access_key"])
    # The workspace's own datastore account and key, exactly as the adapter resolves them.
    az = AzureMLAdapter("az", spec["az"])
    raw = az._version(spec["target"], spec["copy_version"])  # noqa: SLF001 - the bench reuses the adapter's lookup
    datastore, _ = am.parse_datastore_uri(raw["properties"]["modelUri"]) or ("workspaceblobstore", "")
    account_url, container, credential = az._datastore_access(datastore)  # noqa: SLF001
    blob = BlobClient(account_url, container, f"raw-copy/{time.time_ns()}/{PATH}", credential=credential,
                      connection_verify=spec["az"]["ca_bundle"])
    s3.head_bucket(Bucket=spec["bucket"])
    idle = proc_status()["VmRSS"]
    exact = reset_peak()
    started = time.perf_counter()
    body = s3.get_object(Bucket=spec["bucket"], Key=spec["key"])["Body"]
    blob.upload_blob(body, length=spec["size"], overwrite=True)
    seconds = time.perf_counter() - started
    size = blob.get_blob_properties().size
    blob.delete_blob()
    return {"seconds": seconds, "idle": idle, "peak": proc_status()["VmHWM"], "exact_peak": exact, "bytes": size}


def run_child(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, json.dumps(spec)], capture_output=True,
                         text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("256MiB"), help="artifact size (256MiB)")
    parser.add_argument("--runs", type=int, default=1, help="repeat both copies, report medians (default 1)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, spec = args.child[0], json.loads(args.child[1])
        print(json.dumps(child_migrate(spec) if mode == "migrate" else child_raw(spec)))
        return

    from adapters.azureml import AzureMLSettings
    from adapters.base import ArtifactUpload
    from adapters.sagemaker import SageMakerAdapter
    from emulators import launcher
    from mapping.schema import VersionSpec

    work = Path(tempfile.mkdtemp(prefix="mrg-bench-copy-"))
    try:
        with launcher.start("sagemaker", log_path=work / "sagemaker.log") as sm_emu, \
                launcher.start("azureml", data_dir=work / "azureml", log_path=work / "azureml.log",
                               timeout=120) as az_emu:
            sm = sagemaker_settings(sm_emu.info)
            az = AzureMLSettings.from_emulator(az_emu.info).model_dump(mode="json", exclude_none=True)
            source = SageMakerAdapter("sm", sm)
            source.create_model(MODEL, description="object store copy benchmark")
            ours: list[dict[str, Any]] = []
            raw: list[dict[str, Any]] = []
            for run in range(args.runs):
                # New bytes every run: azure-ai-ml skips uploading content it has seen (by hash),
                # so copying the same artifact twice would measure nothing the second time.
                started = time.perf_counter()
                version = source.create_version(MODEL, VersionSpec(description=f"large, run {run + 1}"), [
                    ArtifactUpload(path=PATH, chunks=generate(args.size), size=args.size)])
                seconds = time.perf_counter() - started
                sha256 = next(f.sha256 for f in version.artifact.files if f.path == PATH)
                bucket, _, prefix = (version.artifact.uri or "").removeprefix("s3://").partition("/")
                print(f"run {run + 1}: seeded {mib(args.size)} in the SageMaker emulator's S3 in {seconds:.1f} s")
                spec = {"sm": sm, "az": az, "version": version.version, "target": f"{MODEL}-{run}",
                        "store": str(work / f"gw-{run}"), "bucket": bucket, "key": f"{prefix}/{PATH}",
                        "size": args.size}
                ours.append(run_child("migrate", spec))
                if ours[-1]["sha256"] != sha256 or ours[-1]["bytes"] != args.size:
                    raise SystemExit(f"the copy differs from the source: {ours[-1]} vs sha256 {sha256}")
                raw.append(run_child("raw", {**spec, "copy_version": ours[-1]["version"]}))
                if raw[-1]["bytes"] != args.size:
                    raise SystemExit(f"the raw copy stored {raw[-1]['bytes']} bytes, not {args.size}")
                print(f"run {run + 1}: migrator {ours[-1]['seconds']:.2f} s, raw SDK copy {raw[-1]['seconds']:.2f} s")
            source.close()

        m = statistics.median(r["seconds"] for r in ours)
        b = statistics.median(r["seconds"] for r in raw)
        m_peak = max(r["peak"] for r in ours)
        b_peak = max(r["peak"] for r in raw)
        growth = max(r["peak"] - r["idle"] for r in ours)
        ratio = b / m
        print(f"raw SDK copy, boto3 get_object -> BlobClient.upload_blob (baseline): {b:.2f} s, "
              f"{mib(args.size / b)}/s, peak RSS {mib(b_peak)}")
        print(f"mrg migrator SageMaker/S3 -> Azure ML/blob: {m:.2f} s, {mib(args.size / m)}/s, peak RSS {mib(m_peak)} "
              f"(growth {mib(growth)} over the idle process), sha256 verified")
        print(f"ratio migrator/raw throughput: {ratio:.2f}x; goal: >= {GOAL_RATIO:.2f}x -> "
              f"{'met' if ratio >= GOAL_RATIO else 'NOT met'}")
        print(f"peak RSS {mib(m_peak)}; goal: < {mib(GOAL_PEAK)} -> {'met' if m_peak < GOAL_PEAK else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
