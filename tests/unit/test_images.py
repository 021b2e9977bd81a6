"""The images role's Python: build specs, input hashes, archives and the image builder."""

import hashlib
import json
import tarfile

import pytest
from conftest import load

filters = load("roles/images/filter_plugins/images_filters.py")
inputs = load("roles/images/files/inputs.py")
build = load("roles/images/files/build-image.py")

SPECS = {"redis": {"config": {"Cmd": ["redis-server"]}}, "app": {"config": {"Cmd": ["web"]}}}
LAYER = {"name": "app", "base": "app-runtime", "config": {"Cmd": ["web"]}}
COMMON = {"suite": "trixie", "mirror": "http://m", "source_date_epoch": 1}
PACKAGES = {"redis": ["redis-server"], "app": ["python3"]}


def test_the_app_is_a_runtime_build_plus_a_source_layer_with_its_locked_packages() -> None:
    lock = [
        ["redis", "redis-server", "8.0.2-1"],
        ["app", "python3", "3.13.5-1"],
        ["app", "libx", "1"],
    ]
    specs = filters.build_specs(["redis", "app"], SPECS, LAYER, PACKAGES, COMMON, lock, ["libpq5"])
    assert set(specs) == {"redis", "app-runtime", "app"}
    assert specs["redis"]["debian_lock"] == {"redis-server": "8.0.2-1"}
    assert specs["app-runtime"]["name"] == "app-runtime"
    assert specs["app-runtime"]["packages"] == ["python3", "libpq5"]
    assert specs["app-runtime"]["debian_lock"] == {"python3": "3.13.5-1", "libx": "1"}
    assert specs["app"] is LAYER


def test_without_a_lock_the_builds_are_unpinned() -> None:
    specs = filters.build_specs(["redis"], SPECS, LAYER, PACKAGES, COMMON, None)
    assert specs["redis"]["debian_lock"] is None


def test_only_the_app_layer_hashes_the_source_and_the_runtime_only_the_lock(tmp_path) -> None:
    files = tmp_path / "files"
    (files / "app").mkdir(parents=True)
    specs = filters.build_specs(["app"], SPECS, LAYER, PACKAGES, COMMON, [])
    request = filters.hash_request(specs, "app-runtime", str(files), "/src", "req.lock", ["media"])
    assert request["app-runtime"]["paths"] == [
        f"{files}/build-image.py",
        f"{files}/app",
        "/src/req.lock",
    ]
    assert request["app"]["paths"] == [
        f"{files}/build-image.py",
        f"{files}/app",
        "/src",
        "/src/req.lock",
    ]
    elsewhere = filters.hash_request(specs, "app-runtime", str(files), "/src", "/inv/req.lock", [])
    assert elsewhere["app"]["paths"][-1] == elsewhere["app-runtime"]["paths"][-1] == "/inv/req.lock"
    assert request["app"]["spec"] == {"layer": LAYER, "runtime": specs["app-runtime"]}
    assert request["app"]["exclude"] == ["media"]


def test_an_image_without_overlay_files_hashes_its_spec_and_build_script(tmp_path) -> None:
    # base is Debian's minbase alone; make reproducible failed when its absent overlay was
    # required as an input.
    (tmp_path / "redis").mkdir()
    specs = {"base": {"config": {}}, "redis": {"config": {}}}
    request = filters.hash_request(specs, "app-runtime", str(tmp_path), "/src", "req.lock", [])
    assert request["base"]["paths"] == [f"{tmp_path}/build-image.py"]
    assert request["redis"]["paths"] == [f"{tmp_path}/build-image.py", f"{tmp_path}/redis"]


def test_a_tree_hash_ignores_caches_and_excluded_names_but_not_content(tmp_path) -> None:
    (tmp_path / "a.py").write_text("x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"1")
    (tmp_path / "media").mkdir()
    first = inputs.tree_hash([str(tmp_path)], ["media"])
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"2")
    (tmp_path / "media" / "f").write_text("upload")
    assert inputs.tree_hash([str(tmp_path)], ["media"]) == first
    (tmp_path / "a.py").write_text("y")
    assert inputs.tree_hash([str(tmp_path)], ["media"]) != first


