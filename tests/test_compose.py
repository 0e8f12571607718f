"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here).

What can drift silently is checked: services and their start-up order, that every command is one our
CLI accepts, and that every environment variable is one our settings (or the migrate step) read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from voxbook.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# The application services are the same in the Citus file (tests/test_compose_citus.py checks the rest of it).
APP_FILES = {"single": SERVICES, "citus": yaml.safe_load((ROOT / "docker-compose.citus.yml").read_text())["services"]}
SETTINGS_ENV = set(re.findall(r'get\("([A-Z0-9_]+)"\)', (ROOT / "voxbook" / "settings.py").read_text()))
APP_SERVICES = ("migrate", "api", "worker", "calendar-worker")


def test_services_and_start_up_order():
    assert set(SERVICES) == {"postgres", "migrate", "api", "worker", "calendar-worker"}
    assert SERVICES["postgres"]["image"].startswith("postgres:")  # official image: contrib has btree_gist
    assert "healthcheck" in SERVICES["postgres"]
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("api", "worker", "calendar-worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "/health" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def test_worker_can_be_scaled():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker


@pytest.mark.parametrize("compose", APP_FILES)
@pytest.mark.parametrize("service", APP_SERVICES)
def test_commands_exist_in_our_cli(service, compose):
    command = APP_FILES[compose][service]["command"]
    assert command[0] == "voxbook"
    args = build_parser().parse_args(command[1:])  # SystemExit (a failure) for an unknown command or option
    assert callable(args.handler)


@pytest.mark.parametrize("compose", APP_FILES)
@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_is_what_the_settings_read(service, compose):
    names = set(APP_FILES[compose][service]["environment"])
    extra = {"APP_DB_PASSWORD"} if service == "migrate" else set()
    assert names - extra <= SETTINGS_ENV, f"unknown variables: {sorted(names - extra - SETTINGS_ENV)}"
    assert "DATABASE_URL" in names


def test_api_and_worker_log_in_with_the_least_privileged_role():
    for name in ("api", "worker", "calendar-worker"):
        assert SERVICES[name]["environment"]["DATABASE_URL"].startswith("postgresql://voxbook_app:")
    assert SERVICES["migrate"]["command"][-2:] == ["--app-role", "voxbook_app"]


def test_dockerfile_ships_the_code_and_the_sql():
    text = (ROOT / "Dockerfile").read_text()
    for part in ("voxbook", "api", "workers", "db"):
        assert re.search(rf"^COPY {part} ", text, re.M), f"Dockerfile does not copy {part}/"
    assert re.search(r"^USER (?!root)\w+", text, re.M), "the app must not run as root"
