"""A project written the way most are: examples/gallery reads plain environment variables
with secrets and broker URLs with passwords in them, splits ALLOWED_HOSTS on spaces, keeps
STATIC_ROOT, MEDIA_ROOT and a log file under its own directory, pins loosely, runs Channels
over Redis, uploads images that a Celery task thumbnails, and has no health endpoint.
examples/gallery-inventory deploys it with variables only, beside any other stack, from a
copy of the inventory (its secrets, lock and Debian lock), so the tests change no file of
the repository; and every run goes through the collection djstack.stack, built by `make
collection`'s script and installed elsewhere, from outside the repository (#31)."""

import hashlib
import json
import os
import re
import shutil
import ssl
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
import zlib
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from conftest import checked_once, wait_for, websocket, ws_receive

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "examples" / "gallery-inventory"
PROJECT = ROOT / "examples" / "gallery"
STACK = "gallery"
HTTPS_PORT = 20443
SERVICES = ("postgres", "redis", "worker", "beat", "nginx")
SECRETS = ("secret_key", "postgres_password", "redis_password")


class Gallery:
    """The deployed gallery: its inventory copy, and how to talk to it."""

    def __init__(self, inventory: Path, collections: Path) -> None:
        self.inventory = inventory
        self.collections = collections
        self.cafile = f"/etc/djstack/{STACK}/tls/fullchain.pem"
        self.jar = CookieJar()

    @property
    def opener(self) -> urllib.request.OpenerDirector:
        """HTTPS that trusts only the gallery's own certificate (made by its first deploy)."""
        context = ssl.create_default_context(cafile=self.cafile)
        return urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.jar),
        )

    def deploy(self, *extra: str, playbook: str = "site") -> subprocess.CompletedProcess:
        """A playbook of the installed collection (djstack.stack.<playbook>), or a file, run
        from the inventory's directory with none of the repository's Ansible settings."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=f"{self.collections}:{ROOT / '.collections'}",
            ANSIBLE_NOCOLOR="1",
        )
        name = playbook if playbook.endswith(".yml") else f"djstack.stack.{playbook}"
        result = subprocess.run(
            ["ansible-playbook", name, "-i", str(self.inventory / "hosts.yml"),
             "-e", f"djstack_app_src={PROJECT}", *extra],
            capture_output=True, text=True, check=False, cwd=self.inventory, env=env,
        )  # fmt: skip
        output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
        return subprocess.CompletedProcess(result.args, result.returncode, output, "")

    def secrets(self) -> list[str]:
        return [(self.inventory / ".secrets" / name).read_text().strip() for name in SECRETS]

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        url = f"https://127.0.0.1:{HTTPS_PORT}{path}"
        try:
            with self.opener.open(url, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def upload(self, title: str, image: bytes) -> int:
        """The upload form as a browser sends it (CSRF cookie and token, same-origin
        Referer); the id of the new photo, from the redirect to its page."""
        status, _, page = self.get("/")
        assert status == 200, page[:500]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in (("csrfmiddlewaretoken", token), ("title", title))
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{title}.png"\r\n'
            f"Content-Type: image/png\r\n\r\n".encode()
            + image
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        origin = f"https://127.0.0.1:{HTTPS_PORT}"
        request = urllib.request.Request(
            f"{origin}/upload/", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": f"{origin}/"},
        )  # fmt: skip
        with self.opener.open(request, timeout=30) as response:
            found = re.search(r"/photos/(\d+)/$", response.url)
            assert response.status == 200 and found, (response.status, response.url)
            return int(found.group(1))

    def media_of(self, photo: int) -> dict[str, str]:
        """The media URLs of a photo's page: image, and thumbnail once the worker made it."""
        status, _, page = self.get(f"/photos/{photo}/")
        assert status == 200, page[:300]
        found = re.findall(rb'<p id="(\w+)"><img src="([^"]+)"', page)
        return {key.decode(): value.decode() for key, value in found}


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert not check or result.returncode == 0, f"docker {args}: {result.stderr[-1500:]}"
    return result.stdout


