"""moto's S3 server beside the emulator, so one command gives a user SageMaker and S3.

Model data (``ModelDataUrl``, metrics reports, ``mrg.json`` sidecars) lives in S3. moto's S3
speaks the same wire protocol as AWS for boto3 (checksums, multipart, ranges), so the
emulator reuses it rather than re-implementing S3.

moto keeps objects only in memory. With a data directory, a clean stop copies every bucket
and object to ``DIR/s3/<bucket>/<key>`` and the next start uploads them again, so registry
state and model bytes survive a restart together.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger("emulators.sagemaker.s3")
_META = ".mrg-s3-meta.json"  # per-bucket object metadata (content types, user metadata)


class S3Sidecar:
    def __init__(self, host: str, data_dir: str | Path | None = None, region: str = "us-east-1") -> None:
        # moto is a heavy import: pay for it only when S3 is wanted.
        from moto.server import ThreadedMotoServer

        self._server: Any = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        self._root = Path(data_dir) / "s3" if data_dir else None
        self._region = region
        self.endpoint = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        if self._root is not None and self._root.is_dir():
            self._restore(self._root)
        return self.endpoint

    def stop(self) -> None:
        if self._root is not None:
            try:
                self._snapshot(self._root)
            except Exception:  # the registry state is already safe; report and still stop
                log.exception("could not save S3 objects to %s", self._root)
        self._server.stop()

    def _client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self._region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def _snapshot(self, root: Path) -> None:
        """Replace ``root`` with the current buckets, streaming each object to its own file."""
        s3 = self._client()
        staging = root.with_name(root.name + ".saving")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            meta: dict[str, Any] = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    target = staging / name / obj["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as handle:
                        s3.download_fileobj(name, obj["Key"], handle)
                    head = s3.head_object(Bucket=name, Key=obj["Key"])
                    meta[obj["Key"]] = {"ContentType": head.get("ContentType"), "Metadata": head.get("Metadata", {})}
            (staging / name).mkdir(exist_ok=True)
            (staging / name / _META).write_text(json.dumps(meta))
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)

    def _restore(self, root: Path) -> None:
        s3 = self._client()
        for bucket_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            kwargs: dict[str, Any] = {"Bucket": bucket_dir.name}
            if self._region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
            s3.create_bucket(**kwargs)
            meta_file = bucket_dir / _META
            meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
            for path in sorted(p for p in bucket_dir.rglob("*") if p.is_file() and p != meta_file):
                key = path.relative_to(bucket_dir).as_posix()
                extra = {k: v for k, v in (meta.get(key) or {}).items() if v}
                with path.open("rb") as handle:
                    s3.upload_fileobj(handle, bucket_dir.name, key, ExtraArgs=extra or None)
