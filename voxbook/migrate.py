"""Bring a database up to date: yoyo migrations, then (re)apply every function file.

Tables live in ``db/migrations`` (applied once each, tracked by yoyo). Functions live in
``db/functions`` and are re-applied on *every* run, in sorted filename order, inside one
transaction: the first file drops and recreates the ``api`` schema, so an edited or deleted
function never lingers and a failed run leaves the previous functions in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_DIR = REPO_ROOT / "db"

_PLAIN_SCHEMES = ("postgresql", "postgres")
_YOYO_SCHEME = "postgresql+psycopg"
# Serialises concurrent `voxbook db migrate` runs on the function step (yoyo has its own lock).
_FUNCTIONS_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('voxbook:db/functions', 0))"


class MigrationError(RuntimeError):
    """The db/ directory is unusable or a migration step failed."""


@dataclass(frozen=True)
class MigrateResult:
    migrations_applied: list[str]
    function_files: list[str]

    def summary(self) -> str:
        return (
            f"{len(self.migrations_applied)} migration(s) applied, "
            f"{len(self.function_files)} function file(s) applied"
        )


def _split_scheme(url: str) -> tuple[str, str]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise MigrationError(
            "database URL must look like postgresql://user@host/dbname (key=value conninfo "
            "strings are not supported here)"
        )
    return scheme.lower(), rest


def to_yoyo_url(url: str) -> str:
    """yoyo picks its driver from the scheme; plain postgresql:// would load psycopg2."""
    scheme, rest = _split_scheme(url)
    if scheme == _YOYO_SCHEME:
        return url
    if scheme in _PLAIN_SCHEMES:
        return f"{_YOYO_SCHEME}://{rest}"
    raise MigrationError(f"unsupported database URL scheme {scheme!r} (expected postgresql://)")


def to_libpq_url(url: str) -> str:
    """The reverse of :func:`to_yoyo_url`, so either spelling works everywhere."""
    scheme, rest = _split_scheme(url)
    if scheme == _YOYO_SCHEME:
        return f"postgresql://{rest}"
    return url


def redact(url: str) -> str:
    """The URL with any password replaced, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _function_files(db_dir: Path) -> list[Path]:
    fdir = db_dir / "functions"
    return sorted(fdir.glob("*.sql")) if fdir.is_dir() else []


def migrate(database_url: str, db_dir: str | Path = DEFAULT_DB_DIR) -> MigrateResult:
    db_dir = Path(db_dir)
    mdir = db_dir / "migrations"
    if not mdir.is_dir():
        raise MigrationError(f"no migrations directory at {mdir}")

    migrations = read_migrations(str(mdir))
    backend = get_backend(to_yoyo_url(database_url))
    try:
        with backend.lock(timeout=60):
            pending = backend.to_apply(migrations)
            applied: list[str] = []
            # One by one instead of backend.apply_migrations(): that silently skips a
            # migration raising BadMigration, and its errors don't say which file failed.
            for m in pending:
                try:
                    backend.apply_one(m)
                except Exception as exc:
                    raise MigrationError(f"migration {m.id}: {_first_line(exc)}") from exc
                applied.append(m.id)
            if applied:
                backend.run_post_apply(pending)
    finally:
        backend.connection.close()

    files = _function_files(db_dir)
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        with conn.transaction():
            conn.execute(_FUNCTIONS_LOCK_SQL)
            for f in files:
                try:
                    # No params: psycopg sends the text as-is, so multi-statement files and
                    # literal % characters both work.
                    conn.execute(f.read_text())
                except psycopg.Error as exc:
                    raise MigrationError(f"{f.name}: {_first_line(exc)}") from exc
    return MigrateResult(applied, [f.name for f in files])


def seed_demo(database_url: str, db_dir: str | Path = DEFAULT_DB_DIR) -> str:
    """Load db/seed/demo.sql in one transaction; returns the file name."""
    seed = Path(db_dir) / "seed" / "demo.sql"
    if not seed.is_file():
        raise MigrationError(f"no seed file at {seed}")
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        with conn.transaction():
            try:
                conn.execute(seed.read_text())
            except psycopg.Error as exc:
                raise MigrationError(f"{seed.name}: {_first_line(exc)}") from exc
    return seed.name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ensure_login_role(database_url: str, role: str, password: str | None = None) -> None:
    """Create (or update) the login role the API and worker use: a member of voxbook_api, nothing more.

    Without a password the role can only log in where pg_hba trusts it (a private Unix socket).
    """
    with psycopg.connect(to_libpq_url(database_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
        # DDL takes no bind parameters: the password goes in as a quoted literal.
        conn.execute(
            sql.SQL("{} {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT voxbook_api TO {}").format(sql.Identifier(role)))
