"""The roles deploy a project they were not written for: examples/bookshop has another
project name, a settings package, its own environment variable names, secrets read as URL
files, two queues with a worker group each and django-celery-beat's database scheduler.
examples/inventory deploys it with variables only, beside the scenario's stack."""

import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import checked_once, wait_for, websocket, ws_receive, ws_send

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "examples" / "inventory"
STACK = "bookshop"
HTTPS_PORT = 19443
PROJECT = ROOT / "examples" / "bookshop"
SERVICES = ("postgres", "redis", "search", "mail", "beat", "flower", "nginx")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)


def ansible_env() -> dict[str, str]:
    """The project's own Ansible settings (not Molecule's), without colour."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_FORCE_COLOR", None)
    return env


def deploy(*extra: str, playbook: str = "site.yml") -> subprocess.CompletedProcess:
    """Run a playbook (site.yml) on the example inventory with the project's own Ansible
    settings, returning stdout and stderr together with colour codes removed."""
    env = ansible_env()
    result = subprocess.run(
        ["ansible-playbook", playbook, "-i", str(INVENTORY), *extra],
        capture_output=True, text=True, check=False, cwd=ROOT, env=env,
    )  # fmt: skip
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    return subprocess.CompletedProcess(result.args, result.returncode, output, "")


def docker(*args: str) -> str:
    result = run("docker", *args)
    assert result.returncode == 0, f"docker {args}: {result.stderr[-1500:]}"
    return result.stdout


def labelled(kind: str) -> list[str]:
    extra = ["--all"] if kind == "container" else []
    label = f"label=io.djstack.stack={STACK}"
    return docker(kind, "ls", *extra, "--quiet", "--filter", label).split()


def web_container() -> str:
    label = [
        "--filter",
        f"label=io.djstack.stack={STACK}",
        "--filter",
        "label=io.djstack.service=web",
    ]
    names = docker("ps", *label, "--format", "{{.Names}}").split()
    assert len(names) == 1, f"expected one bookshop web container, found {names}"
    return names[0]


def in_project(code: str) -> str:
    """Run Python in the bookshop's web container, with its Celery app and Django set up."""
    prelude = "from config.celery_app import app\nimport django\ndjango.setup()\n"
    return docker("exec", web_container(), "python", "-c", prelude + code).strip()


@pytest.fixture(scope="module")
def bookshop(stack):
    checked_once(stack, "the example project")
    lock_before = (PROJECT / "requirements.lock").read_text()
    deployed = deploy()
    deployed.lock_before = lock_before
    try:
        assert deployed.returncode == 0, (deployed.stdout + deployed.stderr)[-4000:]
        yield deployed
    finally:
        # The stack's own verb: its containers, volumes, host files and watchdog all go.
        gone = deploy("-e", f"deploy_destroy_confirm={STACK}", "-e", "deploy_destroy_purge=true",
                      playbook="playbooks/destroy.yml")  # fmt: skip
        assert gone.returncode == 0, gone.stdout[-2000:]
        assert labelled("container") == labelled("volume") == [], "the example stack is not gone"


def test_no_role_names_the_reference_app() -> None:
    found = run("grep", "-rnE", r"myproject|apps\.core|apps/core", "roles", "--exclude-dir=defaults",
                "--exclude=argument_specs.yml")  # fmt: skip
    assert found.returncode == 1, f"roles mention the reference app:\n{found.stdout}"


def test_every_container_is_healthy_and_the_site_is_ready(bookshop) -> None:
    for service in SERVICES:
        health = docker("inspect", "--format", "{{.State.Health.Status}}", f"{STACK}-{service}")
        assert health.strip() == "healthy", f"{STACK}-{service} is {health.strip()}"
    context = ssl.create_default_context(cafile=f"/etc/djstack/{STACK}/tls/fullchain.pem")
    url = f"https://127.0.0.1:{HTTPS_PORT}/-/ready"
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        assert response.status == 200
        assert json.load(response) == {"ready": True}


def test_web_serves_the_asgi_app_and_nginx_passes_websocket_upgrades(bookshop) -> None:
    env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", web_container()))
    assert "GUNICORN_WORKER_CLASS=uvicorn_worker.UvicornWorker" in env, env
    assert "DJSTACK_ASGI_APP=config.asgi:application" in env, env
    payload = "hello from the bookshop test"
    with websocket(HTTPS_PORT, "/ws/echo/", f"/etc/djstack/{STACK}/tls/fullchain.pem") as echo:
        ws_send(echo, payload)
        assert ws_receive(echo) == payload


