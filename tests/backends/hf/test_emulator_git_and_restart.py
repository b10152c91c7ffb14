"""Storage properties: commit ids real git reproduces, and state that survives a restart."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC
from pathlib import Path

from emulators import launcher

from .conftest import HubSession


def _git(cwd: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True,
                         env={**os.environ, **(env or {})})
    return out.stdout.decode().strip()


def _pointer(content: bytes) -> bytes:
    """What git-lfs would store for ``content`` (written here from the spec, not by the emulator)."""
    sha = hashlib.sha256(content).hexdigest()
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {len(content)}\n".encode()


def _mktree(git_dir: Path, files: dict[str, bytes]) -> str:
    """Build nested trees with git itself from a flat path -> content map."""
    here: list[str] = []
    subdirs: dict[str, dict[str, bytes]] = {}
    for path, content in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = content
        else:
            oid = _git(git_dir, "hash-object", "-w", "--stdin", stdin=content)
            here.append(f"100644 blob {oid}\t{head}")
    for name, sub in subdirs.items():
        here.append(f"040000 tree {_mktree(git_dir, sub)}\t{name}")
    return _git(git_dir, "mktree", stdin=("\n".join(here) + "\n").encode())


def test_commit_ids_are_what_git_computes(api, repo_id: str, hub: HubSession, tmp_path: Path, cache_dir: str) -> None:
    from huggingface_hub import CommitOperationAdd, hf_hub_download

    api.create_repo(repo_id)
    weights = os.urandom(50_000)
    files = {"config.json": b'{"a": 1}', "a/b.txt": b"nested", "a-b": b"dash", "a.b": b"dot",
             "model.safetensors": weights}
    api.create_commit(repo_id, [CommitOperationAdd(p, c) for p, c in files.items()],
                      commit_message="add model", commit_description="with nested paths")
    commits = api.list_repo_commits(repo_id)  # newest first

    git_dir = tmp_path / "git"
    git_dir.mkdir()
    _git(git_dir, "init", "-q")
    attributes = Path(hf_hub_download(repo_id, ".gitattributes", revision=commits[1].commit_id,
                                      cache_dir=cache_dir)).read_bytes()
    expected_files = {**files, "model.safetensors": _pointer(weights), ".gitattributes": attributes}
    parent = None
    for commit, tree_files in ((commits[1], {".gitattributes": attributes}), (commits[0], expected_files)):
        author = commit.authors[0]
        when = f"{int(commit.created_at.astimezone(UTC).timestamp())} +0000"
        env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@users.noreply.huggingface.co",
               "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_NAME": author,
               "GIT_COMMITTER_EMAIL": f"{author}@users.noreply.huggingface.co", "GIT_COMMITTER_DATE": when}
        message = commit.title + (f"\n\n{commit.message}" if commit.message else "")
        args = ["commit-tree", _mktree(git_dir, tree_files), "-m", message]
        if parent:
            args += ["-p", parent]
        parent = _git(git_dir, *args, env=env)
        assert parent == commit.commit_id
    entries = {e.path: e.blob_id for e in api.list_repo_tree(repo_id, recursive=True) if hasattr(e, "blob_id")}
    assert entries["a/b.txt"] == _git(git_dir, "hash-object", "--stdin", stdin=b"nested")


def test_state_survives_restart_and_sigterm_stops_cleanly(tmp_path: Path, hub: HubSession) -> None:
    from huggingface_hub import HfApi

    data_dir = tmp_path / "data"
    first = launcher.start("hfhub", data_dir=data_dir)
    api = HfApi(endpoint=first.endpoint, token=first.info["token"])
    repo = f"{first.info['user']}/persisted"
    api.create_repo(repo, private=True)
    payload = os.urandom(20_000)
    commit = api.upload_file(path_or_fileobj=payload, path_in_repo="w.bin", repo_id=repo).oid
    api.create_tag(repo, tag="v1")
    first.stop()
    assert first.process.returncode == 0

    with launcher.start("hfhub", data_dir=data_dir) as second:
        assert second.info["token"] == first.info["token"]
        api = HfApi(endpoint=second.endpoint, token=second.info["token"])
        assert api.model_info(repo, revision="v1").sha == commit
        got = api.hf_hub_download(repo, "w.bin", revision="v1", cache_dir=str(tmp_path / "cache"))
        assert Path(got).read_bytes() == payload
