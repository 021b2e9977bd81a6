"""Appends a release to the host's release log and names the app images of releases older
than the ones to keep, in one module call (a directory, a lineinfile and a slurp were three).

    - name: New release is appended to the host's release log
      django_web_releases:
        path: /var/lib/djstack/app/releases.log
        entry: {action: deploy, image: "djstack/app:0123456789abcdef", ...}
        keep: 3

Returns `older`: images the log records, newest first, past the newest `keep` distinct ones.
The caller removes those no container uses (other stacks share the engine, and only this
log's images are candidates).
"""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: django_web_releases
short_description: The release log records a release and names the images past the kept ones
description:
  - Creates the log's directory (mode 0755) and the log (mode 0644), appends O(entry) as one
    JSON line, and returns the images of releases older than the newest O(keep).
options:
  path: {description: The release log (JSON lines)., type: path, required: true}
  entry: {description: The release to record; its C(image) is the release's app image., type: dict, required: true}
  keep: {description: Newest distinct images to keep (at least 1)., type: int, required: true}
"""

RETURN = r"""
older: {description: Recorded images past the newest O(keep), newest first., type: list, returned: always}
"""


def recorded_images(lines: list[str]) -> list[str]:
    """Distinct images of the log's entries, newest first (watchdog lines have none)."""
    images: list[str] = []
    for line in reversed(lines):
        try:
            image = json.loads(line).get("image")
        except ValueError:
            continue
        if image and image not in images:
            images.append(image)
    return images


def append(path: str, entry: dict) -> list[str]:
    """Appends entry and returns every line of the log, the new one last."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    line = json.dumps(entry)
    with open(path, "a+", encoding="utf-8") as log:
        os.chmod(path, 0o644)
        log.seek(0)
        lines = log.read().splitlines()
        log.write(line + "\n")
    return [*lines, line]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "entry": {"type": "dict", "required": True},
            "keep": {"type": "int", "required": True},
        },
        supports_check_mode=True,
    )
    path, entry, keep = (module.params[key] for key in ("path", "entry", "keep"))
    if keep < 1:
        module.fail_json(msg=f"keep: {keep} keeps no release; at least 1 is expected")
    if module.check_mode:
        try:
            with open(path, encoding="utf-8") as log:
                lines = [*log.read().splitlines(), json.dumps(entry)]
        except FileNotFoundError:
            lines = [json.dumps(entry)]
    else:
        lines = append(path, entry)
    module.exit_json(changed=True, older=recorded_images(lines)[keep:])


if __name__ == "__main__":
    main()
