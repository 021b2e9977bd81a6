"""Where a deploy's wall time goes: per play and per step of a deploy (validation,
fingerprint, image build, check-project, migrations, each container's start and health
wait, the Nginx switch...), printed at the end of the run when DJSTACK_PROFILE is set and
written as JSON to DJSTACK_PROFILE_JSON. `make deploy PROFILE=1` and `make bench` use it."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: deploy_profile
type: aggregate
short_description: Wall time of a deploy per play and per step
description:
  - Times every task from its start to the next task's start (with several hosts, the
    slowest host's) and sums them per play and per deploy step.
  - Prints nothing and costs nothing unless DJSTACK_PROFILE or DJSTACK_PROFILE_JSON is set.
requirements: [enable in callbacks_enabled (ansible.cfg does)]
options:
  print:
    description: Print the profile at the end of the run.
    type: bool
    default: false
    env: [{name: DJSTACK_PROFILE}]
  json:
    description: Write the profile as JSON to this file (relative to the working directory).
    type: str
    default: ""
    env: [{name: DJSTACK_PROFILE_JSON}]
"""

# A release's container carries the release's digest at the end of its name.
RELEASE_SUFFIX = re.compile(r"-[0-9a-f]{10}$")
CONTAINER_TASK = re.compile(r"Container runs with the stack's shared options, (?P<name>\S+)")
RELEASE_STEP_TASK = re.compile(r"release step\b.*?(?P<step>[\w-]+)$", re.IGNORECASE)
# Release steps by the suffix of their one-shot container's name (django_web's release.yml).
ONE_SHOT_STEPS = {
    "release": "release container (start, Django's load)",
    "release-after-backup": "release container (start, Django's load)",
    "check-project": "check-project",
    "migrate": "migrations",
    "collectstatic": "collectstatic",
}
# The app image's `release` runs several steps in one container and times each.
RELEASE_STEP_LINE = re.compile(
    r"djstack-release: (?P<step>\S+) took (?P<seconds>[0-9.]+) s$", re.MULTILINE
)

# (step, pattern on "play | role : task"), first match wins. The plays are site.yml's; the
# tasks are the roles' own names, so renaming one is seen by the unit test of this table.
STEPS: list[tuple[str, re.Pattern]] = [
    (step, re.compile(pattern, re.IGNORECASE))
    for step, pattern in [
        ("fingerprint (unchanged-rerun check)", r"^Hosts unchanged since"),
        ("validation", r"^Every input is valid"),
        ("engine and free ports", r"^A Docker engine answers"),
        (
            "image build",
            r"^Every image .*\| images : .*(build|root filesystem|staged|loaded|archive|wheel)",
        ),
        ("image references and lookup", r"^Every image "),
        ("deploy lock", r"\| (deploy : )?(Deploy lock|No other deploy|Next deploy|Control node)"),
        ("network, volumes and secrets", r"^Stack network"),
        ("backup before migrations", r"backed up before the migrations"),
        (
            "release log and old images",
            r"(release log|images to keep|Images in the engine|older than the kept)",
        ),
        ("nginx switch", r"(proxies to the new web container|web target names)"),
        (
            "health wait",
            r"(are healthy, or have|health is awaited|is healthy, else|health and readiness probes)",
        ),
        ("watchdog", r"^Containers that stop between deploys"),
        ("record of the deploy", r"^This complete deploy is recorded"),
    ]
]


def release_split(output: str) -> dict[str, float]:
    """Seconds of each step a `release` container reports in its output, by profile step."""
    split: dict[str, float] = {}
    for found in RELEASE_STEP_LINE.finditer(output):
        step = ONE_SHOT_STEPS.get(found["step"], found["step"])
        split[step] = split.get(step, 0.0) + float(found["seconds"])
    return split


