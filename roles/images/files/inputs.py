#!/usr/bin/env python3
"""Control-node helper of the images role: input hashes and deterministic source archives.

inputs.py hash REPOSITORY < {"NAME": {"spec": {...}, "paths": [...], "exclude": [...]}}
    prints {"NAME": "REPOSITORY/NAME:<16 hex digits>"}: the tag is a hash of everything
    that goes into the image, so an unchanged input means an existing tag and no build.
inputs.py pack SRC_DIR OUT.tar EXCLUDE...
    writes SRC_DIR as a tar with fixed owners, modes, times and order.
"""

import fnmatch
import hashlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path

ALWAYS_EXCLUDED = ["__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".git", ".venv"]


def walk(root: Path, exclude: list[str]) -> list[Path]:
    """Files under root in a stable order, skipping excluded names at any depth."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not excluded(d, exclude))
        found += [Path(dirpath) / f for f in sorted(filenames) if not excluded(f, exclude)]
    return found


def excluded(name: str, exclude: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in ALWAYS_EXCLUDED + exclude)


def tree_hash(paths: list[str], exclude: list[str]) -> str:
    digest = hashlib.sha256()
    for root in map(Path, paths):
        if not root.exists():
            # A missing input would hash as nothing: a changed file could keep the old tag.
            sys.exit(f"inputs.py: {root} does not exist; every input of an image must")
        for path in walk(root, exclude):
            rel = path.relative_to(root) if root.is_dir() else Path(path.name)
            executable = os.access(path, os.X_OK)
            digest.update(f"{root.name}/{rel}\0{int(executable)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def command_hash(repository: str) -> None:
    request = json.load(sys.stdin)
    refs = {}
    for name, item in sorted(request.items()):
        digest = hashlib.sha256()
        digest.update(json.dumps(item["spec"], sort_keys=True).encode())
        digest.update(tree_hash(item["paths"], item.get("exclude", [])).encode())
        refs[name] = f"{repository}/{name}:{digest.hexdigest()[:16]}"
    json.dump(refs, sys.stdout)


def command_pack(src: str, out: str, exclude: list[str]) -> None:
    root = Path(src)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in walk(root, exclude):
            data = path.read_bytes()
            info = tarfile.TarInfo(str(path.relative_to(root)))
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    if sys.argv[1] == "hash":
        command_hash(sys.argv[2])
    elif sys.argv[1] == "pack":
        command_pack(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}; expected hash or pack")
