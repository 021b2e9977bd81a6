"""With images_registry set, images travel through a registry: an image the registry lacks
is built and pushed and its digest recorded; a host lacking an image pulls it by that digest
(a tag moved in the registry is not deployed), and the stack deploys from it."""

import json
import shutil
import subprocess
import urllib.request

import pytest
from conftest import checked_once, wait_for

PORT = 15500


@pytest.fixture
def registry(host, stack, tmp_path):
    """Debian's docker-registry (installed by the scenario's prepare step) on 127.0.0.1."""
    checked_once(stack, "the registry path")
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


def test_image_is_pushed_once_built_then_pulled_by_digest_and_deployed(
    registry, playbook, docker, stack, http, tmp_path
) -> None:
    redis = stack.container("redis")
    ref = docker("inspect", "--format", "{{.Config.Image}}", redis).strip()
    image_id = docker("inspect", "--format", "{{.Image}}", redis).strip()
    mirrored = f"{registry}/{ref}"
    digests = tmp_path / "registry-digests.lock"
    extra = ["-e", f"images_registry={registry}", "-e", f"images_registry_digests={digests}"]
    try:
        # The running container keeps its image; only the reference is gone.
        docker("image", "rm", "--force", ref)
        first = playbook("playbooks/images.yml", *extra)
        output = first.stdout + first.stderr
        assert first.returncode == 0, output[-3000:]
        assert "Image is pushed for redis" in output, output[-3000:]
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id
        pushed = docker("image", "inspect", "--format", "{{json .RepoDigests}}", mirrored)
        lines = digests.read_text().splitlines()
        assert [line.split()[0] for line in lines] == [mirrored], lines
        digest = lines[0].split()[1]
        assert f"@{digest}" in pushed, f"recorded {digest}, the engine knows {pushed}"

        # Someone moves the tag in the registry to another image: pulls must not follow it.
        nginx_ref = docker("inspect", "--format", "{{.Config.Image}}", stack.container("nginx"))
        docker("image", "tag", nginx_ref.strip(), mirrored)
        docker("image", "push", mirrored)

        # The host loses the image and its container; the stack is deployed from the registry.
        docker("rm", "--force", redis)
        docker("image", "rm", "--force", ref, mirrored)
        docker("image", "rm", "--force", image_id, check=False)
        second = playbook("site.yml", *extra)
        output = second.stdout + second.stderr
        assert second.returncode == 0, output[-3000:]
        assert "reproducible docker-archive" not in output, "an image was rebuilt, not pulled"
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id
        assert docker("inspect", "--format", "{{.Image}}", redis).strip() == image_id
        health = docker("inspect", "--format", "{{.State.Health.Status}}", redis).strip()
        assert health == "healthy", f"redis is {health} after the deploy from the registry"
        response = http("/readyz")
        assert response.status == 200, response.body[-500:]
        assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    finally:
        docker("image", "rm", mirrored, check=False)
