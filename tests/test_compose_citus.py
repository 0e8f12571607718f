"""docker-compose.citus.yml, checked without a Docker engine (none runs here), as test_compose.py checks
docker-compose.yml: services and start-up order, the official Citus image on every node, the nodes
registered before the migration, the workers unreachable from outside, and the same application services as
the single-node file (whose commands and variables test_compose.py checks for both files).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml


ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.citus.yml").read_text())
SINGLE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NODES = ("coordinator", "worker1", "worker2")
APP_SERVICES = ("migrate", "api", "worker", "calendar-worker")


def test_services_and_start_up_order():
    assert set(SERVICES) == {*NODES, "citus-nodes", *APP_SERVICES}
    for node in NODES:
        assert re.fullmatch(r"\$\{CITUS_IMAGE:-citusdata/citus:[0-9.]+\}", SERVICES[node]["image"])
        assert "healthcheck" in SERVICES[node]
        assert "max_prepared_transactions=200" in SERVICES[node]["command"]   # two-phase commit
        assert SERVICES[node]["environment"]["POSTGRES_DB"] == "voxbook"      # the image creates citus there
    assert SERVICES["citus-nodes"]["depends_on"] == {n: {"condition": "service_healthy"} for n in NODES}
    assert SERVICES["migrate"]["depends_on"] == {"citus-nodes": {"condition": "service_completed_successfully"}}
    assert SERVICES["migrate"]["restart"] == SERVICES["citus-nodes"]["restart"] == "no"
    for name in ("api", "worker", "calendar-worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "/health" in " ".join(SERVICES["api"]["healthcheck"]["test"])


def test_every_worker_is_registered_with_the_coordinator():
    command = " ".join(SERVICES["citus-nodes"]["command"])
    assert SERVICES["citus-nodes"]["command"][:3] == ["psql", "-v", "ON_ERROR_STOP=1"]
    assert "citus_set_coordinator_host('coordinator', 5432)" in command
    workers = [n for n in NODES if n != "coordinator"]
    assert re.findall(r"citus_add_node\('(\w+)', 5432\)", command) == workers
    assert SERVICES["citus-nodes"]["environment"]["PGHOST"] == "coordinator"


def test_the_application_talks_to_the_coordinator_only():
    for name in APP_SERVICES:
        assert "@coordinator:5432/voxbook" in SERVICES[name]["environment"]["DATABASE_URL"]
        assert SERVICES[name]["networks"] == ["app"]
    # Workers trust their connections (Citus connects to them as the statement's user): only the cluster
    # network, internal, reaches them, and they publish no port.
    assert COMPOSE["networks"]["cluster"]["internal"] is True
    for node in ("worker1", "worker2"):
        assert SERVICES[node]["networks"] == ["cluster"] and "ports" not in SERVICES[node]
    assert "POSTGRES_HOST_AUTH_METHOD" not in SERVICES["coordinator"]["environment"]   # passwords there
    assert "ports" not in SERVICES["coordinator"]


def test_worker_polls_often_and_can_be_scaled():
    # NOTIFY does not reach the coordinator on Citus: the poll interval is how long a new SMS waits.
    assert float(SERVICES["worker"]["environment"]["WORKER_POLL_SECONDS"]) <= 1
    assert "container_name" not in SERVICES["worker"] and "ports" not in SERVICES["worker"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_application_services_are_those_of_the_single_node_file(service):
    # Commands and variables are checked against the CLI and the settings in test_compose.py, for both files.
    assert SERVICES[service]["command"] == SINGLE["services"][service]["command"]
    assert set(SINGLE["services"][service]["environment"]) <= set(SERVICES[service]["environment"])


def test_volumes_keep_every_node_data():
    for node in NODES:
        (volume,) = SERVICES[node]["volumes"]
        name, _, path = volume.partition(":")
        assert path == "/var/lib/postgresql/data" and name in COMPOSE["volumes"]
