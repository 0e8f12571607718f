"""Bring a database up to date: yoyo migrations, then (re)apply every function file.

Tables live in ``db/migrations`` (applied once each, tracked by yoyo). Functions live in
``db/functions`` and are re-applied on *every* run, in sorted filename order, inside one
transaction: the first file drops and recreates the ``api`` schema, so an edited or deleted
function never lingers and a failed run leaves the previous functions in place.

On a Citus coordinator (the ``citus`` extension is installed) the same transaction also runs
``db/citus``: its ``1*`` files distribute the tables before the functions (a new database, or one with
data, in place; idempotent), its ``2*`` files make the new functions known to every node after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from voxbook.settings import Settings



def sql_dir() -> Path:
    """The SQL (migrations/, functions/, seed/): voxbook/sql in an installed wheel (hatch_build.py puts the
    repository's db/ there), db/ next to this package in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sql", here.parent / "db"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise MigrationError(f"no SQL found: neither {here / 'sql'} (installed) nor {here.parent / 'db'} (checkout)")


_PLAIN_SCHEMES = ("postgresql", "postgres")
_YOYO_SCHEME = "postgresql+psycopg"
# Whether the database is a Citus coordinator: migrate distributes it (db/citus), and the SMS worker and the
# dashboard's hot-lead hub poll there (a NOTIFY sent inside a function delegated to a worker node fires on that
# node and never reaches a listener on the coordinator).
CITUS_INSTALLED_SQL = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')"
# Serialises concurrent `voxbook db migrate` runs on the function step (yoyo has its own lock).
_FUNCTIONS_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('voxbook:db/functions', 0))"

# The key of the one-time code hashes (db/functions/30_codes.sql) is a role-level setting: it is not in a
# pg_dump of the database, so a dump alone does not reveal the codes.
PEPPER_SETTING = "voxbook.code_pepper"
MIN_PEPPER_LENGTH = 32
# Everything that could copy the ALTER ROLE carrying the pepper into the server log or pg_stat_statements,
# with the value that keeps it out; set for that one transaction only (SET LOCAL).
_QUIET_SETTINGS = {
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_transaction_sample_rate": "0",
    "log_min_error_statement": "panic",
    "pg_stat_statements.track_utility": "off",
}


class MigrationError(RuntimeError):
    """The db/ directory is unusable or a migration step failed."""


