"""The official huggingface_hub client, used as a Hub user would, against the emulator."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from .conftest import HubSession


def _random_file(path: Path, size: int, seed: int) -> str:
    """Write ``size`` pseudo-random bytes in 1 MiB blocks; returns their sha256."""
    digest = hashlib.sha256()
    block = hashlib.sha256(str(seed).encode()).digest() * 32768  # 1 MiB
    with path.open("wb") as fh:
        written = 0
        counter = 0
        while written < size:
            chunk = bytes([counter % 256]) + block[1 : min(len(block), size - written)]
            fh.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            counter += 1
    return digest.hexdigest()


def test_whoami_create_and_conflict(api, hub: HubSession, repo_id: str) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    assert api.whoami()["name"] == hub.user
    url = api.create_repo(repo_id)
    assert str(url).endswith(repo_id) and url.repo_id == repo_id
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo(repo_id)
    assert err.value.response.status_code == 409
    assert api.create_repo(repo_id, exist_ok=True).repo_id == repo_id
    info = api.model_info(repo_id)
    assert info.author == hub.user and [s.rfilename for s in info.siblings] == [".gitattributes"]
    commits = api.list_repo_commits(repo_id)
    assert [(c.title, c.authors) for c in commits] == [("initial commit", ["system"])]


def test_invalid_names_are_refused(api, hub: HubSession) -> None:
    from huggingface_hub.errors import BadRequestError, HfHubHTTPError
    from huggingface_hub.utils import get_session, hf_raise_for_status

    # The client validates ids before sending; the server must refuse them on its own too.
    for bad in ("double--dash", "ends.", "x" * 97, "name.git"):
        response = get_session().post(f"{hub.endpoint}/api/repos/create", json={"name": bad},
                                      headers={"authorization": f"Bearer {hub.token}"})
        with pytest.raises(BadRequestError):
            hf_raise_for_status(response)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo("somebody-else/model")
    assert err.value.response.status_code == 403


def test_large_file_goes_through_lfs_and_downloads_identical(
    api, repo_id: str, tmp_path: Path, cache_dir: str, hub: HubSession
) -> None:
    from huggingface_hub import hf_hub_download

    api.create_repo(repo_id)
    big = tmp_path / "weights.dat"  # not an LFS extension: the 10 MiB rule must pick LFS
    sha = _random_file(big, 12 * 1024 * 1024 + 123, seed=1)
    info = api.upload_file(path_or_fileobj=str(big), path_in_repo="weights.dat", repo_id=repo_id)
    assert f"PUT /_lfs/part/{sha}" in hub.requests_logged()  # above the multipart threshold
    entry = api.get_paths_info(repo_id, ["weights.dat"])[0]
    assert entry.lfs is not None and entry.lfs.sha256 == sha and entry.size == big.stat().st_size
    local = hf_hub_download(repo_id, "weights.dat", cache_dir=cache_dir)
    assert hashlib.sha256(Path(local).read_bytes()).hexdigest() == sha
    # The commit endpoint tracks LFS files no .gitattributes rule covers.
    attributes = Path(hf_hub_download(repo_id, ".gitattributes", cache_dir=cache_dir)).read_text()
    assert "weights.dat filter=lfs diff=lfs merge=lfs -text" in attributes.splitlines()
    model = api.model_info(repo_id, files_metadata=True)
    assert model.sha == info.oid
    sizes = {s.rfilename: (s.size, s.lfs.sha256 if s.lfs else None) for s in model.siblings}
    assert sizes["weights.dat"] == (big.stat().st_size, sha)


def test_create_commit_tag_and_download_at_tag(api, repo_id: str, cache_dir: str, hub: HubSession) -> None:
    from huggingface_hub import (
        CommitOperationAdd,
        CommitOperationDelete,
        hf_hub_download,
    )

    api.create_repo(repo_id)
    weights_v1 = os.urandom(300_000)
    first = api.create_commit(
        repo_id,
        operations=[
            CommitOperationAdd("config.json", b'{"layers": 2}'),
            CommitOperationAdd("model.bin", weights_v1),
            CommitOperationAdd("notes/draft.txt", b"draft"),
        ],
        commit_message="version 1",
    )
    assert f"PUT /_lfs/upload/{hashlib.sha256(weights_v1).hexdigest()}" in hub.requests_logged()  # basic transfer
    api.create_tag(repo_id, tag="v1", revision=first.oid, tag_message="first release")
    second = api.create_commit(
        repo_id,
        operations=[
            CommitOperationAdd("model.bin", os.urandom(300_000)),
            CommitOperationDelete("notes/"),
        ],
        commit_message="version 2",
        commit_description="retrained",
        parent_commit=first.oid,
    )
    refs = api.list_repo_refs(repo_id)
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": first.oid}
    assert {b.name: b.target_commit for b in refs.branches} == {"main": second.oid}
    got = hf_hub_download(repo_id, "model.bin", revision="v1", cache_dir=cache_dir)
    assert Path(got).read_bytes() == weights_v1
    assert sorted(api.list_repo_files(repo_id, revision="v1")) == [
        ".gitattributes", "config.json", "model.bin", "notes/draft.txt"]
    assert sorted(api.list_repo_files(repo_id)) == [".gitattributes", "config.json", "model.bin"]
    commits = api.list_repo_commits(repo_id)
    assert [c.commit_id for c in commits][:2] == [second.oid, first.oid]
    assert (commits[0].title, commits[0].message) == ("version 2", "retrained")
    lfs = api.get_paths_info(repo_id, ["model.bin"], revision="v1")[0].lfs
    assert lfs is not None and lfs.sha256 == hashlib.sha256(weights_v1).hexdigest()


def test_refs_with_slashes_branches_and_stale_parent(api, repo_id: str, cache_dir: str) -> None:
    from huggingface_hub import CommitOperationAdd, hf_hub_download
    from huggingface_hub.errors import (
        BadRequestError,
        HfHubHTTPError,
        RevisionNotFoundError,
    )

    api.create_repo(repo_id)
    base = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo_id).oid
    api.create_branch(repo_id, branch="release/2024", revision=base)
    on_branch = api.upload_file(path_or_fileobj=b"b", path_in_repo="a.txt", repo_id=repo_id,
                                revision="release/2024").oid
    api.create_tag(repo_id, tag="approved/v1", revision="release/2024")
    path = hf_hub_download(repo_id, "a.txt", revision="approved/v1", cache_dir=cache_dir)
    assert Path(path).read_bytes() == b"b"
    assert api.model_info(repo_id, revision="release/2024").sha == on_branch
    assert api.model_info(repo_id).sha == base
    with pytest.raises(BadRequestError):
        api.create_branch(repo_id, branch="bad..name")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_tag(repo_id, tag="approved/v1")
    assert err.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(repo_id, [CommitOperationAdd("x", b"x")], commit_message="stale",
                          revision="release/2024", parent_commit=base)
    assert err.value.response.status_code == 412
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id=repo_id, revision="nope")
    api.delete_branch(repo_id, branch="release/2024")
    api.delete_tag(repo_id, tag="approved/v1")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(repo_id, tag="approved/v1")
    assert not api.revision_exists(repo_id, "release/2024")
    refs = api.list_repo_refs(repo_id)
    assert [b.name for b in refs.branches] == ["main"] and refs.tags == []


def test_missing_things_raise_the_hub_exceptions(api, repo_id: str, hub: HubSession, cache_dir: str) -> None:
    from huggingface_hub import CommitOperationDelete, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api.create_repo(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"{hub.user}/does-not-exist")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo_id, revision="v9")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", cache_dir=cache_dir)
    with pytest.raises(EntryNotFoundError) as err:
        api.create_commit(repo_id, [CommitOperationDelete("missing.txt")], commit_message="rm")
    assert "A file with this name doesn't exist" in str(err.value)
    assert api.file_exists(repo_id, ".gitattributes") and not api.file_exists(repo_id, "missing.txt")
    api.delete_repo(repo_id)
    assert not api.repo_exists(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(repo_id)
    api.delete_repo(repo_id, missing_ok=True)


def test_private_repo_is_hidden_without_the_right_token(api, repo_id: str, hub: HubSession, cache_dir: str) -> None:
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError

    api.create_repo(repo_id, private=True)
    api.upload_file(path_or_fileobj=b"secret", path_in_repo="secret.txt", repo_id=repo_id)
    assert api.model_info(repo_id).private is True
    anonymous = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError) as err:
        anonymous.model_info(repo_id)
    assert err.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError) as err:
        HfApi(endpoint=hub.endpoint, token=hub.other_token).model_info(repo_id)
    assert err.value.response.status_code == 404
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo_id, "secret.txt", cache_dir=cache_dir, token=False)
    assert repo_id not in {m.id for m in anonymous.list_models(author=hub.user)}
    assert repo_id in {m.id for m in api.list_models(author=hub.user)}
    api.update_repo_settings(repo_id, private=False)
    assert anonymous.model_info(repo_id).private is False


def test_list_models_author_search_filter_and_paging(api, hub: HubSession) -> None:
    from huggingface_hub import HfApi

    stem = f"pager-{os.urandom(3).hex()}"
    ids = [f"{hub.user}/{stem}-{i}" for i in range(5)]  # > page size 3: the client follows Link
    for repo in ids:
        api.create_repo(repo)
    bob = HfApi(endpoint=hub.endpoint, token=hub.other_token)
    bob.create_repo(f"bob/{stem}-bob")
    found = [m.id for m in api.list_models(author=hub.user, search=stem)]
    assert sorted(found) == ids
    assert [m.id for m in api.list_models(search=stem, author="bob")] == [f"bob/{stem}-bob"]
    assert len(list(api.list_models(search=stem, limit=4))) == 4
    full = next(iter(api.list_models(search=f"{stem}-0", full=True)))
    assert full.sha and [s.rfilename for s in full.siblings] == [".gitattributes"]
    api.create_repo(f"{hub.org}/{stem}-org")
    assert [m.id for m in api.list_models(author=hub.org)] == [f"{hub.org}/{stem}-org"]


def test_model_card_helpers_round_trip(api, repo_id: str, hub: HubSession) -> None:
    from huggingface_hub import EvalResult, ModelCard, ModelCardData, metadata_update

    api.create_repo(repo_id)
    data = ModelCardData(
        base_model="google-bert/bert-base-uncased",
        datasets=["acme/fraud-2024"],
        license="mit",
        library_name="transformers",
        eval_results=[EvalResult(task_type="text-classification", dataset_type="acme/fraud-2024",
                                 dataset_name="fraud", metric_type="accuracy", metric_value=0.93)],
        model_name=repo_id.split("/")[1],
    )
    card = ModelCard.from_template(data, model_description="fraud detector")
    card.push_to_hub(repo_id, token=hub.token)
    loaded = ModelCard.load(repo_id, token=hub.token)
    assert loaded.data.base_model == "google-bert/bert-base-uncased"
    assert loaded.data.eval_results[0].metric_value == 0.93
    metadata_update(repo_id, {"stage": "production"}, token=hub.token)
    info = api.model_info(repo_id)
    assert info.card_data.get("stage") == "production"
    assert info.card_data.base_model == "google-bert/bert-base-uncased"
    assert "base_model:google-bert/bert-base-uncased" in info.tags and "dataset:acme/fraud-2024" in info.tags
    assert info.model_index[0]["results"][0]["metrics"][0]["value"] == 0.93
    lineage = [m.id for m in api.list_models(filter="base_model:google-bert/bert-base-uncased", author=hub.user)]
    assert repo_id in lineage
    assert api.list_repo_commits(repo_id)[0].title == "Update metadata with huggingface_hub"


def test_invalid_card_metadata_is_refused(api, repo_id: str, hub: HubSession) -> None:
    from huggingface_hub import ModelCard

    api.create_repo(repo_id)
    card = ModelCard("---\nbase_model_relation: photocopy\n---\n# x\n")
    with pytest.raises(ValueError, match="base_model_relation"):
        card.push_to_hub(repo_id, token=hub.token)
    assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_unchanged_upload_makes_no_commit_and_snapshot_at_tag(api, repo_id: str, tmp_path: Path) -> None:
    from huggingface_hub import snapshot_download

    api.create_repo(repo_id)
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "sub" / "tok.model").write_bytes(os.urandom(2048))
    first = api.upload_folder(folder_path=folder, repo_id=repo_id, commit_message="v1")
    again = api.upload_folder(folder_path=folder, repo_id=repo_id, commit_message="v1 again")
    assert again.oid == first.oid
    api.create_tag(repo_id, tag="v1")
    snap = Path(snapshot_download(repo_id, revision="v1", cache_dir=str(tmp_path / "c")))
    assert (snap / "sub" / "tok.model").read_bytes() == (folder / "sub" / "tok.model").read_bytes()
    tree = api.list_repo_tree(repo_id, path_in_repo="sub")
    assert [(type(e).__name__, e.path) for e in tree] == [("RepoFile", "sub/tok.model")]


def test_expanded_tree_names_each_entry_last_commit_and_move_keeps_history(api, repo_id: str, hub: HubSession) -> None:
    from huggingface_hub import CommitOperationAdd

    api.create_repo(repo_id)
    first = api.create_commit(repo_id, [CommitOperationAdd("a.txt", b"1"), CommitOperationAdd("d/b.txt", b"1")],
                              commit_message="both").oid
    second = api.create_commit(repo_id, [CommitOperationAdd("d/b.txt", b"2")], commit_message="b only").oid
    entries = {e.path: e.last_commit.oid for e in api.list_repo_tree(repo_id, recursive=True, expand=True)}
    assert entries == {".gitattributes": api.list_repo_commits(repo_id)[-1].commit_id, "a.txt": first,
                       "d": second, "d/b.txt": second}
    (info,) = api.get_paths_info(repo_id, ["a.txt"], expand=True)
    assert info.last_commit.title == "both"
    moved = f"{hub.org}/{repo_id.split('/')[1]}"
    api.move_repo(repo_id, moved)
    assert api.model_info(moved).sha == second and not api.repo_exists(repo_id)


def test_lfs_upload_urls_are_signed_and_content_checked(api, repo_id: str, hub: HubSession) -> None:
    """The client PUTs LFS payloads without Authorization, so the URL itself must be the credential."""
    import json as jsonlib

    from huggingface_hub.utils import get_session

    api.create_repo(repo_id)
    payload = os.urandom(4096)
    oid = hashlib.sha256(payload).hexdigest()
    batch = get_session().post(
        f"{hub.endpoint}/{repo_id}.git/info/lfs/objects/batch",
        headers={"authorization": f"Bearer {hub.token}", "content-type": "application/vnd.git-lfs+json"},
        content=jsonlib.dumps({"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
                               "objects": [{"oid": oid, "size": len(payload)}]}),
    ).json()
    href = batch["objects"][0]["actions"]["upload"]["href"]
    forged = href.replace("sig=", "sig=0")
    assert get_session().put(forged, content=payload).status_code == 403
    assert get_session().put(href, content=os.urandom(4096)).status_code == 400  # bytes do not hash to oid
    assert get_session().put(href, content=payload).status_code == 200
    again = get_session().post(
        f"{hub.endpoint}/{repo_id}.git/info/lfs/objects/batch",
        headers={"authorization": f"Bearer {hub.token}"},
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(payload)}]},
    ).json()
    assert "actions" not in again["objects"][0]  # stored once: the client skips the upload
    anonymous = get_session().post(f"{hub.endpoint}/{repo_id}.git/info/lfs/objects/batch",
                                   json={"operation": "upload", "objects": []})
    assert anonymous.status_code == 401 and anonymous.headers["X-Error-Code"] == "RepoNotFound"
