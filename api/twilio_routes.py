"""Twilio's callbacks (status, inbound SMS). Placeholder router until the SMS worker issue fills it."""

from litestar import Router

twilio_router = Router(path="/twilio", route_handlers=[])
