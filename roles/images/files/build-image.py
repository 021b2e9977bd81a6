#!/usr/bin/env python3
"""Build one djstack image on the Docker host, reproducibly and without a registry.

mmdebstrap makes the root filesystem (bit-identical for identical inputs when
SOURCE_DATE_EPOCH is fixed); this script then writes it as a single-layer docker-archive
whose config carries a fixed creation time, so the image ID is a pure function of the
inputs. `docker load` (community.docker.docker_image_load) takes the archive.

An image whose spec names a base_ref (the app image) is that image's layers plus one
more: the project's source, compiled by the base image's Python. A code change then
rebuilds only that thin layer, and the layers of the base (Debian and the virtualenv) stay
shared on disk.

Debian packages come at the exact versions of the spec's debian_lock (written by
`make lock`): apt is pinned to them, and the build fails naming every package whose
installed version differs, so a mirror that moved on never yields a silently different
image.

Usage: build-image.py SPEC.json OUT.tar
       build-image.py resolve SPECS.json   print the lock lines (image package version)
                                           that the mirror gives today for each spec
"""

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def normalise_tree(root: Path) -> None:
    """Same modes on every machine, whatever umask or git checkout produced the files."""
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if path.is_dir() or mode & stat.S_IXUSR:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def base_command(spec: dict) -> list[str]:
    """What decides the package set: the same for a build and for a lock resolution."""
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--mode=root",
        '--aptopt=APT::Install-Recommends "false"',
    ]
    if spec["packages"]:
        cmd.append(f"--include={','.join(spec['packages'])}")
    if spec.get("ca_bundle"):
        cmd.append(f'--aptopt=Acquire::https::CAInfo "{spec["ca_bundle"]}"')
    return cmd


def build_env(spec: dict, workdir: Path) -> dict:
    # The root filesystem is assembled under the build directory, not /tmp: /tmp is often
    # noexec (dpkg could not run maintainer scripts there) or RAM-backed on small servers.
    return dict(
        os.environ,
        SOURCE_DATE_EPOCH=str(spec["source_date_epoch"]),
        LC_ALL="C.UTF-8",
        TMPDIR=str(workdir),
    )


def write_pins(lock: dict[str, str], path: Path) -> None:
    """apt preferences that hold every package at its locked version."""
    path.write_text(
        "".join(
            f"Package: {package}\nPin: version {version}\nPin-Priority: 1001\n\n"
            for package, version in sorted(lock.items())
        )
    )


def mmdebstrap(spec: dict, workdir: Path, rootfs_tar: Path) -> None:
    overlay = workdir / "overlay"
    overlay.mkdir(exist_ok=True)
    normalise_tree(overlay)
    cmd = [*base_command(spec), "--quiet", "--format=tar"]
    lock = spec.get("debian_lock")
    if lock is not None:
        write_pins(lock, workdir / "djstack-lock.pref")
        cmd.append(f"--setup-hook=copy-in {workdir / 'djstack-lock.pref'} /etc/apt/preferences.d")
    cmd += [f"--dpkgopt=path-exclude={p}" for p in spec["dpkg_path_excludes"]]
    cmd += [f"--dpkgopt=path-include={p}" for p in spec.get("dpkg_path_includes", [])]
    # Users get fixed ids before packages install, matching the official images.
    for user in spec.get("users", []):
        cmd.append(
            "--essential-hook="
            f"echo '{user['name']}:x:{user['gid']}:' >> \"$1/etc/group\" && "
            f"echo '{user['name']}:x:{user['uid']}:{user['gid']}::{user['home']}:"
            f'/usr/sbin/nologin\' >> "$1/etc/passwd" && '
            f"echo '{user['name']}:!:1::::::' >> \"$1/etc/shadow\""
        )
    cmd += [f"--essential-hook={hook}" for hook in spec.get("essential_hooks", [])]
    cmd.append(
        "--customize-hook=chroot \"$1\" dpkg-query -W -f='${Package} ${Version}\\n'"
        f" > {workdir / 'installed.txt'}"
    )
    cmd.append('--customize-hook=rm -f "$1/etc/apt/preferences.d/djstack-lock.pref"')
    cmd.append(f"--customize-hook=sync-in {overlay} /")
    for archive, target in spec.get("tar_in", {}).items():
        cmd.append(f'--customize-hook=mkdir -p "$1{target}"')
        cmd.append(f"--customize-hook=tar-in {workdir / archive} {target}")
    cmd += [f"--customize-hook={hook}" for hook in spec.get("customize_hooks", [])]
    cmd += [spec["suite"], str(rootfs_tar), spec["mirror"]]
    result = subprocess.run(
        cmd, check=False, env=build_env(spec, workdir), cwd=workdir, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"mmdebstrap failed for image {spec['name']}:\n{result.stderr[-4000:]}")
    if lock is not None:
        check_lock(spec, lock, read_versions((workdir / "installed.txt").read_text()))


