"""Each variable is documented once: a role's defaults/main.yml (its manual) and its
meta/argument_specs.yml declare the same names, with the same defaults."""

import pytest
import yaml
from conftest import ROLES

ROLE_NAMES = sorted(path.parent.parent.name for path in ROLES.glob("*/meta/argument_specs.yml"))


def role_files(role: str) -> tuple[dict, dict]:
    defaults_file = ROLES / role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    return defaults or {}, specs["argument_specs"]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_defaults_and_the_main_argument_spec_name_the_same_variables(role: str) -> None:
    defaults, specs = role_files(role)
    options = specs["main"]["options"]
    assert sorted(set(defaults) - set(options)) == [], "in defaults/main.yml only"
    assert sorted(set(options) - set(defaults)) == [], "in meta/argument_specs.yml only"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_a_default_in_the_argument_spec_is_the_one_in_defaults(role: str) -> None:
    defaults, specs = role_files(role)
    wrong = {
        name: (option["default"], defaults.get(name))
        for name, option in specs["main"]["options"].items()
        if "default" in option and option["default"] != defaults.get(name)
    }
    assert wrong == {}, "argument spec default vs defaults/main.yml"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_option_of_every_entry_point_is_described_and_prefixed(role: str) -> None:
    _, specs = role_files(role)
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            assert option.get("description"), f"{entry}: {name} has no description"
            assert name.startswith(f"{role}_"), f"{entry}: {name} lacks the prefix {role}_"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_internal_values_are_not_published_as_defaults(role: str) -> None:
    vars_file = ROLES / role / "vars" / "main.yml"
    internal = set(yaml.safe_load(vars_file.read_text()) or {}) if vars_file.exists() else set()
    defaults, _ = role_files(role)
    assert internal & set(defaults) == set(), "a name in both vars/ and defaults/"


SPEC_KEYS = {
    "type",
    "default",
    "choices",
    "elements",
    "description",
    "required",
    "no_log",
    "options",
}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_argument_specs_use_only_the_keys_ansible_knows(role: str) -> None:
    """A comma in an unquoted flow-mapping description silently makes a key of its own."""
    _, specs = role_files(role)

    def unknown(options: dict, where: str) -> list[str]:
        found = []
        for name, option in (options or {}).items():
            found += [f"{where}.{name}: {key}" for key in set(option) - SPEC_KEYS]
            found += unknown(option.get("options"), f"{where}.{name}")
        return found

    assert [
        line for entry, spec in specs.items() for line in unknown(spec.get("options"), entry)
    ] == []


def test_every_renamed_variable_is_in_the_upgrade_table() -> None:
    renamed = yaml.safe_load((ROLES / "djstack" / "vars" / "main.yml").read_text())[
        "djstack_renamed_variables"
    ]
    table = (ROLES.parent / "docs" / "collection.md").read_text()
    missing = [old for old, new in renamed.items() if f"| `{old}` | `{new}`" not in table]
    assert missing == [], "renamed variables missing from docs/collection.md's upgrade table"


def container_callers() -> list[tuple[str, str, dict]]:
    """(task file, settings variable, include_role arguments) of every include of djstack's
    container entry point."""
    callers = []
    for tasks_file in sorted(ROLES.glob("*/tasks/*.yml")):
        for task in yaml.safe_load(tasks_file.read_text()) or []:
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("tasks_from") == "container":
                setting = task["vars"]["djstack_container"].strip("{} ")
                callers.append((str(tasks_file.relative_to(ROLES)), setting, include))
    return callers


def test_every_container_start_gives_settings_the_container_spec_knows() -> None:
    """Callers skip the per-start validation (rolespec_validate: false), so their settings,
    literal dicts in their role's vars/main.yml, are checked here: no key the spec lacks,
    every required key present."""
    options = role_files("djstack")[1]["container"]["options"]["djstack_container"]["options"]
    required = {name for name, option in options.items() if option.get("required")}
    callers = container_callers()
    assert len(callers) >= 8, callers
    problems = []
    for tasks_file, setting, _ in callers:
        role = tasks_file.split("/")[0]
        settings = yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())[setting]
        problems += [
            f"{setting}: unknown key {key}" for key in sorted(set(settings) - set(options))
        ]
        problems += [f"{setting}: no {key}" for key in sorted(required - set(settings))]
    assert problems == []


def test_every_container_start_skips_the_per_start_validation() -> None:
    for tasks_file, _, include in container_callers():
        assert include.get("rolespec_validate") is False, tasks_file


def test_a_container_replaced_in_the_background_is_awaited_by_its_caller() -> None:
    """A background start returns a job, not a container: it must not also wait for health
    (state healthy), its time limit must cover its stop timeout, and the task file that
    starts it must pass the job on (ansible_job_id) to the deploy role's wait."""
    found = []
    for tasks_file, setting, _ in container_callers():
        role = tasks_file.split("/")[0]
        settings = yaml.safe_load((ROLES / role / "vars" / "main.yml").read_text())[setting]
        if "background_seconds" not in settings:
            continue
        found.append(setting)
        assert settings.get("state") == "started", setting
        assert "stop_timeout" in settings, setting
        assert "ansible_job_id" in (ROLES / tasks_file).read_text(), tasks_file
    assert sorted(found) == ["celery_beat_container_settings", "celery_worker_container_settings"]
