"""The app image's source layer, built and loaded on the Docker host in one task.

Every deploy that changes the project's code rebuilds this layer (files/build-image.py: the
source on top of app-runtime, compiled by its Python). As separate tasks (a fresh work
directory, the script, the spec and the archive copied one by one, the build, the load, the
clean-up) it took a dozen module calls, each a process on the host; here the control node
packs the source (files/inputs.py pack), the three files travel by the connection's own
transfer, and one shell command on the host builds the layer, loads it (docker load) and
removes the work directory, whether the build succeeded or not.

    - name: App image is built and loaded on the Docker host
      images_app_layer:
        src: /path/to/project          # the project's source on the control node
        exclude: [.git, node_modules]  # paths inputs.py pack leaves out
        archive: app.tar               # its name, as the spec's tar_in names it
        spec: {...}                    # build-image.py's spec, with ref and base_ref
        workdir: /var/cache/djstack/build/<ref>
        script: <role>/files/build-image.py
        packer: <role>/files/inputs.py

The image ID the engine reports after the load must be the one build-image.py computed, so a
load that kept an older image under the same tag fails the task.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

REQUIRED = ("src", "exclude", "archive", "spec", "workdir", "script", "packer")


def host_command(workdir: str, staged: str, names: list[str], ref: str) -> str:
    """The shell command that builds and loads the layer from the files staged in `staged`,
    in a fresh `workdir`, and removes it on any exit."""
    work = shlex.quote(workdir)
    files = " ".join(shlex.quote(f"{staged}/{name}") for name in names)
    return (
        f"set -e; rm -rf {work}; mkdir -p -m 0700 {work}; trap 'rm -rf {work}' EXIT; "
        f"cp {files} {work}/; cd {work}; "
        "python3 build-image.py spec.json image.tar; "
        "docker load --quiet --input image.tar >/dev/null; "
        f"docker image inspect --format '{{{{.Id}}}}' {shlex.quote(ref)}"
    )


def loaded_as_built(stdout: str) -> tuple[str, str]:
    """(ID build-image.py wrote, ID the engine holds under the reference) from the command's
    output: the script's JSON line, then the inspect line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    built = ""
    for line in lines[:-1]:
        try:
            built = json.loads(line)["id"]
        except (ValueError, KeyError, TypeError):
            continue
    return built, lines[-1].strip() if lines else ""


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp: Any = None, task_vars: dict | None = None) -> dict:
        result = super().run(tmp, task_vars)
        args = self._task.args
        missing = [name for name in REQUIRED if name not in args]
        if missing:
            return {**result, "failed": True, "msg": f"images_app_layer needs {', '.join(missing)}"}
        spec, ref = args["spec"], args["spec"]["ref"]
        if self._task.check_mode:
            return {**result, "changed": True, "msg": f"{ref} would be built"}

        local = Path(tempfile.mkdtemp(prefix="djstack-app-layer-"))
        try:
            archive = local / args["archive"]
            packed = subprocess.run(
                [
                    sys.executable,
                    args["packer"],
                    "pack",
                    args["src"],
                    str(archive),
                    *args["exclude"],
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if packed.returncode != 0:
                return {
                    **result,
                    "failed": True,
                    "msg": f"The project's source ({args['src']}) could not be packed: "
                    f"{(packed.stdout + packed.stderr).strip()[-2000:]}",
                }
            (local / "spec.json").write_text(json.dumps(spec, indent=2, sort_keys=True))
            staged = self._make_tmp_path()
            names = ["build-image.py", "spec.json", args["archive"]]
            sources = [Path(args["script"]), local / "spec.json", archive]
            remote = [self._connection._shell.join_path(staged, name) for name in names]
            for source, path in zip(sources, remote, strict=True):
                self._transfer_file(str(source), path)
            self._fixup_perms2([staged, *remote])
            done = self._low_level_execute_command(
                host_command(args["workdir"], staged.rstrip("/"), names, ref), sudoable=True
            )
        finally:
            shutil.rmtree(local, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)

        if done["rc"] != 0:
            output = (done["stdout"] + "\n" + done["stderr"]).strip()
            return {
                **result,
                "failed": True,
                "rc": done["rc"],
                "msg": f"The app image {ref} did not build and load on the Docker host:\n{output[-4000:]}",
            }
        built, loaded = loaded_as_built(done["stdout"])
        if not built or built != loaded:
            return {
                **result,
                "failed": True,
                "msg": f"The app image {ref} was built as {built or 'nothing'} but the engine "
                f"holds {loaded or 'nothing'} under that reference.",
            }
        return {**result, "changed": True, "image_id": built, "ref": ref}