def containers(service: str = "") -> list[str]:
    filters = ["--filter", f"label=io.djstack.stack={STACK}"]
    if service:
        filters += ["--filter", f"label=io.djstack.service={service}"]
    return docker("ps", "--all", "--format", "{{.Names}}", *filters).split()


def web() -> str:
    names = [
        n
        for n in containers("web")
        if docker("inspect", "-f", "{{.State.Running}}", n).strip() == "true"
    ]
    assert len(names) == 1, f"expected one running gallery web container, found {names}"
    return names[0]


def png(seed: int) -> bytes:
    """A 64 x 64 RGB PNG, different for each seed, made without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\0" + bytes((x * 4 + seed) % 256 for x in range(64)) * 3 for _ in range(64))
    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def gallery(stack, tmp_path_factory):
    checked_once(stack, "the gallery example")
    inventory = tmp_path_factory.mktemp("gallery") / "inventory"
    shutil.copytree(INVENTORY, inventory, ignore=shutil.ignore_patterns(".secrets"))
    built = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "roles/deploy/files/build-collection.py", str(built)], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    collections = tmp_path_factory.mktemp("collections")
    subprocess.run(["ansible-galaxy", "collection", "install", *map(str, built.glob("*.tar.gz")), "-p",
                    str(collections), "--no-deps"], cwd=collections, check=True, capture_output=True)  # fmt: skip
    site = Gallery(inventory, collections)
    site.deployed = site.deploy()
    try:
        assert site.deployed.returncode == 0, site.deployed.stdout[-5000:]
        yield site
    finally:
        # The stack's own verb: its containers, volumes, host files and watchdog all go.
        gone = site.deploy("-e", f"deploy_destroy_confirm={STACK}", "-e", "deploy_destroy_purge=true",
                           playbook="destroy")  # fmt: skip
        assert gone.returncode == 0, gone.stdout[-2000:]


def test_the_committed_locks_deploy_as_they_are(gallery) -> None:
    for name in ("requirements.lock", "debian.lock"):
        assert (gallery.inventory / name).read_text() == (INVENTORY / name).read_text(), (
            f"the deploy rewrote {name}: the committed one no longer matches its inputs"
        )
    # Not resolved again: the task is skipped (printed as such without this repository's
    # ansible.cfg, which hides skipped hosts).
    resolved = re.search(
        r"TASK \[[^\]]*Requirements resolve to exact versions[^\n]*\n(.*?)(?=\nTASK |\nPLAY |\Z)",
        gallery.deployed.stdout,
        re.DOTALL,
    )
    assert not resolved or not re.search(r"^(ok|changed):", resolved.group(1), re.MULTILINE), (
        resolved.group(0)[:500]
    )
    django = docker(
        "exec",
        web(),
        "python3",
        "-c",
        "import django, sys; print(django.get_version(), sys.version_info[:2])",
    )
    assert django.split()[0] == "5.2.18", f"the inventory's override did not win: {django}"
    assert "(3, 11)" in django, f"not Debian 12's Python: {django}"


def test_every_container_is_healthy_and_djstacks_probe_checks_the_projects_services(
    gallery,
) -> None:
    for name in [f"{STACK}-{service}" for service in SERVICES] + [web()]:
        health = docker("inspect", "--format", "{{.State.Health.Status}}", name).strip()
        assert health == "healthy", f"{name} is {health}"
    status, _, body = gallery.get("/-/djstack/ready")
    assert status == 200 and json.loads(body) == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }, body
    status, _, page = gallery.get("/")
    assert status == 200 and b"<h1>Gallery" in page, page[:300]


def test_secrets_reach_the_project_as_its_plain_variables_and_never_docker_inspect(gallery) -> None:
    secret_key, db_password, redis_password = gallery.secrets()
    for name in containers():
        env = docker("inspect", "--format", "{{json .Config.Env}}", name)
        assert not any(value in env for value in gallery.secrets()), (
            f"a secret is in docker inspect of {name}"
        )
        assert not re.search(r'"(SECRET_KEY|DB_PASSWORD|CELERY_BROKER_URL|REDIS_URL)=', env), env
    # The process environment of gunicorn's master, as the project sees it.
    environ = docker("exec", web(), "python3", "-c",
                     "import glob; print([open(p, 'rb').read() for p in glob.glob('/proc/[0-9]*/environ')"
                     " if b'gunicorn' in open(p.replace('environ', 'cmdline'), 'rb').read()][0])")  # fmt: skip
    assert f"SECRET_KEY={secret_key}" in environ and f"DB_PASSWORD={db_password}" in environ
    assert re.search(rf"CELERY_BROKER_URL=redis://app:{redis_password}@redis:6379/0", environ), (
        environ[:300]
    )
    assert "ALLOWED_HOSTS=localhost 127.0.0.1" in environ and "DEBUG=False" in environ


def test_an_upload_is_stored_thumbnailed_by_the_worker_announced_over_channels_and_served(
    gallery,
) -> None:
    image = png(7)
    with websocket(HTTPS_PORT, "/ws/photos/", gallery.cafile) as feed:
        photo = gallery.upload("heron", image)
        event = json.loads(ws_receive(feed, timeout=60))
    assert event["id"] == photo and event["thumbnail"].startswith("/media/thumbs/"), event
    media = gallery.media_of(photo)
    status, headers, served = gallery.get(media["image"])
    assert status == 200 and hashlib.sha256(served).hexdigest() == hashlib.sha256(image).hexdigest()
    assert headers.get("X-Content-Type-Options") == "nosniff", headers
    assert "sandbox" in headers.get("Content-Security-Policy", ""), headers
    status, _, thumbnail = gallery.get(event["thumbnail"])
    assert status == 200 and thumbnail[:2] == b"\xff\xd8", "the thumbnail is no JPEG"
    log = docker("exec", web(), "cat", "/app/logs/gallery.log")
    assert f"uploaded photo {photo}" in log, log[-500:]


def test_an_upload_survives_a_restart_of_web_and_worker(gallery) -> None:
    photo = gallery.upload("egret", png(11))
    before = gallery.get(gallery.media_of(photo)["image"])[2]
    docker("restart", web(), f"{STACK}-worker")
    wait_for(lambda: gallery.get("/-/djstack/ready")[0] == 200, 90, "web ready after its restart")
    assert gallery.get(gallery.media_of(photo)["image"])[2] == before


def test_uploads_come_back_after_backup_wipe_and_restore_with_identical_checksums(gallery) -> None:
    photo = gallery.upload("stork", png(23))
    wait_for(lambda: "thumbnail" in gallery.media_of(photo), 60, "the stork's thumbnail")
    media = gallery.media_of(photo)
    digests = {key: hashlib.sha256(gallery.get(url)[2]).hexdigest() for key, url in media.items()}
    backup = gallery.deploy(playbook="backup")
    assert backup.returncode == 0, backup.stdout[-3000:]
    # By name: the fresh deploy below backs its empty database up before migrating it.
    taken = re.search(r'"backup": "[^"]*/(gallery-[^"/]+\.dump)"', backup.stdout).group(1)
    drill = gallery.deploy(playbook="backup_verify")
    assert drill.returncode == 0 and re.search(r'"uploads \(files\)": [1-9]', drill.stdout), (
        drill.stdout[-3000:]
    )
    for name in containers():
        docker("rm", "--force", name)
    docker("volume", "rm", f"{STACK}-media", f"{STACK}-pgdata")
    fresh = gallery.deploy()
    assert fresh.returncode == 0, fresh.stdout[-3000:]
    assert gallery.get(media["image"])[0] == 404, "the uploads survived the wipe"
    restored = gallery.deploy("-e", f"postgres_restore_confirm={STACK}", "-e", f"postgres_backup_name={taken}",
                              playbook="restore")  # fmt: skip
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert gallery.media_of(photo) == media
    assert {
        key: hashlib.sha256(gallery.get(url)[2]).hexdigest() for key, url in media.items()
    } == digests


def test_with_the_database_stopped_the_probe_names_it_and_web_is_not_switched_to(gallery) -> None:
    serving = web()
    held = f"/var/lib/djstack/{STACK}/held"
    Path(held).mkdir(parents=True, exist_ok=True)
    (Path(held) / f"{STACK}-postgres").touch()
    docker("stop", f"{STACK}-postgres")
    try:
        status, _, body = gallery.get("/-/djstack/ready")
        assert status == 503 and json.loads(body)["database"].startswith("OperationalError"), body
        play = gallery.inventory / "web-only.yml"
        play.write_text(
            "- hosts: web\n  gather_facts: false\n  roles: [djstack.stack.django_web]\n"
        )
        image = docker("inspect", "--format", "{{.Config.Image}}", serving).strip()
        refused = gallery.deploy("-e", f"djstack_app_image={image}", "-e", "django_web_threads=3",
                                 "-e", "django_web_ready_retries=5", "-e", '{"django_web_release_steps": []}',
                                 playbook=str(play))  # fmt: skip
        assert refused.returncode != 0
        # The message is JSON in Ansible's output: the probe's body has its quotes escaped.
        assert re.search(
            r'last answered: 503 \{\\?"database\\?": \\?"OperationalError', refused.stdout
        ), refused.stdout[-3000:]
        assert "names the check that failed" in refused.stdout
        assert web() == serving, "a web container that was not ready took over"
    finally:
        (Path(held) / f"{STACK}-postgres").unlink()
        docker("start", f"{STACK}-postgres")
    wait_for(lambda: gallery.get("/-/djstack/ready")[0] == 200, 60, "the database back")


def test_only_a_changed_lock_moves_the_app_image_and_deploys_its_packages(
    gallery, tmp_path
) -> None:
    """A lock outside the project: changing nothing but it builds a new image that runs the
    locked packages; the next run changes nothing."""
    lock = gallery.inventory / "requirements.lock"
    header, _, _ = lock.read_text().partition("\n")
    (tmp_path / "overrides.txt").write_text("django==5.2.17\n")
    resolved = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--generate-hashes", "--no-header", "--native-tls",
         "--python-version=3.11", "--python-platform=x86_64-manylinux_2_28", str(PROJECT / "requirements.txt"),
         f"--overrides={tmp_path / 'overrides.txt'}", "--exclude-newer=2026-11-01"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    image = docker("inspect", "--format", "{{.Config.Image}}", web()).strip()
    photo = gallery.upload("ibis", png(31))
    uploaded = gallery.get(gallery.media_of(photo)["image"])[2]
    lock.write_text(f"{header}\n{resolved.stdout}")
    moved = gallery.deploy()
    assert moved.returncode == 0, moved.stdout[-3000:]
    assert docker("inspect", "--format", "{{.Config.Image}}", web()).strip() != image
    assert gallery.get(gallery.media_of(photo)["image"])[2] == uploaded, (
        "an upload was lost by a redeploy"
    )
    version = docker("exec", web(), "python3", "-c", "import django; print(django.get_version())")
    assert version.strip() == "5.2.17", version
    again = gallery.deploy("-vvv")
    assert again.returncode == 0 and re.search(r"localhost\s*:.*changed=0\s", again.stdout), (
        again.stdout[-2000:]
    )
    assert not any(value in again.stdout for value in gallery.secrets()), (
        "a secret is in the -vvv output"
    )
