"""With images_registry set, images travel through a registry: an image the registry lacks
is built and pushed, a host lacking an image pulls it, and both give the same image ID."""

import json
import shutil
import subprocess
import urllib.request

import pytest
from conftest import wait_for

PORT = 15500


@pytest.fixture
def registry(host, stack, tmp_path):
    """Debian's docker-registry (installed by the scenario's prepare step) on 127.0.0.1."""
    if stack.flavour != "prod" or host.ansible.get_variables().get("ansible_connection") != "local":
        pytest.skip("the registry path is checked once, on the local engine of the prod scenario")
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: the scenario's prepare playbook installs it")
    config = {
        "version": 0.1,
        "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
        "http": {"addr": f"127.0.0.1:{PORT}"},
    }
    (tmp_path / "config.yml").write_text(json.dumps(config))
    log = (tmp_path / "registry.log").open("w")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(tmp_path / "config.yml")], stdout=log, stderr=log
    )

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{PORT}/v2/", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(answers, 30, "the registry to answer")
        yield f"127.0.0.1:{PORT}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_image_is_pushed_once_built_then_pulled_with_the_same_id(
    registry, playbook, docker, stack
) -> None:
    redis = stack.container("redis")
    ref = docker("inspect", "--format", "{{.Config.Image}}", redis).strip()
    image_id = docker("inspect", "--format", "{{.Image}}", redis).strip()
    mirrored = f"{registry}/{ref}"
    try:
        # The running container keeps its image; only the reference is gone.
        docker("image", "rm", "--force", ref)
        first = playbook("playbooks/images.yml", "-e", f"images_registry={registry}")
        output = first.stdout + first.stderr
        assert first.returncode == 0, output[-3000:]
        assert "Image is pushed for redis" in output, output[-3000:]
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id

        docker("image", "rm", "--force", ref, mirrored)
        second = playbook("playbooks/images.yml", "-e", f"images_registry={registry}")
        output = second.stdout + second.stderr
        assert second.returncode == 0, output[-3000:]
        assert "docker-archive is built for redis" not in output, "redis was rebuilt, not pulled"
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id
    finally:
        docker("image", "rm", mirrored, check=False)
