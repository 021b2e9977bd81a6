"""Filters of the images role: what decides each image's content, computed in Python."""

from __future__ import annotations

import os
from typing import Any


def debian_pins(lock_lines: list[list[str]], image: str) -> dict[str, str]:
    """Locked version of each Debian package of one image, from the lock's lines
    [image, package, version]."""
    return {line[1]: line[2] for line in lock_lines if len(line) >= 3 and line[0] == image}


def build_specs(
    names: list[str],
    specs: dict[str, dict],
    app_layer: dict[str, Any],
    packages: dict[str, list[str]],
    common: dict[str, Any],
    lock_lines: list[list[str]] | None,
    app_extra_packages: list[str] = (),
    app_suite: str = "",
) -> dict[str, dict]:
    """The build spec of every image to build: its assembly (specs), the Debian suite,
    mirror, time stamp and path filters every image shares (common), its packages and their
    locked versions (none when lock_lines is None: unpinned builds). The app image is two
    builds: the runtime (Debian and the virtualenv, under app_layer's base name) and the
    layer of the project's source on top of it. The runtime may come from its own Debian
    release (app_suite), for a project that needs that release's Python."""
    out: dict[str, dict] = {}
    for name in names:
        spec = {
            **specs[name],
            "name": app_layer["base"] if name == "app" else name,
            **common,
            "packages": list(packages[name]) + (list(app_extra_packages) if name == "app" else []),
            "debian_lock": None if lock_lines is None else debian_pins(lock_lines, name),
        }
        if name == "app":
            spec["suite"] = app_suite or spec["suite"]
            out[app_layer["base"]] = spec
            out["app"] = app_layer
        else:
            out[name] = spec
    return out


def project_path(path: str, app_src: str) -> str:
    """A file the inventory names relative to the project (djstack_app_src), or anywhere on
    the control node when the path is absolute."""
    return path if str(path).startswith("/") else f"{app_src}/{path}"


def hash_request(
    specs: dict[str, dict],
    runtime: str,
    files_dir: str,
    app_src: str,
    requirements_lock: str,
    exclude: list[str],
) -> dict[str, dict]:
    """What inputs.py hashes for each image's tag: its spec and the files it is made of.
    Every image has the build script and its overlay files; the runtime adds the project's
    requirements lock (its path, inside the project or not; not the source), the app layer
    the whole source, the lock and the runtime's spec, so a code change moves only the app's
    tag and a changed lock moves both."""
    request = {}
    for name, spec in specs.items():
        paths = [f"{files_dir}/build-image.py"]
        overlay = f"{files_dir}/{'app' if name == runtime else name}"
        # An overlay is optional, as stage.yml copies it only where it exists (base has none);
        # any other missing input stops inputs.py.
        if os.path.isdir(overlay):
            paths.append(overlay)
        if name == runtime:
            paths.append(project_path(requirements_lock, app_src))
        elif name == "app":
            # The lock too: the layer goes on the runtime it names, wherever the lock lives
            # (inside the source it is there twice, harmlessly).
            paths += [app_src, project_path(requirements_lock, app_src)]
            spec = {"layer": spec, "runtime": specs[runtime]}
        request[name] = {"spec": spec, "paths": paths, "exclude": list(exclude)}
    return request


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "images_build_specs": build_specs,
            "images_hash_request": hash_request,
            "images_project_path": project_path,
        }
