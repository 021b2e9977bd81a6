"""The app layer's one command on the Docker host (roles/images/action_plugins/
images_app_layer.py), run by sh here with python3 and docker replaced by scripts that do
what the command expects of them: build-image.py writes image.tar and prints its ID, docker
loads it and reports the ID it holds."""

import json
import os
import subprocess
from pathlib import Path

from conftest import load

layer = load("roles/images/action_plugins/images_app_layer.py")

REF = "djstack/app:abc123"
NAMES = ["build-image.py", "spec.json", "app.tar"]


def stage(
    tmp_path: Path, build_exit: int = 0, engine_id: str = "sha256:built"
) -> tuple[Path, dict]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(
        "#!/bin/sh\n"
        "[ -f spec.json ] && [ -f app.tar ] || { echo 'inputs missing' >&2; exit 3; }\n"
        'pwd > "$TRACE"\n'
        f"[ {build_exit} -eq 0 ] || {{ echo 'Python could not compile /app' >&2; exit {build_exit}; }}\n"
        "echo layer > image.tar\n"
        'echo \'{"ref": "' + REF + '", "id": "sha256:built"}\'\n'
    )
    (bin_dir / "docker").write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  load) [ -f image.tar ] || exit 4; echo "Loaded image: ' + REF + '" ;;\n'
        f"  image) echo {engine_id} ;;\n"
        "esac\n"
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    staged = tmp_path / "staged dir"
    staged.mkdir()
    for name in NAMES:
        (staged / name).write_text(name)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TRACE": str(tmp_path / "trace"),
    }
    return staged, env


def run(command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, env=env, check=False
    )


def test_builds_in_a_fresh_workdir_loads_and_removes_it(tmp_path) -> None:
    staged, env = stage(tmp_path)
    workdir = tmp_path / "build" / "djstack_app_abc123"
    workdir.mkdir(parents=True)
    (workdir / "image.tar").write_text("a stale build")
    done = run(layer.host_command(str(workdir), str(staged), NAMES, REF), env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "trace").read_text().strip() == str(workdir)
    assert layer.loaded_as_built(done.stdout) == ("sha256:built", "sha256:built")
    assert not workdir.exists()


def test_a_failed_build_names_its_cause_and_leaves_no_workdir(tmp_path) -> None:
    staged, env = stage(tmp_path, build_exit=1)
    workdir = tmp_path / "build" / "app"
    done = run(layer.host_command(str(workdir), str(staged), NAMES, REF), env)
    assert done.returncode == 1
    assert "Python could not compile /app" in done.stderr
    assert not workdir.exists()


def test_an_engine_holding_another_image_is_seen(tmp_path) -> None:
    staged, env = stage(tmp_path, engine_id="sha256:older")
    done = run(layer.host_command(str(tmp_path / "w"), str(staged), NAMES, REF), env)
    assert done.returncode == 0, done.stderr
    built, loaded = layer.loaded_as_built(done.stdout)
    assert (built, loaded) == ("sha256:built", "sha256:older")


def test_output_without_the_scripts_line_has_no_built_id() -> None:
    assert layer.loaded_as_built("sha256:x\n") == ("", "sha256:x")
    assert layer.loaded_as_built("") == ("", "")
    noisy = "warning: something\n" + json.dumps({"ref": REF, "id": "sha256:b"}) + "\nsha256:b\n"
    assert layer.loaded_as_built(noisy) == ("sha256:b", "sha256:b")
