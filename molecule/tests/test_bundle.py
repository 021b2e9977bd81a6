"""`make bundle` writes one archive with the project, the control node's tool wheels and
every image; unpacked on the control node, it deploys the stack to a server whose network
has no route out (no mirror, no registry), which then serves healthy."""

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def local_docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert not check or result.returncode == 0, f"docker {args}: {result.stderr[-1500:]}"
    return result.stdout


@pytest.fixture(scope="module")
def server(host) -> str:
    """The remote scenario's server container, whose default route the test takes away."""
    name = host.ansible.get_variables().get("molecule_server_container")
    if not name:
        pytest.skip("the offline deploy is checked on a server reached over SSH (remote)")
    return name


def reaches_mirror(server: str) -> bool:
    probe = "import socket; socket.create_connection(('deb.debian.org', 80), 5)"
    result = subprocess.run(
        ["docker", "exec", server, "python3", "-c", probe], capture_output=True, check=False
    )
    return result.returncode == 0


def test_bundle_deploys_the_stack_on_a_server_with_no_route_out(
    server, playbook, docker, stack, http, request, tmp_path
) -> None:
    made = playbook("playbooks/bundle.yml", "-e", f"images_bundle_dest={tmp_path}")
    assert made.returncode == 0, (made.stdout + made.stderr)[-3000:]
    (archive,) = tmp_path.glob("djstack-*.tar")
    with tarfile.open(archive) as bundle:
        bundle.extractall(tmp_path, filter="tar")
    project = tmp_path / archive.stem

    # What the control node needs: a wheel for every pinned tool.
    wheels = {
        re.sub(r"[-_.]+", "-", w.name.split("-")[0]).lower() for w in (project / "wheels").iterdir()
    }
    pins = [
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        for line in (project / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    assert pins and not set(pins) - wheels, f"no wheel for {sorted(set(pins) - wheels)}"

    refs = sorted(
        docker("inspect", "--format", "{{.Config.Image}}", stack.container(service)).strip()
        for service in ("postgres", "redis", "nginx", "web")
    )
    with tarfile.open(project / "images.tar") as images:
        manifest = json.load(images.extractfile("manifest.json"))
    bundled = sorted(tag for entry in manifest for tag in entry["RepoTags"])
    assert set(refs) <= set(bundled), f"the bundle has {bundled}, the stack runs {refs}"

    gateway = local_docker("exec", server, "ip", "route", "show", "default").split()[2]
    containers = docker(
        "ps", "--all", "--quiet", "--filter", f"label=io.djstack.stack={stack.name}"
    ).split()
    try:
        local_docker("exec", server, "ip", "route", "del", "default")
        assert not reaches_mirror(server), "the server still reaches deb.debian.org"
        docker("rm", "--force", *containers)
        docker("image", "rm", *refs)

        deployed = subprocess.run(
            ["ansible-playbook", "site.yml", "-i", request.config.getoption("ansible_inventory")],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
            env={
                **os.environ,
                "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
                "ANSIBLE_ROLES_PATH": str(project / "roles"),
            },
        )
        output = deployed.stdout + deployed.stderr
        assert deployed.returncode == 0, output[-3000:]
        assert "Offline bundle's images are loaded into the engine" in output, output[-3000:]
        assert "reproducible docker-archive" not in output, "an image was built, not loaded"
        response = http("/readyz")
        assert response.status == 200, response.body[-500:]
        assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    finally:
        local_docker(
            "exec", server, "ip", "route", "replace", "default", "via", gateway, check=False
        )