def test_a_packed_source_is_the_same_bytes_whatever_the_times_and_umask(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "manage.py").write_text("print()")
    (src / "manage.py").chmod(0o700)
    (src / "b.txt").write_text("b")
    inputs.command_pack(str(src), str(tmp_path / "one.tar"), [])
    (src / "b.txt").touch()
    (src / "b.txt").chmod(0o600)
    inputs.command_pack(str(src), str(tmp_path / "two.tar"), [])
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as archive:
        members = {m.name: (m.mode, m.mtime, m.uid) for m in archive.getmembers()}
    assert members == {"b.txt": (0o644, 0, 0), "manage.py": (0o755, 0, 0)}


def test_a_build_that_differs_from_the_lock_names_each_package_and_the_way_out() -> None:
    spec = {"name": "redis", "mirror": "http://m", "suite": "trixie"}
    with pytest.raises(SystemExit) as stopped:
        build.check_lock(
            spec, {"redis-server": "1", "gone": "2"}, {"redis-server": "3", "new": "4"}
        )
    message = str(stopped.value)
    assert "image redis: Debian packages differ from the lock file (images_debian_lock)" in message
    assert "redis-server is locked at 1, but the mirror gave 3" in message
    assert "gone is locked at 2 but was not installed" in message
    assert "new 4 is installed but not in the lock" in message
    assert "make lock" in message and "snapshot.debian.org" in message
    build.check_lock(spec, {"a": "1"}, {"a": "1"})


def test_apt_pins_hold_every_locked_version(tmp_path) -> None:
    build.write_pins({"b": "2", "a": "1"}, tmp_path / "pins")
    assert (tmp_path / "pins").read_text() == (
        "Package: a\nPin: version 1\nPin-Priority: 1001\n\n"
        "Package: b\nPin: version 2\nPin-Priority: 1001\n\n"
    )


def test_a_docker_archive_of_the_same_layer_and_spec_is_bit_identical(tmp_path) -> None:
    layer = tmp_path / "layer.tar"
    layer.write_bytes(b"layer-bytes" * 100)
    spec = {
        "source_date_epoch": 1735689600,
        "config": {"Cmd": ["x"]},
        "name": "x",
        "ref": "djstack/x:1",
    }
    first = build.write_docker_archive(spec, layer, tmp_path / "one.tar")
    second = build.write_docker_archive(spec, layer, tmp_path / "two.tar")
    assert first == second
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as archive:
        config = archive.extractfile(f"{first.removeprefix('sha256:')}.json").read()
    assert f"sha256:{hashlib.sha256(config).hexdigest()}" == first
    assert json.loads(config)["created"] == "2025-01-01T00:00:00Z"


def test_the_source_layer_gives_the_apps_mount_points_to_its_user(tmp_path) -> None:
    src = tmp_path / "src"
    (src / "static").mkdir(parents=True)
    (src / "manage.py").write_text("print()")
    inputs.command_pack(str(src), str(tmp_path / "app.tar"), [])
    spec = {"name": "app", "source_date_epoch": 1, "tar_in": {"app.tar": "/app"},
            "owned": {"uid": 10001, "dirs": ["/app/static", "/app/mediafiles", "/srv/uploads/"]}}  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    build.source_layer(spec, tmp_path, scratch, tmp_path / "layer.tar")
    with tarfile.open(tmp_path / "layer.tar") as archive:
        members = {m.name: (m.uid, m.isdir()) for m in archive.getmembers()}
    assert members["app/static"] == members["app/mediafiles"] == (10001, True)
    assert members["srv/uploads"] == (10001, True)
    assert members["app"] == members["srv"] == (0, True) and members["app/manage.py"] == (0, False)
