"""``voxbook clinic carrier set|show|clear|rekey``: a clinic's own Twilio account.

The auth token is read from an environment variable (``--auth-token-env VAR``) or from stdin (a hidden prompt
on a terminal, else one line of a pipe), never from the command line, which any user can read in ``ps``. It is
encrypted here with VOXBOOK_SECRETS_KEY (voxbook/secrets_box.py) and only the ciphertext goes to the database
(api.set_carrier_account). ``show`` masks the SIDs and never prints the token. ``rekey`` re-encrypts every
clinic's token with the first key of VOXBOOK_SECRETS_KEY, after a new key was put in front of the old one.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import uuid

import psycopg

from voxbook.cli_errors import CliError as CarrierCliError   # reported as one line, exit 2
from voxbook.secrets_box import SecretsBox, SecretsKeyError
from voxbook.settings import Settings

_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")


def mask_sid(sid: str | None) -> str | None:
    """AC…1f2e: enough to tell accounts apart, not to name one in a log or a screenshot."""
    return f"{sid[:2]}…{sid[-4:]}" if sid else None


def _box() -> SecretsBox:
    try:
        return SecretsBox(Settings.from_env().secrets_key)
    except SecretsKeyError as exc:
        raise CarrierCliError(str(exc)) from None


def _connect(args: argparse.Namespace) -> psycopg.Connection:
    return psycopg.connect(args.database_url_of(args), autocommit=True)


def _org_id(conn: psycopg.Connection, org: str) -> str:
    from voxbook.db import call_sync

    try:
        return str(uuid.UUID(org))
    except ValueError:
        return str(call_sync(conn, "find_organization", phone=org)["org_id"])


def _read_token(env_var: str | None) -> str:
    if env_var:
        token = os.environ.get(env_var, "")
        if not token:
            raise CarrierCliError(f"--auth-token-env {env_var}: that environment variable is empty or unset")
    elif sys.stdin.isatty():
        token = getpass.getpass("Twilio auth token (not echoed): ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token or len(token) < 16 or any(c.isspace() for c in token):
        raise CarrierCliError("the auth token is missing or malformed (Twilio's are 32 characters, no spaces)")
    return token


def cmd_set(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    if not _ACCOUNT_SID.match(args.account_sid or ""):
        raise CarrierCliError("--account-sid must be AC followed by 32 lowercase hex digits (Twilio console)")
    box = _box()
    token = _read_token(args.auth_token_env)
    with _connect(args) as conn:
        org = _org_id(conn, args.org)
        result = call_sync(conn, "set_carrier_account", org_id=org, account_sid=args.account_sid,
                           auth_token_ciphertext=box.encrypt(token), key_id=box.key_id,
                           messaging_service_sid=args.messaging_service_sid,
                           parent_account_sid=args.parent_account_sid)
    how = f"Messaging Service {mask_sid(result['messaging_service_sid'])}" if result["messaging_service_sid"] \
        else "the clinic's sms_from number"
    print(f"Clinic {org}: {'own carrier account set' if result['created'] else 'carrier account replaced'} "
          f"(Twilio {mask_sid(result['account_sid'])}, sends through {how}; token encrypted, key {result['key_id']}).")
    print("The SMS worker and the Twilio callbacks use it within a minute.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    with _connect(args) as conn:
        org = _org_id(conn, args.org)
        account = call_sync(conn, "get_carrier_account", org_id=org)["account"]
    if account is None:
        print(f"Clinic {org}: no own carrier account; it uses the process-wide one (TWILIO_ACCOUNT_SID).")
        return 0
    try:
        _box().decrypt(account["auth_token_ciphertext"])
        opens = "yes"
    except (CarrierCliError, SecretsKeyError) as exc:
        opens = f"no: {exc}"
    print(f"Clinic {org}: Twilio account {mask_sid(account['account_sid'])}"
          + (f" (subaccount of {mask_sid(account['parent_account_sid'])})" if account["parent_account_sid"] else ""))
    print(f"  sends through: {('Messaging Service ' + mask_sid(account['messaging_service_sid'])) if account['messaging_service_sid'] else 'the clinic sms_from number'}")
    print(f"  auth token:    stored encrypted (key {account['key_id']}); VOXBOOK_SECRETS_KEY opens it: {opens}")
    print(f"  updated:       {account['updated_at']}")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    with _connect(args) as conn:
        org = _org_id(conn, args.org)
        result = call_sync(conn, "clear_carrier_account", org_id=org)
    print(f"Clinic {org}: " + ("own carrier account removed; it uses the process-wide one again."
                               if result["cleared"] else "had no own carrier account; nothing changed."))
    return 0


def cmd_rekey(args: argparse.Namespace) -> int:
    """Re-encrypts the token of every clinic whose ciphertext was made with another key than the first one."""
    from voxbook.db import call_sync

    box = _box()
    done = 0
    with _connect(args) as conn:
        for org in call_sync(conn, "list_carrier_accounts", key_id_not=box.key_id)["org_ids"]:
            account = call_sync(conn, "get_carrier_account", org_id=org)["account"]
            if account is None or account["key_id"] == box.key_id:
                continue
            try:
                cipher = box.rotate(account["auth_token_ciphertext"])
            except SecretsKeyError as exc:
                print(f"Clinic {org}: cannot re-encrypt ({exc}); left as it is.", file=sys.stderr)
                continue
            call_sync(conn, "set_carrier_account", org_id=org, account_sid=account["account_sid"],
                      auth_token_ciphertext=cipher, key_id=box.key_id,
                      messaging_service_sid=account["messaging_service_sid"],
                      parent_account_sid=account["parent_account_sid"])
            done += 1
    print(f"{done} clinic carrier token(s) re-encrypted with key {box.key_id}.")
    return 0


def add_commands(clinic_sub: argparse._SubParsersAction, add_database_url_option, database_url_of) -> None:
    carrier = clinic_sub.add_parser("carrier", help="a clinic's own Twilio account (token stored encrypted)")
    sub = carrier.add_subparsers(dest="carrier_command", metavar="COMMAND", required=True)

    def org_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--org", required=True, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
        add_database_url_option(p)

    p = sub.add_parser("set", help="give a clinic its own Twilio account or subaccount")
    org_option(p)
    p.add_argument("--account-sid", required=True, metavar="AC...", help="the account (or subaccount) SID")
    p.add_argument("--auth-token-env", metavar="VAR",
                   help="read the auth token from this environment variable (default: a prompt, or one line of "
                        "stdin); never on the command line")
    p.add_argument("--messaging-service-sid", metavar="MG...",
                   help="send through this Messaging Service of the account (default: from the clinic's sms_from)")
    p.add_argument("--parent-account-sid", metavar="AC...", help="when --account-sid is a subaccount: its main account")
    p.set_defaults(handler=cmd_set, database_url_of=database_url_of)

    p = sub.add_parser("show", help="a clinic's carrier account, SIDs masked, never the token")
    org_option(p)
    p.set_defaults(handler=cmd_show, database_url_of=database_url_of)

    p = sub.add_parser("clear", help="back to the process-wide account")
    org_option(p)
    p.set_defaults(handler=cmd_clear, database_url_of=database_url_of)

    p = sub.add_parser("rekey", help="re-encrypt every clinic's token with the first key of VOXBOOK_SECRETS_KEY")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_rekey, database_url_of=database_url_of)
