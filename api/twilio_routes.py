"""Twilio's callbacks: delivery status (``POST /twilio/status``) and inbound SMS (``POST /twilio/inbound``).

Both are form-encoded and signed with ``X-Twilio-Signature`` (HMAC-SHA1 of the URL Twilio called and
the sorted form fields, keyed with TWILIO_AUTH_TOKEN). The URL Twilio called is the public one, not
the one this process sees behind a proxy, so it is rebuilt from PUBLIC_BASE_URL + path + raw query.
A request that fails the check gets 403 before anything touches the database.
Bodies are never logged: they carry phone numbers and message text.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, PermissionDeniedException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from voxbook.db import call

log = logging.getLogger("voxbook.api.twilio")


async def verified_form(request: Request) -> dict[str, str]:
    """The form fields of a request proven to come from Twilio; PermissionDeniedException (403) otherwise."""
    settings = request.app.state.settings
    body = await request.body()
    # keep_blank_values: the signature covers empty fields too.
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if not settings.twilio_auth_token or not settings.public_base_url:
        log.warning("twilio callback refused: TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL are needed to check signatures")
        raise PermissionDeniedException("signature cannot be checked")
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = settings.public_base_url + request.url.path + (f"?{query}" if query else "")
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(settings.twilio_auth_token).validate(url, params, signature):
        log.warning("twilio callback refused: bad signature on %s", request.url.path)
        raise PermissionDeniedException("invalid X-Twilio-Signature")
    return params


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@post("/status", status_code=204)
async def twilio_status(request: Request, state: State) -> None:
    """Delivery status of a message we sent; our StatusCallback URL names the outbox row (org_id, message_id)."""
    form = await verified_form(request)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ClientException("MessageSid and MessageStatus are required")
    async with state.pool.connection() as conn:
        await call(conn, "record_sms_status", message_sid=sid, message_status=status,
                   error_code=form.get("ErrorCode") or None, error_message=form.get("ErrorMessage") or None,
                   message_id=_uuid_or_none(request.query_params.get("message_id")),
                   # Left out when absent: voxbook.db.call refuses org_id=None (a NULL distribution argument).
                   **({"org_id": org} if (org := _uuid_or_none(request.query_params.get("org_id"))) else {}))


@post("/inbound", status_code=200)
async def twilio_inbound(request: Request, state: State) -> Response:
    """An SMS to one of our numbers: STOP / START / HELP handling; answers TwiML."""
    form = await verified_form(request)
    async with state.pool.connection() as conn:
        result = await call(conn, "record_inbound_sms", to_number=form.get("To", ""), from_number=form.get("From", ""),
                            body=form.get("Body", ""), message_sid=form.get("MessageSid") or None,
                            opt_out_type=form.get("OptOutType") or None)
    if result["action"] != "none":
        log.info("twilio inbound: %s for %s clinic(s)", result["action"], result["orgs"])
    twiml = MessagingResponse()
    if result.get("reply"):
        twiml.message(result["reply"])
    return Response(content=str(twiml), media_type="application/xml")


twilio_router = Router(path="/twilio", route_handlers=[twilio_status, twilio_inbound])
