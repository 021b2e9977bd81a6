"""Reads a Django project's files, never imports or runs them, and guesses what djstack
needs to deploy it: settings module, WSGI, ASGI and Celery applications, STATIC_ROOT and
MEDIA_ROOT, the requirements file, and which of djstack's facts and secrets go into which
of the environment variables its settings read. Each guess carries where it came from, for
the comment `init` writes beside it; what it cannot guess it leaves out, and says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", "migrations", "tests", "static"}

# Environment names settings read: os.environ.get("X"), os.environ["X"], os.getenv("X"),
# environ/django-environ's env("X"), env.str("X"), env.bool("X", ...) and the like.
ENV_READ = re.compile(
    r"""(?:os\.environ(?:\.get)?|os\.getenv|\benv(?:\.\w+)?)\s*[\[(]\s*["']([A-Z][A-Z0-9_]*)["']"""
)

# What a variable name most likely holds: (pattern, kind, djstack name). Secrets go to
# djstack_app_secret_env (a secret file), facts to djstack_app_env_names.
GUESSES: tuple[tuple[str, str, str], ...] = (
    (r"^(DJANGO_)?SECRET_KEY$", "secret", "secret_key"),
    (r"^(DJANGO_)?DATABASE_URL$|^DB_URL$", "secret", "database_url"),
    (r"(DB|DATABASE|POSTGRES|PG|SQL)_?PASS(WORD)?$", "secret", "database_password"),
    (r"(CELERY_)?BROKER(_URL)?$", "secret", "redis_broker_url"),
    (r"(CELERY_)?RESULT(S)?_BACKEND(_URL)?$|RESULTS?_URL$", "secret", "redis_results_url"),
    (r"CHANNEL", "secret", "redis_broker_url"),
    (r"^(REDIS|CACHE)(_CACHE)?_URL$|^REDIS_LOCATION$", "secret", "redis_cache_url"),
    (r"(DB|DATABASE|POSTGRES|PG|SQL)_?HOST$", "fact", "database_host"),
    (r"(DB|DATABASE|POSTGRES|PG|SQL)_?PORT$", "fact", "database_port"),
    (r"(DB|DATABASE|POSTGRES|PG|SQL)_?(NAME|DATABASE|DB)$", "fact", "database_name"),
    (r"(DB|DATABASE|POSTGRES|PG|SQL)_?USER(NAME)?$", "fact", "database_user"),
    (r"ALLOWED_HOSTS$", "fact", "allowed_hosts"),
    (r"CSRF_TRUSTED_ORIGINS$", "fact", "csrf_trusted_origins"),
    (r"^(DJANGO_)?DEBUG$", "fact", "debug"),
    (r"^(DJANGO_)?(SECURE|HTTPS|USE_HTTPS|SECURE_SSL_REDIRECT)$", "fact", "https"),
    (r"STATIC_ROOT$", "fact", "static_root"),
    (r"MEDIA_ROOT$", "fact", "media_root"),
)


def python_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(root).parts[:-1])
        if not parts & SKIP:
            found.append(path)
    return found


def module_of(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def settings_module(root: Path) -> tuple[str, str]:
    manage = root / "manage.py"
    if manage.is_file():
        found = re.search(
            r"""setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""",
            manage.read_text(errors="replace"),
        )
        if found:
            return found.group(1), "manage.py"
    return "", ""


def application(root: Path, files: list[Path], name: str, call: str) -> tuple[str, str]:
    """module:application of the first <name>.py that assigns `application = <call>...`."""
    for path in files:
        if path.name == name:
            text = path.read_text(errors="replace")
            if re.search(rf"^application\s*=.*{call}|^application\s*=", text, re.MULTILINE):
                rel = str(path.relative_to(root))
                return f"{module_of(root, path)}:application", rel
    return "", ""


def celery_app(root: Path, files: list[Path]) -> tuple[str, str]:
    """The module that makes the Celery app, as `celery --app` takes it: the package when it
    is the package's celery.py (celery finds <package>.celery.app), else the module."""
    for path in files:
        text = path.read_text(errors="replace")
        if re.search(r"^\s*\w+\s*=\s*Celery\(", text, re.MULTILINE):
            module = module_of(root, path)
            rel = str(path.relative_to(root))
            if path.name == "celery.py" and "." in module:
                return module.rsplit(".", 1)[0], rel
            return module, rel
    return "", ""


def settings_files(root: Path, module: str) -> list[Path]:
    """The settings module's file, or every file of a settings package."""
    if not module:
        return []
    base = root.joinpath(*module.split("."))
    if base.is_dir():
        return sorted(base.glob("*.py"))
    if not base.with_suffix(".py").is_file():
        return []
    # settings/production.py usually imports settings/base.py: read the whole package.
    if base.parent.name == "settings":
        return sorted(base.parent.glob("*.py"))
    return [base.with_suffix(".py")]


def path_setting(text: str, setting: str) -> str:
    """Where STATIC_ROOT or MEDIA_ROOT points inside the image (/app is the project), for
    the usual spellings: BASE_DIR / "x", os.path.join(BASE_DIR, "x"), "/abs/path"."""
    line = re.search(rf"^{setting}\s*=\s*(.+)$", text, re.MULTILINE)
    if not line:
        return ""
    value = line.group(1)
    absolute = re.search(r"""^["'](/[^"']+)["']""", value)
    if absolute:
        return absolute.group(1)
    joined = re.search(
        r"""BASE_DIR\s*/\s*["']([^"']+)["']|join\(\s*BASE_DIR\s*,\s*["']([^"']+)["']""", value
    )
    if joined:
        return "/app/" + (joined.group(1) or joined.group(2)).strip("/")
    return ""


def log_directories(text: str) -> list[str]:
    """Directories under the project that LOGGING's file handlers write to (the root
    filesystem is read-only: each must be a writable path)."""
    found = re.findall(
        r"""["']filename["']\s*:\s*(?:os\.path\.join\(\s*BASE_DIR\s*,\s*["']([^"']+)["']|BASE_DIR\s*/\s*["']([^"']+)["']\s*/)""",
        text,
    )
    return sorted({"/app/" + (joined or divided).strip("/") for joined, divided in found})


def list_separator(text: str, name: str) -> str:
    """How the settings split a list variable: .split(",") or .split(" ")/.split()."""
    found = re.search(rf"""["']{name}["'][^\n]*?\.split\(\s*(?:["']([^"']*)["'])?\s*\)""", text)
    if not found:
        return ""
    return found.group(1) if found.group(1) in (",", ";") else " "


def booleans(text: str, name: str) -> str:
    """How the settings read a true/false variable: == "True", == "1", in ("true", ...)."""
    found = re.search(rf"""["']{name}["'][^\n]*?==\s*["']([^"']+)["']""", text)
    if found:
        return {
            "True": "True/False",
            "true": "true/false",
            "1": "1/0",
            "yes": "yes/no",
            "on": "on/off",
        }.get(found.group(1), "")
    if re.search(rf"""env\.bool\(\s*["']{name}["']""", text):
        return "true/false"
    return ""


def requirements(root: Path) -> tuple[str, bool]:
    """The requirements file and whether it is hash-locked already."""
    for name in ("requirements.lock", "requirements/production.txt", "requirements/prod.txt",
                 "requirements.txt", "requirements/base.txt", "requirements.in"):  # fmt: skip
        path = root / name
        if path.is_file():
            return name, "--hash=" in path.read_text(errors="replace")
    return "", False


def serves_asgi(root: Path, asgi_file: str, requirement: str) -> bool:
    """Every startproject has an asgi.py; a project serves ASGI when it routes protocols
    (Channels) or requires an ASGI server."""
    text = (root / asgi_file).read_text(errors="replace")
    wanted = (root / requirement).read_text(errors="replace").lower() if requirement else ""
    return "ProtocolTypeRouter" in text or bool(
        re.search(r"^(uvicorn|daphne|channels)\b", wanted, re.MULTILINE)
    )


def inspect(root: Path) -> dict[str, Any]:
    files = python_files(root)
    settings, settings_from = settings_module(root)
    wsgi = application(root, files, "wsgi.py", "get_wsgi_application")
    asgi = application(root, files, "asgi.py", "")
    celery = celery_app(root, files)
    texts = {p: p.read_text(errors="replace") for p in settings_files(root, settings)}
    text = "\n".join(texts.values())
    names = sorted(set(ENV_READ.findall(text)))
    secret_env: dict[str, str] = {}
    env_names: dict[str, str] = {}
    unknown = []
    for name in names:
        for pattern, kind, target in GUESSES:
            if re.search(pattern, name):
                if kind == "secret":
                    secret_env[name] = target
                elif target not in env_names:
                    env_names[target] = name
                break
        else:
            unknown.append(name)
    requirement, locked = requirements(root)
    static_root = path_setting(text, "STATIC_ROOT")
    media_root = path_setting(text, "MEDIA_ROOT")
    separator = list_separator(text, env_names.get("allowed_hosts", "ALLOWED_HOSTS"))
    boolean = booleans(text, env_names.get("debug", "DEBUG"))
    settings_rel = ", ".join(str(p.relative_to(root)) for p in texts) or "settings"
    return {
        "name": re.sub(r"[^a-z0-9-]+", "-", root.resolve().name.lower()).strip("-") or "app",
        "settings_module": settings,
        "settings_from": settings_from,
        "settings_files": settings_rel,
        "wsgi": wsgi[0],
        "wsgi_from": wsgi[1],
        "asgi": asgi[0] if asgi[0] and serves_asgi(root, asgi[1], requirement) else "",
        "asgi_from": asgi[1],
        "celery": celery[0],
        "celery_from": celery[1],
        "static_root": static_root,
        "media_root": media_root,
        "log_directories": log_directories(text),
        "list_separator": separator,
        "booleans": boolean,
        "secret_env": secret_env,
        "env_names": env_names,
        "unknown_env": unknown,
        "requirements": requirement,
        "requirements_locked": locked,
    }


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        root = Path(str(self._task.args["project"])).expanduser()
        if not (root / "manage.py").is_file():
            result.update(
                failed=True,
                msg=f"deploy_init_project: {root} holds no manage.py; run init on a Django project's directory.",
            )
            return result
        result.update(changed=False, project=inspect(root))
        return result