def test_the_project_reads_its_own_variable_names_and_no_secret_is_in_the_environment(
    bookshop,
) -> None:
    env = dict(
        line.split("=", 1)
        for line in json.loads(
            docker("inspect", "--format", "{{json .Config.Env}}", "bookshop-mail")
        )
    )
    assert env["SQL_HOST"] == "postgres" and env["SQL_DATABASE"] == "bookshop"
    assert env["CELERY_BROKER_FILE"] == "/run/secrets/redis_broker_url"
    assert not {"DATABASE_HOST", "REDIS_BROKER_URL", "DJANGO_DEBUG"} & set(env), (
        "reference app names leak"
    )
    secrets = [(INVENTORY / ".secrets" / name).read_text().strip()
               for name in ("postgres_password", "redis_password", "secret_key")]  # fmt: skip
    for value in env.values():
        assert not any(secret in value for secret in secrets), "a secret is in docker inspect"


def test_each_queue_is_served_by_its_own_worker_group(bookshop) -> None:
    result = in_project(
        "from catalog.tasks import reindex, send_receipt\n"
        "print(reindex.delay().get(timeout=30)['worker'], send_receipt.delay(7).get(timeout=30)['worker'])"
    )
    assert result.split() == ["bookshop-search", "bookshop-mail"]
    search = docker("inspect", "--format", "{{json .Config.Cmd}}", "bookshop-search")
    assert "--queues=search" in search and "--concurrency=2" in search


def test_beat_runs_the_schedule_from_the_database(bookshop) -> None:
    tasks = in_project(
        "from django_celery_beat.models import PeriodicTask\n"
        "print(*PeriodicTask.objects.values_list('name', flat=True))"
    )
    assert "heartbeat" in tasks.split(), (
        f"beat did not install its schedule in the database: {tasks}"
    )
    count = "from catalog.models import Heartbeat\nprint(Heartbeat.objects.count())"
    before = int(in_project(count))
    wait_for(lambda: int(in_project(count)) >= before + 2, 30, "two heartbeats sent by beat")


def flower(path: str, password: str | None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=f"/etc/djstack/{STACK}/tls/fullchain.pem")
    request = urllib.request.Request(f"https://127.0.0.1:{HTTPS_PORT}/flower/{path}")
    if password is not None:
        token = base64.b64encode(f"admin:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_flower_is_behind_basic_auth_at_flower_and_sees_every_worker_group(bookshop) -> None:
    password = (INVENTORY / ".secrets" / "flower_password").read_text().strip()
    assert flower("", None)[0] == 401, "Flower answered without a password"
    assert flower("", "not-" + password)[0] == 401, "Flower answered a wrong password"
    status, page = flower("", password)
    assert status == 200 and b"Flower" in page, (status, page[:300])
    status, body = flower("api/workers?refresh=1", password)
    assert status == 200, status
    assert sorted(json.loads(body)) == ["celery@bookshop-mail", "celery@bookshop-search"], body
    assert docker("port", f"{STACK}-flower").strip() == "", "Flower's port is published"


def test_a_requirement_without_a_wheel_compiles_and_the_build_packages_are_purged(
    bookshop,
) -> None:
    web = web_container()
    compiled = docker(
        "exec", web, "python", "-c", "import crcmod._crcfunext as m; print(m.__file__)"
    )
    assert compiled.strip().endswith(".so"), compiled
    for package in ("gcc", "libc6-dev", "python3-dev", "python3-setuptools", "binutils"):
        status = run("docker", "exec", web, "dpkg-query", "-W", "-f=${db:Status-Abbrev}", package)
        assert not status.stdout.startswith("ii"), f"build package {package} is left in the image"
    pyvenv = docker("exec", web, "cat", "/opt/venv/pyvenv.cfg")
    assert "include-system-site-packages = false" in pyvenv, pyvenv


def lock_header(requirements: Path, python: str = "3.13", *extra: str) -> str:
    """The first line djstack writes in the lock of requirements: the digest of each input
    of the resolution (the file, then overrides, constraints and the cut-off date)."""
    parts = [requirements.read_text(), *extra] + ([] if extra else [""])
    digest = hashlib.sha256(
        " ".join(hashlib.sha256(part.encode()).hexdigest() for part in parts).encode()
    ).hexdigest()
    return f"# Locked by djstack from {requirements.name} for Python {python} (sha256 {digest}); do not edit."


def test_the_lock_djstack_keeps_matches_the_unhashed_requirements_and_is_not_resolved_again(
    bookshop,
) -> None:
    lock = (PROJECT / "requirements.lock").read_text()
    assert lock.splitlines()[0] == lock_header(PROJECT / "requirements.in"), (
        "the committed lock was resolved from another requirements.in"
    )
    assert lock == bookshop.lock_before, "a deploy rewrote a lock that matched its input"
    assert "Requirements resolve to exact versions" not in bookshop.stdout, "it resolved again"
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==\S+ \\\n    --hash=sha256:[0-9a-f]{64}", lock, re.MULTILINE
    )
    assert {"django", "flower", "celery", "tornado"} <= {pin.lower() for pin in pins}, pins


