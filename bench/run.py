"""`make bench`: deploy a prod-flavour stack on the local engine and measure it.

Figures (each min / median / max over its repeats), written to bench/results/<timestamp>.json
and .md:
  1. deploy wall time: cold (stack containers, volumes and network removed, images built),
     no-op rerun (the default, which ends after the first play, alternating with one through
     every role), a code-only change of the app (one view edited); with the deploy profile
     (where the time goes, per play and step) of the last cold and the first code-only one;
  2. HTTP with wrk on 127.0.0.1: the bench view (/items/bench/: one indexed read, one cache
     get) and a static file, through Nginx and straight to gunicorn; requests/s, p50, p99,
     errors; then the bench view on a baseline web (4 sync workers, no persistent database
     connections) in the same run;
  3. Celery: 200 trivial tasks sent with delay() and collected with get() (15 batches), the
     round trip of one task (50 times), and the worker alone: 1,000 tasks queued while it
     consumes nothing, then drained (tasks/s, 5 times);
  4. memory of each container at idle and after the HTTP load (cgroup, as docker stats);
  5. the bench view under load while a code change is deployed (failed requests counted);
  6. the peer (bench/peer/: the guide's docker-compose stack, on the same local images) in
     the same run: cold start, no-op rerun, the same HTTP, memory and Celery figures, each
     of djstack's printed as a ratio to it.

    .venv/bin/python bench/run.py [--quick] [--keep] [--no-peer]

--quick shortens every figure to a smoke run (a few seconds of load, one repeat).
Load goes to 127.0.0.1 only. The bench stack (djstack-bench) is removed at the end unless
--keep is given.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "bench" / "inventory"
RESULTS = ROOT / "bench" / "results"
STACK = "djstack-bench"
NGINX = "http://127.0.0.1:19080"
GUNICORN_PORT = 19000
GUNICORN = f"http://127.0.0.1:{GUNICORN_PORT}"
BENCH_VIEW = "/items/bench/"
STATIC_FILE = "/static/core/site.css"
# Rows of each deploy profile in the Markdown report (the JSON has every step).
PROFILE_STEPS = 12
# A default gunicorn setup to compare with: 4 sync workers, a new database connection per
# request.
BASELINE = {
    "django_web_worker_class": "sync",
    "django_web_workers": 4,
    "django_web_extra_env": {"DATABASE_CONN_MAX_AGE": "0"},
}
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
PEER = ROOT / "bench" / "peer"
PEER_PROJECT = "djstack-peer"
PEER_URL = "http://127.0.0.1:19180"
# The peer's services and the bench stack's service whose image each runs.
PEER_IMAGES = {
    "PEER_POSTGRES_IMAGE": "postgres",
    "PEER_REDIS_IMAGE": "redis",
    "PEER_APP_IMAGE": "web",
    "PEER_NGINX_IMAGE": "nginx",
}


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def run(*cmd: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if check and result.returncode != 0:
        sys.exit(
            f"{' '.join(cmd[:4])} ... failed ({result.returncode}):\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-2000:]}"
        )
    return result


def deploy(*extra_vars: dict, profile: Path | None = None) -> float:
    """site.yml against the bench inventory; returns its wall time in seconds. With a
    profile path, the deploy profile (roles/deploy/callback_plugins) is written there."""
    cmd = ["site.yml"]
    for variables in extra_vars:
        cmd += ["-e", json.dumps(variables)]
    start = time.monotonic()
    playbook(*cmd, env={"DJSTACK_PROFILE_JSON": str(profile)} if profile else {})
    return time.monotonic() - start


def playbook(path: str, *extra: str, env: dict | None = None) -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), **(env or {})}
    run("ansible-playbook", path, "-i", str(INVENTORY), *extra, cwd=ROOT, env=env)


def docker(*args: str) -> str:
    return run("docker", *args).stdout


def stack_objects(kind: str) -> list[str]:
    listing = ["ps", "-a"] if kind == "container" else [kind, "ls"]
    names = docker(*listing, "--quiet", "--filter", f"label=io.djstack.stack={STACK}")
    return names.split()


def remove_stack() -> None:
    for kind in ("container", "volume", "network"):
        objects = stack_objects(kind)
        if objects:
            docker(*(["rm", "-f"] if kind == "container" else [kind, "rm"]), *objects)


def container(service: str) -> str:
    names = docker(
        "ps", "--filter", f"label=io.djstack.stack={STACK}", "--format", "{{.Names}}"
    ).split()
    matches = [n for n in names if n == f"{STACK}-{service}" or n.startswith(f"{STACK}-{service}-")]
    if len(matches) != 1:
        sys.exit(f"expected one running {service} container of {STACK}, found {matches}")
    return matches[0]


def manage_shell(code: str) -> str:
    return docker("exec", container("web"), "python", "manage.py", "shell", "-c", code)


def summary(values: list[float]) -> dict:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
        "runs": [round(v, 3) for v in values],
    }


def wrk_command(url: str, seconds: int) -> list[str]:
    return ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "5s", url]


def wrk(url: str, seconds: int) -> dict:
    return parse_wrk(run(*wrk_command(url, seconds)).stdout)


def parse_wrk(out: str) -> dict:
    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(\w+)", out, re.MULTILINE).groups()
        return float(value) * UNITS[unit]

    socket = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = dict(
        zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True)
        if socket
        else {}
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        # A failed request is an HTTP error status, a refused connection or a timeout. A
        # read error is a keep-alive connection the server closed (Nginx does at a reload);
        # wrk reconnects, as browsers do, and it is counted separately.
        "errors": int(non_2xx.group(1) if non_2xx else 0)
        + socket_errors.get("connect", 0)
        + socket_errors.get("timeout", 0),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors,
    }


def http_figures(targets: dict[str, str], seconds: int, repeats: int) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    for round_ in range(repeats):
        for name, url in targets.items():
            log(f"wrk {name} (round {round_ + 1}/{repeats})")
            runs[name].append(wrk(url, seconds))
    return {
        name: {
            key: summary([r[key] for r in results]) for key in ("rps", "p50_ms", "p99_ms", "errors")
        }
        for name, results in runs.items()
    }


def bench_service(name: str) -> str:
    return name.removeprefix(f"{STACK}-").split("-")[0]


def peer_service(name: str) -> str:
    """docker-compose 1's names: <project>_<service>_<index>."""
    return name.removeprefix(f"{PEER_PROJECT}_").rsplit("_", 1)[0]