@dataclass(frozen=True)
class MigrateResult:
    migrations_applied: list[str]
    function_files: list[str]
    code_pepper_set: bool = False
    citus_files: list[str] = field(default_factory=list)   # db/citus files run (a Citus coordinator)

    def summary(self) -> str:
        return (
            f"{len(self.migrations_applied)} migration(s) applied, "
            f"{len(self.function_files)} function file(s) applied, "
            + (f"distributed on Citus ({len(self.citus_files)} file(s)), " if self.citus_files else "")
            + ("code pepper set for this role" if self.code_pepper_set
               else "VOXBOOK_CODE_PEPPER unset: the code pepper was left as it was")
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


def _citus_files(db_dir: Path) -> tuple[list[Path], list[Path]]:
    """db/citus/*.sql split into (before the functions: 1*, after them: 2*)."""
    files = sorted((db_dir / "citus").glob("*.sql"))
    return [f for f in files if f.name < "2"], [f for f in files if f.name >= "2"]


def migrate(database_url: str, db_dir: str | Path | None = None, code_pepper: str | None = None) -> MigrateResult:
    """Also stores the code pepper (``code_pepper``, else $VOXBOOK_CODE_PEPPER) for the role migrating."""
    db_dir = Path(db_dir) if db_dir is not None else sql_dir()
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
        citus = conn.execute(CITUS_INSTALLED_SQL).fetchone()[0]
        before, after = _citus_files(db_dir) if citus else ([], [])
        with conn.transaction():
            conn.execute(_FUNCTIONS_LOCK_SQL)
            for f in before + files + after:
                try:
                    # No params: psycopg sends the text as-is, so multi-statement files and
                    # literal % characters both work.
                    conn.execute(f.read_text())
                except psycopg.Error as exc:
                    raise MigrationError(f"{f.name}: {_first_line(exc)}") from exc
    pepper = code_pepper or Settings.from_env().code_pepper
    if pepper:
        # The role running migrate too, so that a DBA in psql can use the code functions.
        set_code_pepper(database_url, None, pepper)
    return MigrateResult(applied, [f.name for f in files], bool(pepper), [f.name for f in before + after])


def set_code_pepper(database_url: str, role: str | None, pepper: str) -> None:
    """Store the code pepper as a setting of ``role`` (None: the role logged in), never in any log.

    Role settings apply from a role's next login, and are kept out of ``pg_dump`` of the database.
    """
    if len(pepper) < MIN_PEPPER_LENGTH:
        raise MigrationError(
            f"VOXBOOK_CODE_PEPPER is too short: use {MIN_PEPPER_LENGTH} or more random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    target = sql.Identifier(role) if role else sql.SQL("CURRENT_USER")
    with psycopg.connect(to_libpq_url(database_url)) as conn:
        with conn.transaction():
            for name, quiet in _QUIET_SETTINGS.items():
                try:
                    with conn.transaction():  # a savepoint: a refused SET LOCAL leaves the rest usable
                        conn.execute("SELECT set_config(%s, %s, true)", [name, quiet])
                except psycopg.errors.InsufficientPrivilege:
                    now = conn.execute("SELECT current_setting(%s, true)", [name]).fetchone()[0]
                    if now is not None and now != quiet:
                        raise MigrationError(
                            f"cannot keep the code pepper out of the server log: {name} is {now} and this role "
                            "may not change it; run `voxbook db migrate` as a superuser"
                        ) from None
            # DDL takes no bind parameters: the pepper goes in as a quoted literal, unlogged (above).
            conn.execute(
                sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    target, sql.SQL(PEPPER_SETTING), sql.Literal(pepper)
                )
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# Session settings of the application's login roles (ALTER ROLE ... SET; they apply from its next login).
APP_ROLE_SETTINGS = {
    # Bounds on what one request can cost: a statement that never ends (generate_series from
    # 'infinity') held a pooled connection forever and wrote temp files at ~250 MB/s.
    "statement_timeout": "5s",
    "lock_timeout": "3s",                       # a lock wait fails fast instead of piling requests up
    "idle_in_transaction_session_timeout": "10s",
    "temp_file_limit": "256MB",                 # superuser-only: set by the superuser running migrate
    # Nothing a caller said in the server log. A failing statement is logged with its arguments
    # (phone, name, the code typed); a constraint failure's DETAIL holds the whole row; and PostgreSQL's
    # own messages quote a bad input value ('invalid input syntax for type uuid: "..."'). So: no
    # statements, no parameters, no DETAIL/CONTEXT, and no ERROR lines from these roles -- the API logs the
    # SQLSTATE of every database failure it reports, and nothing more.
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_error_statement": "panic",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    "log_error_verbosity": "terse",
    "log_min_messages": "log",                  # LOG, FATAL and PANIC only: an ERROR's text is not logged
}


def set_role_limits(conn: psycopg.Connection, role: str) -> None:
    """APP_ROLE_SETTINGS on ``role``. Most need a superuser (or GRANT SET ON PARAMETER): refused, it fails
    the migration rather than leave the limits or the log's privacy silently unset."""
    for name, value in APP_ROLE_SETTINGS.items():
        try:
            conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                sql.Identifier(role), sql.Identifier(name), sql.Literal(value)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise MigrationError(
                f"cannot set {name} for role {role}: run `voxbook db migrate --app-role` as a superuser "
                f"(or GRANT SET ON PARAMETER {name} TO the migrating role)") from exc


def ensure_login_role(
    database_url: str, role: str, password: str | None = None, code_pepper: str | None = None
) -> None:
    """Create (or update) the login role the API and worker use: a member of voxbook_api, nothing more.

    Without a password the role can only log in where pg_hba trusts it (a private Unix socket). It gets
    the limits and log settings of APP_ROLE_SETTINGS, and the code pepper (``code_pepper``, else $VOXBOOK_CODE_PEPPER) as a role setting.
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
        set_role_limits(conn, role)
    pepper = code_pepper or Settings.from_env().code_pepper
    if pepper:
        set_code_pepper(database_url, role, pepper)
