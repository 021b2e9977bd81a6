"""Configuration from the environment, in one place.

Secrets follow the *_FILE convention of the official Docker images: when NAME_FILE is set,
the value is read from that file, so secrets never appear in `docker inspect`.
"""

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import environ

env = environ.Env()


def secret(name: str, default: str | None = None) -> str:
    """Return NAME from the file named by NAME_FILE, else NAME itself, else default."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    if default is None:
        return env.str(name)
    return env.str(name, default=default)


def with_password(url: str, password: str) -> str:
    """Insert a password into a redis:// URL that was configured without one, keeping its
    user name (redis://user@host/0 logs in as an ACL user, redis://host/0 as default)."""
    if not password:
        return url
    parts = urlsplit(url)
    user = quote(parts.username, safe="") if parts.username else ""
    netloc = f"{user}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
