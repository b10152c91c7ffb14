"""The Hub's default ``.gitattributes`` and the subset of its pattern language the Hub uses.

Which files travel through LFS is decided from ``.gitattributes`` (plus size/binary heuristics in
preupload), and the commit endpoint appends a rule for every LFS file no rule already covers.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LFS_EXTENSIONS = ["*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*"]

LFS_ATTRS = "filter=lfs diff=lfs merge=lfs -text"

# Byte-identical to what the Hub puts in a new model repo's "initial commit" (checked against many
# public copies); its blob id therefore matches the Hub's.
DEFAULT_GITATTRIBUTES = "".join(f"{pattern} {LFS_ATTRS}\n" for pattern in _LFS_EXTENSIONS)


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.lstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    # git: a pattern without a slash matches the basename at any depth.
    return re.compile(body if anchored else f"(?:.*/)?{body}")


def lfs_patterns(gitattributes: str) -> list[tuple[str, bool]]:
    """(pattern, tracked) pairs in file order; later lines win, as in git."""
    rules: list[tuple[str, bool]] = []
    for raw in gitattributes.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *attrs = line.split()
        if "filter=lfs" in attrs:
            rules.append((pattern.replace("[[:space:]]", " "), True))
        elif "-filter" in attrs or "!filter" in attrs:
            rules.append((pattern, False))
    return rules


def is_lfs_tracked(gitattributes: str, path: str) -> bool:
    tracked = False
    for pattern, value in lfs_patterns(gitattributes):
        if _compile(pattern).fullmatch(path):
            tracked = value
    return tracked


def track(gitattributes: str, path: str) -> str:
    """Append a rule for ``path`` the way the Hub's commit endpoint does for untracked LFS files."""
    if gitattributes and not gitattributes.endswith("\n"):
        gitattributes += "\n"
    return gitattributes + f"{path.replace(' ', '[[:space:]]')} {LFS_ATTRS}\n"
