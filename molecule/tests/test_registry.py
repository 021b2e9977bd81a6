"""With images_registry set, images travel through a registry: an image the registry lacks
is built and pushed and its digest recorded; a host lacking an image pulls it by that digest
(a tag moved in the registry is not deployed), and the stack deploys from it."""

import json
import shutil
import subprocess
import urllib.request

import pytest
from conftest import checked_once, health, wait_for

PORT = 15500
# The engine is shared with the other lane's stacks (dev, the examples), which run the same
# images: the test removes only references of its own repository, so no image goes from
# under another deploy.
REPOSITORY = "djstack-registry-test"


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


def own_references(docker) -> list[str]:
    """Every djstack image on the engine, tagged again under the test's own repository."""
    own = []
    listed = docker(
        "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=djstack/*"
    )
    for ref in listed.split():
        own.append(f"{REPOSITORY}/{ref.split('/', 1)[1]}")
        docker("image", "tag", ref, own[-1])
    return own


def test_image_is_pushed_once_built_then_pulled_by_digest_and_deployed(
    registry, playbook, docker, stack, http, tmp_path
) -> None:
    redis = stack.container("redis")
    image_id = docker("inspect", "--format", "{{.Image}}", redis).strip()
    shared = docker("inspect", "--format", "{{.Config.Image}}", redis).strip()
    own = own_references(docker)
    ref = f"{REPOSITORY}/{shared.split('/', 1)[1]}"
    mirrored = f"{registry}/{ref}"
    digests = tmp_path / "registry-digests.lock"
    pinned = []  # the reference the pull by digest leaves, once the digest is known
    extra = [
        *("-e", f"images_registry={registry}", "-e", f"images_registry_digests={digests}"),
        *("-e", f"images_repository={REPOSITORY}"),
    ]
    try:
        # The running container keeps its image; only the test's reference is gone.
        docker("image", "rm", ref)
        first = playbook("playbooks/images.yml", *extra)
        output = first.stdout + first.stderr
        assert first.returncode == 0, output[-3000:]
        assert "Image is pushed for redis" in output, output[-3000:]
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id
        pushed = docker("image", "inspect", "--format", "{{json .RepoDigests}}", mirrored)
        lines = digests.read_text().splitlines()
        assert [line.split()[0] for line in lines] == [mirrored], lines
        digest = lines[0].split()[1]
        pinned.append(f"{registry}/{ref.split(':')[0]}@{digest}")
        assert f"@{digest}" in pushed, f"recorded {digest}, the engine knows {pushed}"

        # Someone moves the tag in the registry to another image: pulls must not follow it.
        nginx_ref = docker("inspect", "--format", "{{.Config.Image}}", stack.container("nginx"))
        docker("image", "tag", nginx_ref.strip(), mirrored)
        docker("image", "push", mirrored)

        # The host loses the image's references and the container; the stack is deployed
        # from the registry. (The image stays under its shared reference.)
        docker("rm", "--force", redis)
        docker("image", "rm", ref, mirrored)
        second = playbook("site.yml", *extra)
        output = second.stdout + second.stderr
        assert second.returncode == 0, output[-3000:]
        assert "reproducible docker-archive" not in output, "an image was rebuilt, not pulled"
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id
        assert docker("inspect", "--format", "{{.Image}}", redis).strip() == image_id
        status = health(docker, redis)
        assert status == "healthy", f"redis is {status} after the deploy from the registry"
        response = http("/readyz")
        assert response.status == 200, response.body[-500:]
        assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    finally:
        # Back on the shared references: a container whose image name changed is replaced
        # (community.docker's image_name_mismatch), which the next checks must not see.
        restored = playbook("site.yml")
        docker("image", "rm", mirrored, *pinned, *own, check=False)
        assert restored.returncode == 0, (restored.stdout + restored.stderr)[-3000:]
