#!/usr/bin/env python3
"""`make collection`: this repository as the Ansible collection djstack.stack, a tarball
that is the same bytes whenever it is built from the same commit.

The collection holds the roles (with their plugins and files) and the playbooks; site.yml
moves into playbooks/ beside the others, so `ansible-playbook djstack.stack.site` runs it.
Its version is galaxy.yml's on a commit tagged v<version>, else <version>-dev.<commits>+g<sha>
(and .dirty when tracked files differ from the commit). ansible-galaxy builds the archive;
this script then rewrites it with sorted entries, the commit's time on every file and no
time in the gzip header, so nothing of the build machine or moment is in it.

Usage: build-collection.py OUT_DIR       prints the tarball's path and sha256
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONTENT = ["galaxy.yml", "site.yml", "roles", "playbooks", "docs/collection.md"]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def version(base: str) -> str:
    tags = git("tag", "--points-at", "HEAD").split()
    dirty = ".dirty" if git("status", "--porcelain", "--", *CONTENT) else ""
    if f"v{base}" in tags and not dirty:
        return base
    return f"{base}-dev.{git('rev-list', '--count', 'HEAD')}+g{git('rev-parse', '--short=10', 'HEAD')}{dirty}"


def filter_names(path: Path) -> list[str]:
    """The names a filter plugin file gives its filters."""
    spec = importlib.util.spec_from_file_location(f"djstack_build_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.FilterModule().filters())


def stage(into: Path, stamped: str) -> None:
    """The tracked content, laid out as a collection."""
    for name in git("ls-files", "-z", "--", *CONTENT).split("\0"):
        if name:
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    site = (into / "site.yml").read_text()
    (into / "playbooks" / "site.yml").write_text(
        site.replace("import_playbook: playbooks/", "import_playbook: ")
    )
    (into / "site.yml").unlink()
    # A collection's playbook is named like a Python identifier (djstack.stack.backup_verify):
    # Ansible finds no name with a hyphen, so those files take an underscore.
    renamed = {p.name: p.name.replace("-", "_") for p in (into / "playbooks").glob("*-*.yml")}
    for old, new in renamed.items():
        (into / "playbooks" / old).rename(into / "playbooks" / new)
    for playbook in (into / "playbooks").glob("*.yml"):
        text = playbook.read_text().replace(
            "import_playbook: ../site.yml", "import_playbook: site.yml"
        )
        for old, new in renamed.items():
            text = text.replace(f"import_playbook: {old}", f"import_playbook: {new}")
        playbook.write_text(text)
    galaxy = into / "galaxy.yml"
    galaxy.write_text(re.sub(r"(?m)^version: .*$", f"version: {stamped}", galaxy.read_text()))
    # A collection's roles may not carry plugins: they move to the collection's plugins/,
    # where the roles' unqualified names still find them (their collection comes first).
    moved = (
        ("action_plugins", "action"),
        ("filter_plugins", "filter"),
        ("callback_plugins", "callback"),
        ("library", "modules"),
    )
    for kind, folder in moved:
        for plugin in sorted(into.glob(f"roles/*/{kind}/*.py")):
            target = into / "plugins" / folder / plugin.name
            target.parent.mkdir(parents=True, exist_ok=True)
            plugin.rename(target)
        for emptied in into.glob(f"roles/*/{kind}"):
            emptied.rmdir()
    # Jinja finds a collection's filters by their full name only.
    names = sorted(
        {name for path in into.glob("plugins/filter/*.py") for name in filter_names(path)}
    )
    if names:
        used = re.compile(rf"(\|\s*|(?:map|select|reject)\(\s*['\"])({'|'.join(names)})\b")
        for path in [
            *into.glob("roles/**/*.yml"),
            *into.glob("roles/**/*.j2"),
            *into.glob("playbooks/*.yml"),
        ]:
            text = path.read_text()
            path.write_text(used.sub(r"\1djstack.stack.\2", text))
    (into / "README.md").write_text((into / "docs" / "collection.md").read_text())
    shutil.rmtree(into / "docs")
    (into / "meta").mkdir()
    (into / "meta" / "runtime.yml").write_text('---\nrequires_ansible: ">=2.19.0"\n')


def normalise(built: Path, out: Path, epoch: int) -> None:
    """ansible-galaxy's archive, rewritten: files listed and stored in name order, every
    time the commit's, owners root, the gzip header without a time or a name."""
    with tarfile.open(built) as source:
        members = {m.name: (m, source.extractfile(m).read() if m.isfile() else b"") for m in source}
    files = json.loads(members["FILES.json"][1])
    files["files"].sort(key=lambda entry: entry["name"])
    files_json = json.dumps(files, indent=True).encode()
    manifest = json.loads(members["MANIFEST.json"][1])
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    contents = {
        "MANIFEST.json": json.dumps(manifest, indent=True).encode(),
        "FILES.json": files_json,
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in [
            "MANIFEST.json",
            "FILES.json",
            *sorted(n for n in members if n not in contents),
        ]:
            info, data = members.get(name, (tarfile.TarInfo(name), b""))
            info = tarfile.TarInfo(name) if name in contents else info
            data = contents.get(name, data)
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            info.pax_headers = {}
            if name in contents:
                info.mode = 0o644
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    with (
        out.open("wb") as target,
        gzip.GzipFile(filename="", mode="wb", fileobj=target, mtime=0) as packed,
    ):
        packed.write(raw.getvalue())


def main() -> None:
    out_dir = Path(sys.argv[1]).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    base = re.search(r"(?m)^version: (\S+)$", (ROOT / "galaxy.yml").read_text()).group(1)
    stamped = version(base)
    epoch = int(git("log", "-1", "--format=%ct"))
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "djstack" / "stack"
        tree.mkdir(parents=True)
        stage(tree, stamped)
        subprocess.run(
            ["ansible-galaxy", "collection", "build", str(tree), "--output-path", scratch],
            check=True, capture_output=True,
        )  # fmt: skip
        built = next(Path(scratch).glob("djstack-stack-*.tar.gz"))
        out = out_dir / built.name
        normalise(built, out, epoch)
    print(json.dumps({"collection": str(out), "version": stamped,
                      "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}))  # fmt: skip


if __name__ == "__main__":
    main()