def test_a_changed_requirements_file_is_locked_again_and_a_wrong_one_is_refused(
    bookshop, tmp_path
) -> None:
    """The images role's lock step alone, on a scratch project: no image is built."""
    project = tmp_path / "project"
    project.mkdir()
    requirements = project / "requirements.in"
    requirements.write_text("django==5.2.19\n")
    playbook = tmp_path / "lock.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: images, tasks_from: requirements}\n"
    )
    env = ansible_env()

    def lock() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ansible-playbook", str(playbook), "-i", "localhost,", "-c", "local",
             "-e", f"djstack_app_src={project}", "-e", "images_app_requirements=requirements.in",
             "-e", "images_app_requirements_lock=requirements.lock",
             "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"],
            capture_output=True, text=True, check=False, cwd=ROOT, env=env,
        )  # fmt: skip

    first = lock()
    assert first.returncode == 0, first.stdout[-3000:]
    written = (project / "requirements.lock").read_text()
    assert written.splitlines()[0] == lock_header(requirements)
    for package in ("django==5.2.19", "asgiref==", "sqlparse=="):
        assert re.search(
            rf"^{re.escape(package)}\S* \\\n    --hash=sha256:", written, re.MULTILINE
        ), package
    again = lock()
    assert again.returncode == 0 and re.search(r"localhost\s*:.*changed=0\s", again.stdout), (
        again.stdout[-1500:]
    )
    requirements.write_text("django==0.0.404\n")
    refused = lock()
    assert refused.returncode != 0
    assert "images_app_requirements (" in refused.stdout and "does not resolve" in refused.stdout, (
        refused.stdout[-2000:]
    )
    assert (project / "requirements.lock").read_text() == written, "a failed resolution wrote"


def test_a_project_from_git_deploys_the_requested_revision(bookshop, tmp_path) -> None:
    repo, checkout = tmp_path / "repo", tmp_path / "bookshop"
    shutil.copytree(PROJECT, repo, ignore=shutil.ignore_patterns("__pycache__"))

    def git(*args: str) -> str:
        result = run(
            "git", "-C", str(repo), "-c", "user.name=djstack", "-c", "user.email=t@djstack", *args
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    git("init", "--quiet")
    git("add", "--all")
    git("commit", "--quiet", "--message", "the bookshop as deployed")
    deployed = git("rev-parse", "HEAD")
    with (repo / "catalog" / "views.py").open("a") as views:
        views.write("\n# a later commit, not to be deployed\n")
    git("commit", "--quiet", "--all", "--message", "later")
    source = ["-e", f"djstack_app_git_repo={repo}", "-e", f"djstack_app_git_checkout={checkout}",
              "-e", "djstack_app_src={{ djstack_app_git_checkout }}"]  # fmt: skip

    images = deploy(
        *source, "-e", f"djstack_app_git_version={deployed}", playbook="playbooks/images.yml"
    )
    assert images.returncode == 0, images.stdout[-3000:]
    assert run("git", "-C", str(checkout), "rev-parse", "HEAD").stdout.strip() == deployed
    # The checkout at that commit is the tree the running stack was built from: same image.
    assert "reproducible docker-archive" not in images.stdout, "the checkout built another image"

    missing = deploy(
        *source, "-e", "djstack_app_git_version=no-such-revision", playbook="playbooks/images.yml"
    )
    assert missing.returncode != 0
    assert "djstack_app_git_version ('no-such-revision')" in missing.stdout, missing.stdout[-2000:]


def test_a_second_run_changes_nothing(bookshop) -> None:
    """Through every role (verbose, and no secret in what it prints), and as a rerun does by
    default: ending after the first play."""
    secrets = [(INVENTORY / ".secrets" / name).read_text().strip()
               for name in ("postgres_password", "redis_password", "secret_key", "flower_password")]  # fmt: skip
    for extra in (("-e", "deploy_skip_unchanged=false", "-vvv"), ()):
        again = deploy(*extra)
        assert again.returncode == 0, again.stdout[-3000:]
        assert re.search(r"localhost\s*:.*changed=0\s", again.stdout), again.stdout[-1500:]
        assert not any(secret in again.stdout for secret in secrets), "a secret is in the output"
    assert "is as its last complete deploy" in again.stdout, again.stdout[-1500:]


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("djstack_app_celery=config.nope", "djstack_app_celery"),
        ("djstack_app_settings_module=config.settings.missing", "djstack_app_settings_module"),
    ],
)
def test_a_wrong_project_path_stops_the_deploy_naming_it_before_anything_changes(
    bookshop, setting, named
) -> None:
    running = docker(
        "ps", "--quiet", "--no-trunc", "--filter", f"label=io.djstack.stack={STACK}"
    ).split()
    failed = deploy("-e", setting)
    assert failed.returncode != 0
    assert f"{named}: the " in failed.stdout and "does not load" in failed.stdout, failed.stdout[
        -2000:
    ]
    after = docker(
        "ps", "--quiet", "--no-trunc", "--filter", f"label=io.djstack.stack={STACK}"
    ).split()
    assert sorted(after) == sorted(running), "a container changed although the project did not load"