def read_versions(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if line.strip())


def check_lock(spec: dict, lock: dict[str, str], installed: dict[str, str]) -> None:
    """Fail naming each package whose installed version is not the locked one."""
    if not lock:
        sys.exit(
            f"image {spec['name']}: the Debian lock file has no packages for it. "
            "Run `make lock` to record them."
        )
    problems = []
    for package in sorted(lock.keys() | installed.keys()):
        locked, got = lock.get(package), installed.get(package)
        if locked == got:
            continue
        if locked is None:
            problems.append(f"  {package} {got} is installed but not in the lock")
        elif got is None:
            problems.append(f"  {package} is locked at {locked} but was not installed")
        else:
            problems.append(
                f"  {package} is locked at {locked}, but the mirror gave {got}"
                " (the locked version is no longer on it)"
            )
    if problems:
        sys.exit(
            f"image {spec['name']}: Debian packages differ from the lock file (images_debian_lock) "
            f"(mirror {spec['mirror']}, suite {spec['suite']}):\n"
            + "\n".join(problems)
            + "\nRun `make lock` to move the pins to what the mirror has now, or set "
            "images_debian_mirror to a snapshot archive that still carries the locked "
            "versions (https://snapshot.debian.org/archive/debian/<YYYYMMDDTHHMMSSZ>/)."
        )


def resolve(specs: dict, workdir: Path) -> None:
    """The versions the mirror gives today, from apt's simulated install (no download)."""
    lines = []
    for name, spec in sorted(specs.items()):
        cmd = [*base_command(spec), "--verbose", "--simulate"]
        cmd += [spec["suite"], "/dev/null", spec["mirror"]]
        result = subprocess.run(
            cmd, check=False, env=build_env(spec, workdir), capture_output=True, text=True
        )
        if result.returncode != 0:
            sys.exit(f"mmdebstrap --simulate failed for image {name}:\n{result.stderr[-4000:]}")
        found = re.findall(r"^Inst (\S+) \((\S+) ", result.stdout + result.stderr, re.MULTILINE)
        if not found:
            sys.exit(f"mmdebstrap --simulate listed no packages for image {name}")
        lines += [f"{name} {package} {version}" for package, version in sorted(set(found))]
    print("\n".join(lines))


