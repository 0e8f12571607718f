"""Who may call us: Vapi (shared secret, Bearer token or HMAC signature) and admins (ADMIN_TOKEN).

Every comparison is constant-time (hmac.compare_digest) so response timing leaks nothing about a
secret. Nothing here logs: a header value may be a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

from voxbook.settings import Settings

# A signed request older (or newer) than this is refused, so a captured one can't be replayed later.
HMAC_TOLERANCE_SECONDS = 300


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _timestamp_fresh(raw: str, now: float) -> bool:
    raw = raw.strip()
    try:
        ts = float(raw)
        if ts > 1e11:   # milliseconds
            ts /= 1000
    except ValueError:
        try:
            ts = datetime.fromisoformat(raw).timestamp()
        except ValueError:
            return False
    return abs(now - ts) <= HMAC_TOLERANCE_SECONDS


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``{timestamp}.{raw body}``, as Vapi's HMAC credential signs."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def vapi_authorized(settings: Settings, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    secret = settings.vapi_secret
    if secret:
        given = headers.get("x-vapi-secret")
        if given is not None and _same(given, secret):
            return True
        token = bearer_token(headers)
        if token is not None and _same(token, secret):
            return True
    key = settings.vapi_hmac_secret
    if key:
        sig = (headers.get("x-signature") or "").strip().lower()
        ts = headers.get("x-timestamp") or ""
        if sig and ts and _timestamp_fresh(ts, time.time() if now is None else now):
            sig = sig.removeprefix("sha256=")
            return _same(sig, hmac_signature(key, ts.strip(), body))
    return False


def admin_authorized(settings: Settings, headers: Mapping[str, str]) -> bool:
    token = bearer_token(headers)
    return bool(settings.admin_token) and token is not None and _same(token, settings.admin_token)
