"""A large file uploaded by the Hugging Face adapter is what ``hf_hub_download`` returns.

A version created through ``HuggingFaceAdapter.create_version`` (streamed chunks in, spooled
and hashed, LFS pre-upload, one commit, an immutable tag) must be downloadable byte for byte
by any Hugging Face user with the stock client at the version's tag -- that is the point of
keeping versions as plain git tags. Against the project's Hub emulator, this prints:

- the adapter's upload throughput, against the baseline of a plain ``HfApi.upload_file`` of
  the same bytes from a local file (what a user does by hand), measured in the same run;
- ``hf_hub_download`` throughput at the adapter's tag, against the same download of the
  plain upload; and whether the downloaded bytes have the adapter's recorded sha256.

    .venv/bin/python bench/hf_large_file.py [--size 200MiB]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, ROOT)
from harness import BLOCK, generate  # noqa: E402
from sizes import mib, parse_size  # noqa: E402

USER = "mrg-bench"
PATH = "model.bin"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("200MiB"), help="file size (default 200MiB)")
    args = parser.parse_args(argv)

    # The emulator speaks LFS, not Xet (as a self-hosted Hub may): the stock client must be told,
    # before it is imported, or upload_file asks for a Xet token and fails with 501.
    os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from huggingface_hub import HfApi, hf_hub_download

    from adapters.base import ArtifactUpload
    from adapters.hf import HuggingFaceAdapter
    from emulators import launcher
    from mapping import hf as mh
    from mapping.schema import VersionSpec

    work = Path(tempfile.mkdtemp(prefix="mrg-bench-hf-"))
    # Different bytes for the two uploads: the Hub skips LFS objects it already holds.
    block, plain_block = os.urandom(BLOCK), os.urandom(BLOCK)
    try:
        with launcher.start("hfhub", data_dir=work / "hub", extra_args=["--user", USER],
                            log_path=work / "hfhub.log") as hub:
            token = hub.info["token"]
            adapter = HuggingFaceAdapter("hf", {"endpoint": hub.endpoint, "token": token,
                                                "spool_dir": str(work)})
            api = HfApi(endpoint=hub.endpoint, token=token)
            model, plain = f"{USER}/large-file", f"{USER}/plain-upload"
            adapter.create_model(model, description="large file benchmark")
            api.create_repo(plain)

            # Baseline upload: the same bytes, already in a local file, with HfApi.upload_file.
            local = work / "local.bin"
            with open(local, "wb") as fh:
                for chunk in generate(args.size, plain_block):
                    fh.write(chunk)
            started = time.perf_counter()
            api.upload_file(path_or_fileobj=str(local), path_in_repo=PATH, repo_id=plain)
            raw_up = time.perf_counter() - started
            local.unlink()

            started = time.perf_counter()
            version = adapter.create_version(model, VersionSpec(description="large"), [
                ArtifactUpload(path=PATH, chunks=generate(args.size, block), size=args.size)])
            ours_up = time.perf_counter() - started
            recorded = next(f.sha256 for f in adapter.list_artifacts(model, version.version) if f.path == PATH)

            started = time.perf_counter()
            raw_file = hf_hub_download(plain, PATH, endpoint=hub.endpoint, token=token, cache_dir=work / "cache-raw")
            raw_down = time.perf_counter() - started
            tag = mh.tag_for(version.version, adapter.config.version_tag_prefix)
            started = time.perf_counter()
            ours_file = hf_hub_download(model, PATH, revision=tag, endpoint=hub.endpoint, token=token,
                                        cache_dir=work / "cache-ours")
            ours_down = time.perf_counter() - started
            identical = file_sha256(ours_file) == recorded
            if os.path.getsize(raw_file) != args.size:
                raise SystemExit(f"the plain upload came back with {os.path.getsize(raw_file)} bytes")
            size_ok = os.path.getsize(ours_file) == args.size
            adapter.close()

        print(f"plain HfApi.upload_file from a local file (baseline): {raw_up:.2f} s, {mib(args.size / raw_up)}/s")
        print(f"adapter create_version, streamed chunks -> tag {tag}: {ours_up:.2f} s, {mib(args.size / ours_up)}/s")
        print(f"hf_hub_download of the plain upload (baseline): {raw_down:.2f} s, {mib(args.size / raw_down)}/s")
        print(f"hf_hub_download at {tag}: {ours_down:.2f} s, {mib(args.size / ours_down)}/s")
        print(f"ratio adapter/plain upload throughput: {raw_up / ours_up:.2f}x; download at the tag vs plain: "
              f"{raw_down / ours_down:.2f}x")
        ok = identical and size_ok
        print(f"goal: {mib(args.size)} byte-identical through hf_hub_download at the version's tag -> "
              f"{'met' if ok else 'NOT met'} (sha256 {recorded[:16]}...)")
        if not ok:
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