def add_run_dirs(spec: dict, rootfs_tar: Path) -> None:
    """mmdebstrap empties /run; services that keep sockets or pid files there get theirs back."""
    with tarfile.open(rootfs_tar, "a", format=tarfile.PAX_FORMAT) as archive:
        for entry in spec.get("run_dirs", []):
            info = tarfile.TarInfo(f"./run/{entry['name']}")
            info.type = tarfile.DIRTYPE
            info.mode = int(entry["mode"], 8)
            info.uid = info.gid = entry["uid"]
            info.mtime = int(spec["source_date_epoch"])
            archive.addfile(info)


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as layer:
        for chunk in iter(lambda: layer.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def write_docker_archive(
    spec: dict, layer_tar: Path, out: Path, base: tuple[list[str], list[dict]] = ([], [])
) -> str:
    """A docker-archive of base's layers (diff IDs and history, already in the engine) plus
    layer_tar. Only layer_tar is in the archive: `docker load` reads a layer's file only
    when the engine lacks that layer, and the caller checked that it has the base's."""
    base_diff_ids, base_history = base
    diff_id = file_digest(layer_tar)
    epoch = int(spec["source_date_epoch"])
    created = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": spec["config"],
        "rootfs": {"type": "layers", "diff_ids": [*base_diff_ids, diff_id]},
        "history": [
            *base_history,
            {"created": created, "created_by": f"djstack images: {spec['name']}"},
        ],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    image_id = hashlib.sha256(config_bytes).hexdigest()
    layer_paths = [f"{d.removeprefix('sha256:')}/layer.tar" for d in (*base_diff_ids, diff_id)]
    manifest = [{"Config": f"{image_id}.json", "RepoTags": [spec["ref"]], "Layers": layer_paths}]
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as archive:
        add_bytes(archive, f"{image_id}.json", config_bytes, epoch)
        info = tarfile.TarInfo(layer_paths[-1])
        info.size = layer_tar.stat().st_size
        info.mtime = epoch
        info.mode = 0o644
        with layer_tar.open("rb") as layer:
            archive.addfile(info, layer)
        add_bytes(archive, "manifest.json", json.dumps(manifest).encode(), epoch)
    tmp.rename(out)
    return f"sha256:{image_id}"


def base_image(spec: dict) -> tuple[list[str], list[dict]]:
    """Diff IDs of the base image in the local engine, and the history entry each of its
    layers got when this script built it."""
    ref = spec["base_ref"]
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"image {spec['name']}: base image {ref} is not in the Docker engine")
    diff_ids = json.loads(result.stdout)
    created = datetime.fromtimestamp(int(spec["source_date_epoch"]), UTC)
    entry = {
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_by": f"djstack images: {spec['base']}",
    }
    return diff_ids, [entry] * len(diff_ids)


def source_layer(spec: dict, workdir: Path, scratch: Path, layer_tar: Path) -> None:
    """The spec's archives unpacked at their targets, compiled by the base image's Python
    (checked-hash .pyc files hold no time stamps), and the spec's owned directories (made if
    missing, owned by its uid), as a tar with fixed owners, modes, times and order."""
    root = (scratch / "layer-root").resolve()
    # Python before 3.11.4 (Debian 12's) has no extraction filters; the archives are
    # djstack's own (inputs.py pack), with plain files only.
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    for archive, target in spec["tar_in"].items():
        dest = root / target.lstrip("/")
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(workdir / archive) as source:
            source.extractall(dest, **safe)
    for target in spec.get("compile", []):
        mount = f"{root / target.lstrip('/')}:{target}"
        # fmt: off
        result = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--user", "0:0", "--volume", mount,
             "--entrypoint", "python3", spec["base_ref"],
             "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", target],
            check=False, capture_output=True, text=True,
        )
        # fmt: on
        if result.returncode != 0:
            sys.exit(
                f"image {spec['name']}: Python could not compile {target}:\n"
                + (result.stdout + result.stderr)[-4000:]
            )
    owned = spec.get("owned") or {"uid": 0, "dirs": []}
    owned_dirs = {root / directory.strip("/") for directory in owned["dirs"]}
    for directory in owned_dirs:
        directory.mkdir(parents=True, exist_ok=True)
    normalise_tree(root)
    epoch = int(spec["source_date_epoch"])
    with tarfile.open(layer_tar, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(root.rglob("*")):
            info = archive.gettarinfo(str(path), str(path.relative_to(root)))
            info.uid = info.gid = int(owned["uid"]) if path in owned_dirs else 0
            info.uname = info.gname = ""
            info.mtime = epoch
            if info.isfile():
                with path.open("rb") as data:
                    archive.addfile(info, data)
            else:
                archive.addfile(info)


def main() -> None:
    if sys.argv[1] == "resolve":
        specs_path = Path(sys.argv[2])
        resolve(json.loads(specs_path.read_text()), specs_path.parent)
        return
    spec_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    workdir = spec_path.parent
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        layer_tar = Path(tmp) / "layer.tar"
        if spec.get("base_ref"):
            base = base_image(spec)
            source_layer(spec, workdir, Path(tmp), layer_tar)
            image_id = write_docker_archive(spec, layer_tar, out, base)
        else:
            mmdebstrap(spec, workdir, layer_tar)
            add_run_dirs(spec, layer_tar)
            image_id = write_docker_archive(spec, layer_tar, out)
    print(json.dumps({"ref": spec["ref"], "id": image_id}))


if __name__ == "__main__":
    main()
