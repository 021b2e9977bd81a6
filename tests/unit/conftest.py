"""Fast checks of djstack's own Python (plugins, role scripts, the app image's helpers) and of
the roles' documentation: no Docker, no network, run first by `make test`."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"


def load(relative: str, name: str | None = None) -> ModuleType:
    """Import a file of the repository as a module, whatever its name (build-image.py)."""
    path = ROOT / relative
    name = name or path.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def roles_dir() -> Path:
    return ROLES