def memory_mib(ids: list[str] | None = None, service_of=bench_service) -> dict[str, float]:
    """Each container's memory as docker stats computes it: usage minus inactive file."""
    result = {}
    for cid in stack_objects("container") if ids is None else ids:
        name, full_id = docker("inspect", "--format", "{{.Name}} {{.Id}}", cid).split()
        v1 = Path(f"/sys/fs/cgroup/memory/docker/{full_id}")
        v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{full_id}.scope")
        if v1.is_dir():
            usage = int((v1 / "memory.usage_in_bytes").read_text())
            stat = dict(line.split() for line in (v1 / "memory.stat").read_text().splitlines())
            used = usage - int(stat.get("total_inactive_file", 0))
        else:
            usage = int((v2 / "memory.current").read_text())
            stat = dict(line.split() for line in (v2 / "memory.stat").read_text().splitlines())
            used = usage - int(stat.get("inactive_file", 0))
        result[service_of(name.lstrip("/"))] = round(used / 2**20, 1)
    result["total"] = round(sum(result.values()), 1)
    return result


CELERY_CODE = """
import json, statistics, time
from celery import current_app as app
task = app.tasks["celery.accumulate"]
task.delay(0).get(timeout=30)
batch = []
for _ in range({repeats}):
    start = time.perf_counter()
    results = [task.delay(i) for i in range(200)]
    for r in results:
        r.get(timeout=60)
    batch.append(time.perf_counter() - start)
single = []
for i in range(50):
    start = time.perf_counter()
    task.delay(i).get(timeout=30)
    single.append((time.perf_counter() - start) * 1000)
drain = []
for _ in range({drains}):
    app.control.cancel_consumer("celery", reply=True)
    results = [task.delay(i) for i in range(1000)]
    start = time.perf_counter()
    app.control.add_consumer("celery", reply=True)
    for r in results:
        r.get(timeout=120)
    drain.append(1000 / (time.perf_counter() - start))
print(json.dumps({{"batch_200_s": batch, "single_ms": single, "drain_per_s": drain}}))
"""


