"""The package installs: the wheel holds one top-level package, voxbook, with the SQL inside it, and an
installed voxbook (not the checkout) migrates a real PostgreSQL.

The wheel is built with pip as a user would (`pip wheel .`), installed into a fresh venv without its
dependencies (those come from this venv's site-packages through a path file: no download, and nothing of
the checkout is on the fresh venv's path), and run from a directory outside the checkout.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    [whl] = out.glob("voxbook-*.whl")
    return whl


def test_wheel_has_one_top_level_package_and_ships_the_sql(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"voxbook", f"{wheel.name.split('-py')[0]}.dist-info"}, top   # no api/, workers/, db/, bench/
    for folder, inside in (("db/migrations", "voxbook/sql/migrations"), ("db/functions", "voxbook/sql/functions"),
                           ("db/citus", "voxbook/sql/citus")):
        expected = {f"{inside}/{p.name}" for p in (ROOT / folder).glob("*.sql")}
        assert expected and expected <= set(names), expected - set(names)
    assert "voxbook/sql/seed/demo-clinic.yaml" in names   # `voxbook db seed-demo` applies it
    assert {"voxbook/api/app.py", "voxbook/api/dashboard_assets/dashboard.js", "voxbook/workers/sms.py",
            "voxbook/db.py"} <= set(names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / "bin"
    res = subprocess.run([bindir / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    purelib = subprocess.run([bindir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies, from this venv. A plain path line: .pth files there (our editable install's) are not read.
    (Path(purelib) / "voxbook_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return bindir


def test_installed_voxbook_migrates_a_database_from_outside_the_checkout(installed, pg_cluster, tmp_path):
    where = subprocess.run(
        [installed / "python", "-c",
         "import voxbook, voxbook.api.app, voxbook.api.dashboard as d, voxbook.workers.sms, voxbook.migrate as m; "
         "print(voxbook.__file__); print(voxbook.api.app.__file__); print(m.sql_dir()); "
         "assert 'EventSource' in d._asset('dashboard.js')"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert all(str(ROOT) not in line for line in where.stdout.splitlines()), where.stdout   # the installed copy
    assert where.stdout.splitlines()[2].endswith("site-packages/voxbook/sql"), where.stdout
    for top in ("api", "workers"):
        res = subprocess.run([installed / "python", "-c", f"import {top}"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
        assert "ModuleNotFoundError" in res.stderr, f"the wheel must not install a top-level {top!r}"

    url = pg_cluster.create_database("voxbook_packaging")
    env = {"PATH": f"{installed}:/usr/bin:/bin", "DATABASE_URL": url}
    res = subprocess.run([installed / "voxbook", "db", "migrate"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    migrations = len(list((ROOT / "db" / "migrations").glob("*.sql")))
    functions = len(list((ROOT / "db" / "functions").glob("*.sql")))
    assert f"{migrations} migration(s) applied, {functions} function file(s) applied" in res.stdout, res.stdout
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT api.score_lead(480, true, 'high')").fetchone()[0]["score"] == 85


FLOOR = {"voxbook.settings", "voxbook.db", "voxbook.logs", "voxbook.migrate", "voxbook.pgcluster", "voxbook.doctor",
         "voxbook.phones", "voxbook.phone_data", "voxbook.secrets_box", "voxbook.cli_errors",
         "voxbook.caldav_client", "voxbook.calendar_connect"}


def _voxbook_imports(path: Path) -> set[str]:
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {n for n in found if n.split(".")[0] in ("voxbook", "api", "workers", "bench")}


def _modules_of(names: set[str], known: set[str]) -> set[str]:
    # "from voxbook.api import dashboard_html" names voxbook.api.dashboard_html; keep what names a module.
    return {n for n in names if n in known}


def test_layers_import_downward_only():
    """The floor (settings, database client, logs, migrate, pgcluster, doctor) imports only the floor; the HTTP
    layer and the worker import the floor and themselves, never each other nor the CLI; nothing imports bench."""
    files = {f"voxbook.{p.stem}": p for p in (ROOT / "voxbook").glob("*.py") if p.stem not in ("__init__", "__main__")}
    files |= {f"voxbook.{d}.{p.stem}": p for d in ("api", "workers") for p in (ROOT / d).glob("*.py")
              if p.stem != "__init__"}
    known = set(files) | {"voxbook.api", "voxbook.workers", "voxbook"}
    for name, path in files.items():
        imports = _voxbook_imports(path)
        assert not {i for i in imports if i.split(".")[0] in ("api", "workers", "bench")}, (name, imports)
        deps = _modules_of(imports, known) - {"voxbook", "voxbook.api", "voxbook.workers"}
        if name in FLOOR:
            assert deps <= FLOOR, f"{name} imports upward: {sorted(deps - FLOOR)}"
        elif name.startswith("voxbook.api."):
            assert all(d in FLOOR or d.startswith("voxbook.api.") for d in deps), (name, sorted(deps))
        elif name.startswith("voxbook.workers."):
            assert all(d in FLOOR or d.startswith("voxbook.workers.") for d in deps), (name, sorted(deps))
