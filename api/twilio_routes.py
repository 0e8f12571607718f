"""Twilio's callbacks: delivery status (``POST /twilio/status``) and inbound SMS (``POST /twilio/inbound``).

Both are form-encoded and signed with ``X-Twilio-Signature`` (HMAC-SHA1 of the URL Twilio called and
the sorted form fields, keyed with the auth token of the account that sent or received the message). The URL
Twilio called is the public one, not the one this process sees behind a proxy, so it is rebuilt from
PUBLIC_BASE_URL + path + raw query. A request that fails the check gets 403 before anything changes.

Whose token (a clinic may have its own account, api.get_carrier_account; the token decrypted here with
VOXBOOK_SECRETS_KEY): Twilio names the account in the signed field ``AccountSid`` (a request without it is
refused, 403, nothing changed), and a token is tried only for the account it belongs to. A status callback: the token of the clinic its URL names (org_id), or the
process-wide TWILIO_AUTH_TOKEN (clinics without an account, and messages sent before a clinic got one). An
inbound SMS: the clinics whose number is ``To`` -- each one's own token or the process-wide one -- and the
account must be theirs; to a number no clinic owns (a Messaging Service pool number), the clinics whose own
account is ``AccountSid``, and the opt-out then concerns the clinics whose token signed it (all of them
when several share the account, none on another account; ``org_ids`` of api.record_inbound_sms), or, for
the process-wide account, the clinics that know the sender. So a signature made with another clinic's token changes nothing (403).
Bodies are never logged: they carry phone numbers and message text; nor SIDs or tokens.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, PermissionDeniedException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from voxbook.db import ApiError, call
from voxbook.phones import e164_or_raw
from voxbook.secrets_box import SecretsBox, SecretsKeyError

log = logging.getLogger("voxbook.api.twilio")


@functools.lru_cache(maxsize=4)
def _secrets_box(keys: str | None) -> SecretsBox | None:
    try:
        return SecretsBox(keys)
    except SecretsKeyError:
        return None


def _clinic_token(settings, org_id: Any, account: dict[str, Any]) -> str | None:
    """A clinic's auth token, decrypted in this process's memory; None (logged) when it cannot be."""
    box = _secrets_box(settings.secrets_key)
    try:
        if box is None:
            raise SecretsKeyError("VOXBOOK_SECRETS_KEY is not set or not a Fernet key")
        return box.decrypt(account["auth_token_ciphertext"])
    except SecretsKeyError as exc:
        log.error("twilio callback: the carrier token of clinic %s cannot be decrypted: %s", org_id, exc)
        return None


def _tokens(account_sid: str | None, accounts: list[tuple[str, str | None]]) -> list[str]:
    """The tokens of the candidate accounts [(account SID, token)] that Twilio's AccountSid names (none when the
    request has no AccountSid; _form refuses such a request first)."""
    return [token for sid, token in accounts if token and account_sid and sid == account_sid]


def _process_account(settings) -> tuple[str, str | None]:
    return (settings.twilio_account_sid or "", settings.twilio_auth_token)


async def _form(request: Request) -> dict[str, str]:
    """The signed form. Twilio names the account in every callback (AccountSid): one without it is refused
    (403) before any token is tried, so a token is only ever checked for the account it belongs to."""
    body = await request.body()
    # keep_blank_values: the signature covers empty fields too.
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if not params.get("AccountSid", "").strip():
        log.warning("twilio callback refused: no AccountSid on %s", request.url.path)
        raise PermissionDeniedException("AccountSid is required")
    return params


def _signed_with(request: Request, params: dict[str, str], tokens: list[str]) -> str | None:
    """The token among ``tokens`` that signed this request; PermissionDeniedException (403) when none did."""
    settings = request.app.state.settings
    if not tokens or not settings.public_base_url:
        log.warning("twilio callback refused: no auth token for this account (TWILIO_AUTH_TOKEN, a clinic's "
                    "carrier account) or no PUBLIC_BASE_URL to check the signature on %s", request.url.path)
        raise PermissionDeniedException("signature cannot be checked")
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = settings.public_base_url + request.url.path + (f"?{query}" if query else "")
    signature = request.headers.get("x-twilio-signature", "")
    if signature:
        for token in tokens:
            if RequestValidator(token).validate(url, params, signature):
                return token
    log.warning("twilio callback refused: bad signature on %s", request.url.path)
    raise PermissionDeniedException("invalid X-Twilio-Signature")


async def _verified_status(request: Request, state: State, org: uuid.UUID | None) -> dict[str, str]:
    """A status callback signed by the account of the clinic its URL names, or by the process-wide one."""
    params = await _form(request)
    settings = request.app.state.settings
    accounts = [_process_account(settings)]
    if org is not None:
        try:
            async with state.pool.connection() as conn:
                account = (await call(conn, "get_carrier_account", org_id=org))["account"]
        except ApiError:   # the clinic is gone: only the process-wide token can sign for it
            account = None
        if account is not None:
            accounts.insert(0, (account["account_sid"], _clinic_token(settings, org, account)))
    _signed_with(request, params, _tokens(params.get("AccountSid"), accounts))
    return params


async def _verified_inbound(request: Request, state: State) -> tuple[dict[str, str], list[uuid.UUID] | None]:
    """An inbound SMS signed by the account of the clinic(s) it concerns; returns the form and the clinics it
    concerns (the ids api.record_inbound_sms may act on; None: the process-wide account's rule, by To and the
    sender's contacts)."""
    params = await _form(request)
    settings = request.app.state.settings
    account_sid = params.get("AccountSid") or None
    to_number = params.get("To", "")
    async with state.pool.connection() as conn:
        found = await call(conn, "find_inbound_carrier_accounts", to_number=to_number[:64],
                           **({"account_sid": account_sid[:64]} if account_sid else {}))
    process = _process_account(settings)
    if found["to_clinics"]:
        # Every clinic of this number must be on the account Twilio names: its own, or the process-wide one.
        tokens: list[str] = []
        for clinic in found["to_clinics"]:
            own = clinic["account"]
            candidates = [process] + ([(own["account_sid"], _clinic_token(settings, clinic["org_id"], own))]
                                      if own else [])
            if account_sid and all(sid != account_sid for sid, _ in candidates):
                log.warning("twilio inbound refused: the number is not on the account that signed")
                raise PermissionDeniedException("invalid X-Twilio-Signature")
            tokens += _tokens(account_sid, candidates)
        _signed_with(request, params, list(dict.fromkeys(tokens)))
        return params, [uuid.UUID(str(clinic["org_id"])) for clinic in found["to_clinics"]]
    clinics = found["account_clinics"]
    if clinics:
        # A pool number of clinics' own account: the token that signed says whose (several clinics may share
        # one account, each row with its own copy of the token).
        by_token: dict[str, list[dict[str, Any]]] = {}
        for clinic in clinics:
            token = _clinic_token(settings, clinic["org_id"], clinic["account"])
            if token:
                by_token.setdefault(token, []).append(clinic)
        signer = _signed_with(request, params, list(by_token))
        # The clinics on the account that signed (several may share it): a STOP opts out of these only, not
        # of a clinic on another account that happens to know the sender.
        return params, [uuid.UUID(str(clinic["org_id"])) for clinic in by_token[signer]]
    _signed_with(request, params, _tokens(account_sid, [process]))
    return params, None


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@post("/status", status_code=204)
async def twilio_status(request: Request, state: State) -> None:
    """Delivery status of a message we sent; our StatusCallback URL names the outbox row (org_id, message_id)."""
    org = _uuid_or_none(request.query_params.get("org_id"))
    form = await _verified_status(request, state, org)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ClientException("MessageSid and MessageStatus are required")
    async with state.pool.connection() as conn:
        await call(conn, "record_sms_status", message_sid=sid, message_status=status,
                   error_code=form.get("ErrorCode") or None, error_message=form.get("ErrorMessage") or None,
                   message_id=_uuid_or_none(request.query_params.get("message_id")),
                   # Left out when absent: voxbook.db.call refuses org_id=None (a NULL distribution argument).
                   **({"org_id": org} if org else {}))


@post("/inbound", status_code=200)
async def twilio_inbound(request: Request, state: State) -> Response:
    """An SMS to one of our numbers: STOP / START / HELP, and replies C / R / other; answers TwiML."""
    form, org_ids = await _verified_inbound(request, state)
    async with state.pool.connection() as conn:
        # Twilio sends E.164 (a short code or an alphanumeric sender stays as it came: the database ignores it).
        result = await call(conn, "record_inbound_sms", to_number=e164_or_raw(form.get("To", "")),
                            from_number=e164_or_raw(form.get("From", "")),
                            body=form.get("Body", ""), message_sid=form.get("MessageSid") or None,
                            opt_out_type=form.get("OptOutType") or None,
                            **({"org_ids": org_ids} if org_ids is not None else {}))
    if result["action"] != "none":
        log.info("twilio inbound: %s for %s clinic(s)", result["action"], result["orgs"])
    elif result.get("reply_to"):
        # A reply (db/functions/46_sms_replies.sql): what it did, never its text or number.
        log.info("twilio inbound: reply %s", result["reply_to"])
    twiml = MessagingResponse()
    # The answer is the database's (HELP, a reply's thanks), in the patient's language; none to STOP/START.
    if result.get("reply"):
        twiml.message(result["reply"])
    return Response(content=str(twiml), media_type="application/xml")


twilio_router = Router(path="/twilio", route_handlers=[twilio_status, twilio_inbound])
