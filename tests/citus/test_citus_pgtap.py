"""The whole pgTAP suite (tests/pgtap) on the Citus coordinator, every file, as on a single PostgreSQL.

The files are written to run on both (tests/helpers.pgsql): clinic ids from a temp table ``ctx`` that stays
on the coordinator are never joined into a write (INSERT ... SELECT FROM ctx; a clinic's settings through
tests.set_clinic), a helper reading a table is called on ctx's row and not per row of a clinic table, joins
of clinic tables include org_id, the file's own helpers that read tables are PL/pgSQL, and a value an UPDATE
needs from a column is computed first. PGTAP_EXCEPTIONS names a file that cannot run there, and why: none.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from voxbook.pgcluster import find_bindir

PGTAP_FILES = sorted((REPO_ROOT / "tests" / "pgtap").glob("test_*.sql"))
# file name -> why it cannot run on the coordinator. Empty: every file runs there.
PGTAP_EXCEPTIONS: dict[str, str] = {}


def test_pgtap_exceptions_name_real_files_with_a_reason():
    names = {f.name for f in PGTAP_FILES}
    assert all(name in names and reason.strip() for name, reason in PGTAP_EXCEPTIONS.items())


@pytest.mark.parametrize("path", [f for f in PGTAP_FILES if f.name not in PGTAP_EXCEPTIONS], ids=lambda p: p.name)
def test_pgtap_file_passes_on_the_coordinator(path: Path, voxbook_citus: str):
    # As pytest-pgtap runs it on the single node: the whole file in one session; the TAP output is read here.
    res = subprocess.run([str(find_bindir() / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                          "-d", voxbook_citus, "-f", str(path)], capture_output=True, text=True, timeout=300)
    lines = res.stdout.splitlines()
    plan = next((line for line in lines if re.fullmatch(r"1\.\.\d+", line)), None)
    failed = [line for line in lines if line.startswith("not ok")]
    ran = [line for line in lines if re.match(r"(not )?ok \d+", line)]
    assert res.returncode == 0 and plan and not failed and len(ran) == int(plan[3:]), (
        f"exit {res.returncode}; plan {plan}; {len(ran)} ran; failed:\n" + "\n".join(failed[:20])
        + "\n" + res.stderr[-2000:])
