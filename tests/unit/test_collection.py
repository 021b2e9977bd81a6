"""`make collection` and `init`, without Docker: the collection builds to the same bytes
twice, installs, and from another directory its init writes deploy/ into a copy of the
gallery example, changes nothing the second time, keeps an edited file, and the written dev
inventory passes the collection's own first play (every input checked)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("ansible-playbook") is None, reason="needs .venv/bin on PATH"
)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> dict:
    built = [
        json.loads(run(sys.executable, "roles/deploy/files/build-collection.py", str(tmp_path_factory.mktemp(f"out{i}")), cwd=ROOT).stdout)
        for i in (1, 2)
    ]  # fmt: skip
    assert built[0]["sha256"] == built[1]["sha256"], "two builds of one tree differ"
    installed = tmp_path_factory.mktemp("collections")
    run(
        "ansible-galaxy",
        "collection",
        "install",
        built[0]["collection"],
        "-p",
        str(installed),
        "--no-deps",
        cwd=installed,
    )
    return {**built[0], "path": installed}


def test_the_collection_is_versioned_from_git_and_holds_the_playbooks(collection) -> None:
    assert re.fullmatch(r"0\.1\.0(-dev\.\d+\+g[0-9a-f]{10}(\.dirty)?)?", collection["version"]), (
        collection
    )
    root = collection["path"] / "ansible_collections" / "djstack" / "stack"
    for playbook in ("site", "rollback", "backup", "backup_verify", "restore", "status", "init",
                     "destroy"):  # fmt: skip
        assert (root / "playbooks" / f"{playbook}.yml").is_file(), playbook
    # Ansible finds a collection's playbook only by a name without hyphens.
    names = [path.stem for path in (root / "playbooks").glob("*.yml")]
    assert all(name.isidentifier() for name in names), names
    imported = re.findall(r"import_playbook: (\S+)", "".join(
        path.read_text() for path in (root / "playbooks").glob("*.yml")))  # fmt: skip
    assert all((root / "playbooks" / name).is_file() for name in imported), imported
    assert not list(root.glob("roles/*/*_plugins")), "roles in a collection may not carry plugins"
    # The deploy profile is enabled by its full name, djstack.stack.deploy_profile.
    assert (root / "plugins" / "callback" / "deploy_profile.py").is_file()


def test_init_writes_a_deploy_directory_that_the_first_play_accepts(collection, tmp_path) -> None:
    project = tmp_path / "gallery"
    shutil.copytree(ROOT / "examples" / "gallery", project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": f"{collection['path']}:{ROOT / '.collections'}",
           "ANSIBLE_NOCOLOR": "1"}  # fmt: skip
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("ANSIBLE_ROLES_PATH", None)
    init = ["ansible-playbook", "djstack.stack.init", "-e", f"deploy_init_project={project}"]
    run(*init, cwd=elsewhere, env=env)
    written = (project / "deploy" / "project.yml").read_text()
    for line in (
        "djstack_app_settings_module: gallery.settings",
        'djstack_app_asgi: "gallery.asgi:application"',
        "djstack_app_media_root: /app/mediafiles",
        "  SECRET_KEY: secret_key",
        "djstack_app_booleans: True/False",
    ):
        assert line in written, line  # fmt: skip
    requirements = (project / "deploy" / "requirements.yml").read_text()
    assert f'version: "{collection["version"]}"' in requirements
    (project / "deploy" / "project.yml").write_text(
        written + "djstack_app_writable_paths: [{path: /app/logs}]\n"
    )
    again = run(*init, cwd=elsewhere, env=env)
    assert re.search(r"localhost\s*:.*changed=0\s", again.stdout), again.stdout[-1500:]
    assert (project / "deploy" / "project.yml").read_text().endswith("[{path: /app/logs}]\n"), (
        "init overwrote an edit"
    )
    checked = run("ansible-playbook", "djstack.stack.validate", "-i", str(project / "deploy" / "inventories" / "dev"),
                  cwd=elsewhere, env=env)  # fmt: skip
    assert re.search(r"localhost\s*:.*failed=0\s", checked.stdout), checked.stdout[-1500:]
