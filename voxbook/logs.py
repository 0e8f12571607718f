"""One log format for every component (API, uvicorn, Litestar, the SMS worker, the CLI's servers).

Each record is one line: a JSON object in production (``{"ts", "level", "logger", "event", ...fields}``),
or a readable ``HH:MM:SS.mmm LEVEL logger event key=value`` line on a terminal. ``LOG_FORMAT`` chooses
(``json``, ``text``; ``auto``, the default, is text on a terminal and JSON otherwise).

Structured fields go in ``extra={"fields": {...}}`` (see :func:`event`). Never a phone number in clear nor
a message body: :func:`mask_phone` for a number worth telling apart, :func:`scrub` for third-party texts
(provider errors quote the number), which exception texts always go through here.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

_PHONE_RE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
FORMATS = ("auto", "json", "text")


def mask_phone(number: str | None) -> str | None:
    """'+15557654321' -> '+1*******21': enough to tell two numbers apart in an incident, no more."""
    if not number:
        return number
    digits = number.lstrip("+")
    if len(digits) < 5:
        return "*" * len(number)
    return ("+" if number.startswith("+") else "") + digits[0] + "*" * (len(digits) - 3) + digits[-2:]


def scrub(text: str | None) -> str | None:
    """Provider error texts quote the number ("The 'To' number +1555... is not valid")."""
    if text is None:
        return None
    return _PHONE_RE.sub(lambda m: mask_phone(re.sub(r"[^\d+]", "", m.group())) or "", text)[:300]


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event ``name`` with structured fields (None values left out)."""
    logger.log(level, name, extra={"fields": {k: v for k, v in fields.items() if v is not None}})


def _exception(record: logging.LogRecord, formatter: logging.Formatter) -> str | None:
    # The last line only (the exception's type and text), scrubbed: a traceback may quote arguments.
    if not record.exc_info:
        return None
    return scrub(formatter.formatException(record.exc_info).splitlines()[-1])


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
                  .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}))
        if (exc := _exception(record, self)) is not None:
            data["exception"] = exc
        return json.dumps(data, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        fields = dict(getattr(record, "fields", {}))
        if (exc := _exception(record, self)) is not None:
            fields["exception"] = exc
        extra = "".join(f" {k}={v}" for k, v in fields.items())
        return f"{ts} {record.levelname:<7} {record.name} {record.getMessage()}{extra}"


def setup_logging(log_format: str = "auto", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every logger (ours, uvicorn's, Litestar's, the libraries') through one handler on the root."""
    stream = stream or sys.stderr
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}")
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's loggers keep their own handlers unless told otherwise (serve passes log_config=None): one
    # more guard, so that a record is written once, in this format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "voxbook"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # twilio-python logs request parameters (phone numbers) at INFO; httpx logs URLs with tokens.
    for name in ("twilio", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
