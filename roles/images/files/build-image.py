#!/usr/bin/env python3
"""Build one djstack image on the Docker host, reproducibly and without a registry.

mmdebstrap makes the root filesystem (bit-identical for identical inputs when
SOURCE_DATE_EPOCH is fixed); this script then writes it as a single-layer docker-archive
whose config carries a fixed creation time, so the image ID is a pure function of the
inputs. `docker load` (community.docker.docker_image_load) takes the archive.

Usage: build-image.py SPEC.json OUT.tar
"""

import hashlib
import io
import json
import os
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


def mmdebstrap(spec: dict, workdir: Path, rootfs_tar: Path) -> None:
    overlay = workdir / "overlay"
    overlay.mkdir(exist_ok=True)
    normalise_tree(overlay)
    cmd = [
        "mmdebstrap",
        "--quiet",
        "--variant=minbase",
        "--mode=root",
        "--format=tar",
        '--aptopt=APT::Install-Recommends "false"',
    ]
    if spec["packages"]:
        cmd.append(f"--include={','.join(spec['packages'])}")
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
    cmd.append(f"--customize-hook=sync-in {overlay} /")
    for archive, target in spec.get("tar_in", {}).items():
        cmd.append(f'--customize-hook=mkdir -p "$1{target}"')
        cmd.append(f"--customize-hook=tar-in {workdir / archive} {target}")
    cmd += [f"--customize-hook={hook}" for hook in spec.get("customize_hooks", [])]
    cmd += [spec["suite"], str(rootfs_tar), spec["mirror"]]
    # The root filesystem is assembled under the build directory, not /tmp: /tmp is often
    # noexec (dpkg could not run maintainer scripts there) or RAM-backed on small servers.
    env = dict(
        os.environ,
        SOURCE_DATE_EPOCH=str(spec["source_date_epoch"]),
        LC_ALL="C.UTF-8",
        TMPDIR=str(workdir),
    )
    result = subprocess.run(cmd, check=False, env=env, cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"mmdebstrap failed for image {spec['name']}:\n{result.stderr[-4000:]}")


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


def write_docker_archive(spec: dict, rootfs_tar: Path, out: Path) -> str:
    digest = hashlib.sha256()
    with rootfs_tar.open("rb") as layer:
        for chunk in iter(lambda: layer.read(1 << 20), b""):
            digest.update(chunk)
    diff_id = f"sha256:{digest.hexdigest()}"
    epoch = int(spec["source_date_epoch"])
    created = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": spec["config"],
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": f"djstack images: {spec['name']}"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    image_id = hashlib.sha256(config_bytes).hexdigest()
    manifest = [
        {
            "Config": f"{image_id}.json",
            "RepoTags": [spec["ref"]],
            "Layers": [f"{digest.hexdigest()}/layer.tar"],
        }
    ]
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as archive:
        add_bytes(archive, f"{image_id}.json", config_bytes, epoch)
        info = tarfile.TarInfo(f"{digest.hexdigest()}/layer.tar")
        info.size = rootfs_tar.stat().st_size
        info.mtime = epoch
        info.mode = 0o644
        with rootfs_tar.open("rb") as layer:
            archive.addfile(info, layer)
        add_bytes(archive, "manifest.json", json.dumps(manifest).encode(), epoch)
    tmp.rename(out)
    return f"sha256:{image_id}"


def main() -> None:
    spec_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    workdir = spec_path.parent
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        rootfs_tar = Path(tmp) / "rootfs.tar"
        mmdebstrap(spec, workdir, rootfs_tar)
        add_run_dirs(spec, rootfs_tar)
        image_id = write_docker_archive(spec, rootfs_tar, out)
    print(json.dumps({"ref": spec["ref"], "id": image_id}))


if __name__ == "__main__":
    main()