def step_of(play: str, role: str, task: str) -> str:
    """The deploy step a task belongs to; a task no rule names counts for its role, or its play."""
    container = CONTAINER_TASK.search(task)
    if container:
        name = container["name"]
        for suffix, step in ONE_SHOT_STEPS.items():
            if name.endswith(f"-{suffix}"):
                return step
        return f"start and health wait: {RELEASE_SUFFIX.sub('', name)}"
    release_step = RELEASE_STEP_TASK.search(task)
    if release_step and release_step["step"] in ONE_SHOT_STEPS:
        return ONE_SHOT_STEPS[release_step["step"]]
    subject = f"{play} | {role + ' : ' if role else ''}{task}"
    for step, pattern in STEPS:
        if pattern.search(subject):
            return step
    return f"{role}: other tasks" if role else f"play: {play}"


@dataclass
class Profile:
    """Seconds per play, per step and per task, in the order they were first seen."""

    plays: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(
        self, play: str, role: str, task: str, seconds: float, split: dict[str, float] | None = None
    ) -> None:
        """One task's seconds; split gives parts of them to other steps (a release container's)."""
        step = step_of(play, role, task)
        label = f"{role} : {task}" if role else task
        parts = {name: min(part, seconds) for name, part in (split or {}).items()}
        rest = max(seconds - sum(parts.values()), 0.0)
        for table, key in ((self.plays, play), (self.tasks, label)):
            table[key] = table.get(key, 0.0) + seconds
        for name, part in {**parts, step: rest + parts.get(step, 0.0)}.items():
            self.steps[name] = self.steps.get(name, 0.0) + part
        self.counts[step] = self.counts.get(step, 0) + 1

    def as_dict(self) -> dict:
        def rounded(table: dict[str, float]) -> dict[str, float]:
            return {key: round(value, 3) for key, value in table.items()}

        return {
            "total_s": round(sum(self.plays.values()), 3),
            "plays": rounded(self.plays),
            "steps": rounded(dict(sorted(self.steps.items(), key=lambda kv: -kv[1]))),
            "step_tasks": dict(self.counts),
            "slowest_tasks": rounded(dict(sorted(self.tasks.items(), key=lambda kv: -kv[1])[:15])),
        }

    def tasks_of(self, step: str) -> str:
        # A step a release container reports (check-project, say) may have no task of its own.
        count = self.counts.get(step, 0)
        return f"{count} tasks" if count else "inside the release container"

    def lines(self) -> list[str]:
        data = self.as_dict()
        total = data["total_s"] or 1.0
        out = [f"DEPLOY PROFILE: {data['total_s']:.1f} s in {sum(self.counts.values())} tasks"]
        out.append("per play:")
        out += [
            f"  {s:7.2f} s {100 * s / total:5.1f}%  {play}" for play, s in data["plays"].items()
        ]
        out.append("per step:")
        out += [
            f"  {s:7.2f} s {100 * s / total:5.1f}%  {step} ({self.tasks_of(step)})"
            for step, s in data["steps"].items()
        ]
        return out


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "deploy_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.profile = Profile()
        self.play = ""
        self.current: tuple[str, str, str] | None = None
        self.started = 0.0
        self.split: dict[str, float] = {}
        self.active = False

    def set_options(self, *args, **kwargs) -> None:
        super().set_options(*args, **kwargs)
        self.active = bool(self.get_option("print") or self.get_option("json"))

    def _close_task(self) -> None:
        now = time.monotonic()
        if self.current is not None:
            self.profile.add(*self.current, now - self.started, self.split)
        self.current, self.started, self.split = None, now, {}

    def v2_runner_on_ok(self, result) -> None:
        if self.active:
            output = (result._result.get("container") or {}).get("Output") or ""
            self.split = release_split(output) if isinstance(output, str) else {}

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self.v2_runner_on_ok(result)

    def v2_playbook_on_play_start(self, play) -> None:
        if self.active:
            self._close_task()
            self.play = play.get_name().strip()

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        if self.active:
            self._close_task()
            role = task._role.get_name(include_role_fqcn=False) if task._role else ""
            self.current = (self.play, role, (task.name or task.action or "").strip())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_playbook_on_stats(self, stats) -> None:
        if not self.active:
            return
        self._close_task()
        if self.get_option("print"):
            self._display.display("\n".join(self.profile.lines()))
        if self.get_option("json"):
            with open(self.get_option("json"), "w", encoding="utf-8") as out:
                json.dump(self.profile.as_dict(), out, indent=2)
                out.write("\n")