def celery_figures(repeats: int, shell=None) -> dict:
    measured = json.loads(
        (shell or manage_shell)(CELERY_CODE.format(repeats=repeats, drains=max(1, repeats // 3)))
        .strip()
        .splitlines()[-1]
    )
    return {
        "batch_200_s": summary(measured["batch_200_s"]),
        "single_round_trip_ms": summary(measured["single_ms"]),
        "drain_per_s": summary(measured["drain_per_s"]),
    }


def compose(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return run("docker-compose", "--project-name", PEER_PROJECT, "--file", str(PEER / "docker-compose.yml"),
               *args, env=env, check=check)  # fmt: skip


def until(step, seconds: float, what: str) -> None:
    """Call step() every 0.2 s until it returns true; exit naming what never came."""
    deadline = time.monotonic() + seconds
    while not step():
        if time.monotonic() > deadline:
            sys.exit(f"the peer: {what} not within {seconds} s")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def peer_images() -> dict[str, str]:
    """The images the bench stack runs, by the peer's variable for each."""
    return {
        var: docker("inspect", "--format", "{{.Config.Image}}", container(service)).strip()
        for var, service in PEER_IMAGES.items()
    }


def peer_figures(
    images: dict[str, str], seconds: int, repeats: int, noop_runs: int, celery_batches: int
) -> dict:
    """The guide's compose stack on djstack's images: cold start as the guide does it (up,
    then migrate and collectstatic in web, until the home page answers through Nginx), a
    rerun of `up -d`, and the HTTP, memory and Celery figures of the djstack stack."""
    env = {**os.environ, **images}
    if shutil.which("docker-compose") is None:
        log("installing docker-compose (Debian package)")
        run("apt-get", "update", "-q")
        run("apt-get", "install", "-y", "-q", "docker-compose")

    def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return compose("exec", "-T", "web", "django-admin", *args, env=env, check=check)

    cold, noop = [], []
    try:
        for i in range(repeats):
            log(f"peer: cold start {i + 1}/{repeats}")
            compose("down", "--volumes", "--remove-orphans", env=env)
            start = time.monotonic()
            compose("up", "--detach", env=env)
            until(
                lambda: manage("migrate", "--noinput", check=False).returncode == 0, 120, "migrate"
            )
            manage("collectstatic", "--noinput")
            until(lambda: answers(PEER_URL + "/"), 120, "the home page through Nginx")
            cold.append(time.monotonic() - start)
        for i in range(noop_runs):
            log(f"peer: no-op rerun {i + 1}/{noop_runs}")
            start = time.monotonic()
            compose("up", "--detach", env=env)
            noop.append(time.monotonic() - start)
        manage("shell", "-c", "from apps.core.models import Item; "
               "Item.objects.get_or_create(slug='bench', defaults={'title': 'Bench'})")  # fmt: skip
        ids = compose("ps", "--quiet", env=env).stdout.split()
        time.sleep(5)
        memory_idle = memory_mib(ids, peer_service)
        http = http_figures({"peer bench view": PEER_URL + BENCH_VIEW,
                             "peer static file": PEER_URL + STATIC_FILE}, seconds, repeats)  # fmt: skip
        memory_after = memory_mib(ids, peer_service)
        log("peer: celery")
        celery = celery_figures(celery_batches, lambda code: manage("shell", "-c", code).stdout)
    finally:
        compose("down", "--volumes", "--remove-orphans", env=env, check=False)
    return {
        "deploy": {"cold (images built)": summary(cold), "no-op rerun": summary(noop)},
        "http": http,
        "memory_mib": {"idle": memory_idle, "after_load": memory_after},
        "celery": celery,
    }


def peer_ratios(report: dict) -> dict:
    """djstack's figure divided by the peer's, medians; for times, below 1 is faster."""
    ours, peer = report, report["peer"]
    pairs = {
        "cold start (s)": (ours["deploy"]["cold (images built)"], peer["deploy"]["cold (images built)"]),
        "no-op rerun (s)": (ours["deploy"]["no-op rerun"], peer["deploy"]["no-op rerun"]),
        "bench view through Nginx (req/s)": (ours["http"]["nginx bench view"]["rps"],
                                             peer["http"]["peer bench view"]["rps"]),
        "bench view p99 (ms)": (ours["http"]["nginx bench view"]["p99_ms"],
                                peer["http"]["peer bench view"]["p99_ms"]),
        "static file through Nginx (req/s)": (ours["http"]["nginx static file"]["rps"],
                                              peer["http"]["peer static file"]["rps"]),
        "200 Celery tasks (s)": (ours["celery"]["batch_200_s"], peer["celery"]["batch_200_s"]),
        "one task round trip (ms)": (ours["celery"]["single_round_trip_ms"],
                                     peer["celery"]["single_round_trip_ms"]),
        "1,000 queued tasks drained (tasks/s)": (ours["celery"]["drain_per_s"],
                                                 peer["celery"]["drain_per_s"]),
    }  # fmt: skip
    ratios = {
        name: {"djstack": a["median"], "peer": b["median"], "ratio": round(a["median"] / b["median"], 2)}
        for name, (a, b) in pairs.items()
    }  # fmt: skip
    for moment in ("idle", "after_load"):
        a, b = ours["memory_mib"][moment]["total"], peer["memory_mib"][moment]["total"]
        ratios[f"memory, whole stack, {moment} (MiB)"] = {
            "djstack": a,
            "peer": b,
            "ratio": round(a / b, 2),
        }
    return ratios


def edited_app(workdir: Path, revision: int) -> Path:
    """A copy of app/ whose home view differs: a code-only change, a new release."""
    target = workdir / f"app-{revision}"
    if not target.exists():
        shutil.copytree(ROOT / "app", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        views = target / "apps" / "core" / "views.py"
        source = views.read_text()
        marker = '        "report": cache.get("daily_report"),\n'
        assert marker in source, "the home view changed; update bench/run.py's edit"
        views.write_text(
            source.replace(marker, marker + f'        "bench_revision": {revision},\n')
        )
    return target


def deploy_under_load(app_src: Path) -> dict:
    """wrk on the bench view through Nginx for exactly as long as a code-change deploy."""
    load = subprocess.Popen(
        wrk_command(NGINX + BENCH_VIEW, 3600), stdout=subprocess.PIPE, text=True
    )
    time.sleep(2)
    try:
        deploy_s = deploy({"djstack_app_src": str(app_src)})
    finally:
        time.sleep(2)
        load.send_signal(signal.SIGINT)  # wrk stops and prints its summary
        out, _ = load.communicate(timeout=30)
    return {"deploy_s": round(deploy_s, 3), "http": parse_wrk(out)}


def versions() -> dict:
    lock = (ROOT / "roles/images/files/debian.lock").read_text().split("\n")
    debian = {
        package: version
        for line in lock
        if len(parts := line.split()) == 3
        for image, package, version in [parts]
        if package in {"nginx", "postgresql-17", "redis-server", "python3.13"}
    }
    python = {}
    for line in (ROOT / "app/requirements.lock").read_text().splitlines():
        match = re.match(r"^(django|gunicorn|celery|django-redis|psycopg)==(\S+)", line)
        if match:
            python[match.group(1)] = match.group(2)
    return {
        "djstack": run("git", "rev-parse", "--short", "HEAD", cwd=ROOT).stdout.strip(),
        "docker": docker("version", "--format", "{{.Server.Version}}").strip(),
        "debian_packages": debian,
        "python_packages": python,
        "ansible_core": run("ansible", "--version").stdout.split("\n")[0],
    }


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def markdown(report: dict) -> str:
    def row(name: str, figure: dict, unit: str) -> str:
        return f"| {name} | {figure['min']} | {figure['median']} | {figure['max']} | {unit} |"

    m, v = report["machine"], report["versions"]
    lines = [
        f"# djstack bench {report['started']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, kernel {m['kernel']}. "
        f"djstack {v['djstack']}, Docker {v['docker']}, {v['ansible_core']}; "
        + ", ".join(f"{k} {x}" for k, x in {**v["debian_packages"], **v["python_packages"]}.items())
        + f". Mode: {report['mode']}.",
        "",
        "| figure | min | median | max | unit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, figure in report["deploy"].items():
        lines.append(row(f"deploy: {name}", figure, "s"))
    for target, figures in report["http"].items():
        lines.append(row(f"{target}: requests/s", figures["rps"], "req/s"))
        lines.append(row(f"{target}: p50", figures["p50_ms"], "ms"))
        lines.append(row(f"{target}: p99", figures["p99_ms"], "ms"))
        lines.append(row(f"{target}: errors", figures["errors"], "requests"))
    lines.append(row("celery: 200 tasks delay() + get()", report["celery"]["batch_200_s"], "s"))
    lines.append(row("celery: one task round trip", report["celery"]["single_round_trip_ms"], "ms"))
    lines.append(
        row("celery: 1,000 queued tasks drained", report["celery"]["drain_per_s"], "tasks/s")
    )
    lines += ["", "| memory (MiB) | idle | after HTTP load |", "| --- | --- | --- |"]
    for service, idle in report["memory_mib"]["idle"].items():
        lines.append(f"| {service} | {idle} | {report['memory_mib']['after_load'].get(service)} |")
    under = report["redeploy_under_load"]
    lines += [
        "",
        (
            f"Redeploy under load (bench view through Nginx, 32 connections, for the deploy's "
            f"{under['deploy_s']} s): {under['http']['requests']} requests, "
            f"{under['http']['errors']} failed ({under['http']['non_2xx']} HTTP errors), "
            f"{under['http']['socket_errors'].get('read', 0)} keep-alive connections closed by "
            f"a reload and reopened, p99 {under['http']['p99_ms']} ms."
        ),
        "",
        (
            "Ratios (medians): bench view through Nginx vs baseline web "
            f"{report['ratios']['nginx_vs_baseline']}x; Nginx vs gunicorn direct "
            f"{report['ratios']['nginx_vs_direct']}; no-op rerun through every role vs the "
            f"default rerun that ends after the first play "
            f"{report['ratios']['noop_every_role_vs_early_end']}x."
        ),
    ]
    for name, profile in report.get("deploy_profile", {}).items():
        lines += [
            "",
            f"Deploy profile, {name} deploy ({profile['total_s']} s of tasks), the slowest steps:",
            "",
            "| step | s | tasks |",
            "| --- | --- | --- |",
        ]
        for step, seconds in list(profile["steps"].items())[:PROFILE_STEPS]:
            lines.append(f"| {step} | {seconds} | {profile['step_tasks'][step]} |")
    if "peer_ratios" in report:
        lines += [
            "",
            "The peer (bench/peer/, the guide's compose stack on the same images), same run:",
            "",
            "| figure (median) | djstack | peer | djstack / peer |",
            "| --- | --- | --- | --- |",
        ]
        for name, figure in report["peer_ratios"].items():
            lines.append(f"| {name} | {figure['djstack']} | {figure['peer']} | {figure['ratio']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: short load, one repeat")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the compose peer (bench/peer/)"
    )
    args = parser.parse_args()
    seconds, repeats, noop_runs, noop_full_runs = (3, 1, 2, 1) if args.quick else (20, 2, 5, 3)
    # A batch of 200 tasks takes 0.3 s and varies by a third from one to the next, so its
    # median needs more than the two repeats the 20-second HTTP figures get.
    celery_batches = 1 if args.quick else 15
    if shutil.which("wrk") is None:
        log("installing wrk (Debian package)")
        run("apt-get", "update", "-q")
        run("apt-get", "install", "-y", "-q", "wrk")
    started = datetime.now(UTC)
    report: dict = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
    }
    workdir = Path(tempfile.mkdtemp(prefix="djstack-bench."))
    try:
        log("Docker engine started and images built if missing (not timed)")
        playbook("playbooks/docker_host.yml")
        playbook("playbooks/images.yml")
        report["versions"] = versions()
        cold = []
        profiles = {name: workdir / f"profile-{name}.json" for name in ("cold", "code-only")}
        for i in range(repeats):
            log(f"cold deploy {i + 1}/{repeats}")
            remove_stack()
            cold.append(deploy(profile=profiles["cold"]))
        # Side by side: the default rerun, which ends after the first play when nothing
        # changed, and one through every role.
        noop, noop_full = [], []
        for i in range(noop_runs):
            log(f"no-op deploy {i + 1}/{noop_runs}")
            noop.append(deploy())
            if i < noop_full_runs:
                noop_full.append(deploy({"deploy_skip_unchanged": False}))
        manage_shell(
            "from apps.core.models import Item; "
            "Item.objects.get_or_create(slug='bench', defaults={'title': 'Bench'})"
        )
        time.sleep(5)
        memory_idle = memory_mib()
        http = http_figures(
            {"nginx bench view": NGINX + BENCH_VIEW, "nginx static file": NGINX + STATIC_FILE},
            seconds,
            repeats,
        )
        memory_after = memory_mib()
        log("celery")
        report["celery"] = celery_figures(celery_batches)
        log("code-only change deployed")
        code_change = [
            deploy({"djstack_app_src": str(edited_app(workdir, 1))}, profile=profiles["code-only"])
        ]
        log("code-only change deployed under load")
        under = deploy_under_load(edited_app(workdir, 2))
        code_change.append(under["deploy_s"])
        # Only now: a published web port makes a deploy stop the old web container before
        # the new one starts (one host port), so the deploys above run without it.
        current = {"djstack_app_src": str(edited_app(workdir, 2))}
        log("gunicorn's port published on 127.0.0.1 (not timed)")
        deploy(current, {"django_web_published_port": GUNICORN_PORT})
        http.update(
            http_figures(
                {
                    "gunicorn bench view": GUNICORN + BENCH_VIEW,
                    "gunicorn static file": GUNICORN + STATIC_FILE,
                },
                seconds,
                repeats,
            )
        )
        log("baseline web (4 sync workers, no persistent connections)")
        deploy(current, BASELINE)
        http.update(
            http_figures({"baseline nginx bench view": NGINX + BENCH_VIEW}, seconds, repeats)
        )
        report["deploy"] = {
            "cold (images built)": summary(cold),
            "no-op rerun": summary(noop),
            "no-op rerun through every role": summary(noop_full),
            "code-only change": summary(code_change),
        }
        report["deploy_profile"] = {
            name: json.loads(path.read_text()) for name, path in profiles.items()
        }
        report["http"] = http
        report["memory_mib"] = {"idle": memory_idle, "after_load": memory_after}
        report["redeploy_under_load"] = under
        nginx = http["nginx bench view"]["rps"]["median"]
        report["ratios"] = {
            "nginx_vs_baseline": round(
                nginx / http["baseline nginx bench view"]["rps"]["median"], 2
            ),
            "nginx_vs_direct": round(nginx / http["gunicorn bench view"]["rps"]["median"], 2),
            "noop_every_role_vs_early_end": round(
                statistics.median(noop_full) / statistics.median(noop), 1
            ),
        }
        if not args.no_peer:
            # The images are read from the bench stack's containers, which then go, so the
            # peer is measured alone (beside them, idle, with --keep).
            images = peer_images()
            if not args.keep:
                remove_stack()
            report["peer"] = peer_figures(images, seconds, repeats, noop_runs, celery_batches)
            report["peer_ratios"] = peer_ratios(report)
        report["wall_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep:
            remove_stack()
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / started.strftime("%Y%m%dT%H%M%SZ")
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    log(f"wrote {stem}.json and {stem}.md in {report['wall_s']} s")


if __name__ == "__main__":
    main()
