"""The clinic file: a clinic's whole definition in YAML (``voxbook clinic apply|export``, README "Onboarding a
clinic", the example ``db/seed/demo-clinic.yaml``).

Three parts, all pure Python (the database work is in ``voxbook.clinic_apply``):
- **loading** with line numbers: PyYAML composes the node tree and we build the values ourselves, YAML 1.2
  style (plain ``NO`` stays the string Norway's code, ``09:00`` stays a time, ``true``/``false``/``null`` are
  the only words read as something else); every value keeps its line and column, so a problem is reported as
  ``clinic.yaml:12:7: providers[0].hours.mon: 09:00-12:00 and 11:00-13:00 overlap``.
- **validation**: the pydantic v2 models below (types, ranges, unknown keys), then the checks across the file
  (a service naming a provider the file does not define, a bad phone number for the clinic's country, an
  unknown time zone, overlapping hours, duplicate ids). All problems are reported at once.
- **the desired state** (:func:`desired`): what the file says, in the same normalised shape as the database's
  current state (``voxbook.clinic_apply.current``), so that the two can be compared field by field.

A key left out of the file leaves that value as it is (a new clinic, provider or service gets the database's
default); a key written sets it (``null`` clears an optional value). The lists ``providers`` and ``services``
are complete: an active one the file does not list is deactivated (never deleted). ``hours`` (a provider's
week), ``exceptions`` (its dated exceptions from today on) and ``time_off`` (blocks still to end) are each
replaced as a whole when written, and left alone when left out.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # ISO order: mon = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"                     # calendars_id_check, services_id_check


# -- problems --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int            # 1-based; 0 = the file as a whole
    column: int
    where: str           # providers[0].hours.mon
    message: str

    def render(self, source: str) -> str:
        at = f"{source}:{self.line}:{self.column}" if self.line else source
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


class ClinicFileError(Exception):
    """Bad input in a clinic file: every problem with its line and column. Nothing was changed."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        lines = [p.render(source) for p in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n  " + "\n  ".join(lines))


Path_ = tuple[str | int, ...]


def where(path: Path_) -> str:
    """('providers', 0, 'hours', 'mon') -> providers[0].hours.mon"""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- loading YAML with positions -------------------------------------------------------------------------

_TRUE, _FALSE, _NULL = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}, {"null", "Null", "NULL", "~", ""}


class Positions:
    """Line and column (1-based) of every value, and of every mapping key, by path."""

    def __init__(self) -> None:
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}

    def at(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """The position of ``path`` (its key when ``key``), else of its nearest ancestor that has one."""
        if key and path in self.keys:
            return self.keys[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.values:
                return self.values[path[:n]]
        return (0, 0)

    def problem(self, path: Path_, message: str, key: bool = False) -> Problem:
        line, column = self.at(path, key)
        return Problem(line, column, where(path), message)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def load_yaml(text: str, source: str = "clinic file") -> tuple[Any, Positions]:
    """The document as plain values (dict, list, str, bool, None) and their positions. Every scalar but
    true/false/null is a string (pydantic reads numbers and dates from it): YAML 1.1's surprises (NO = false,
    09:30 = 570) never happen."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ClinicFileError(source, [Problem(line, col, "", f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ClinicFileError(source, [Problem(0, 0, "", f"not valid YAML: {exc}")]) from None
    if node is None:
        raise ClinicFileError(source, [Problem(0, 0, "", "the file is empty: it needs at least `clinic:`")])
    positions = Positions()
    problems: list[Problem] = []

    def build(n: yaml.Node, path: Path_) -> Any:
        positions.values[path] = _mark(n)
        if isinstance(n, yaml.ScalarNode):
            if n.style is None:   # plain: only these words mean something else than text
                if n.value in _TRUE:
                    return True
                if n.value in _FALSE:
                    return False
                if n.value in _NULL:
                    return None
            return n.value
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        out: dict[str, Any] = {}
        for k, v in n.value:
            if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
                problems.append(Problem(*_mark(k), where(path), "keys must be plain words (no merge keys)"))
                continue
            if k.value in out:
                problems.append(Problem(*_mark(k), where(path + (k.value,)), "this key is given twice"))
                continue
            positions.keys[path + (k.value,)] = _mark(k)
            out[k.value] = build(v, path + (k.value,))
        return out

    data = build(node, ())
    if problems:
        raise ClinicFileError(source, problems)
    return data, positions


# -- the model -------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


END_OF_DAY = time.max   # "24:00", the end of an interval that runs to midnight


def _clock(h: str, m: str, text: str, end: bool = False) -> time:
    hour, minute = int(h), int(m)
    if end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: not a time of day (00:00 to 23:59" + (", or 24:00 to end a day)" if end else ")"))
    return time(hour, minute)


def hhmm(t: time) -> str:
    return "24:00" if t == END_OF_DAY else f"{t:%H:%M}"


def db_time(text: str) -> time:
    """A time as the database writes hours ('09:00', '09:00:30', '24:00')."""
    return END_OF_DAY if text.startswith("24:") else time.fromisoformat(text)


def parse_intervals(value: Any) -> list[tuple[time, time]]:
    """["09:00-12:00", "13:00-17:00"]: local wall-clock intervals of one day, in order, not overlapping."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError('give a list of intervals such as ["09:00-12:00", "13:00-17:00"]')
    out: list[tuple[time, time]] = []
    for item in value:
        m = _INTERVAL.match(item) if isinstance(item, str) else None
        if not m:
            raise ValueError(f'{item!r} is not an interval: write it as "09:00-12:00" (24-hour clock)')
        start, end = _clock(m[1], m[2], item), _clock(m[3], m[4], item, end=True)
        if end <= start:
            raise ValueError(f"{item!r}: the end must be after the start")
        out.append((start, end))
    out.sort()
    for (s1, e1), (s2, e2) in zip(out, out[1:]):
        if s2 < e1:
            raise ValueError(f"{fmt_interval((s1, e1))} and {fmt_interval((s2, e2))} overlap")
    return out


Intervals = Annotated[list[tuple[time, time]], BeforeValidator(parse_intervals)]
Id = Annotated[str, Field(pattern=ID_PATTERN, description="lowercase letters, digits, - and _")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def fmt_interval(iv: tuple[time, time]) -> str:
    return f"{hhmm(iv[0])}-{hhmm(iv[1])}"


def fmt_intervals(ivs: list[tuple[time, time]] | None) -> str:
    return ", ".join(fmt_interval(i) for i in ivs) if ivs else "closed"


def require_time_zone(name: str) -> str:
    """An IANA zone as the database lists them (voxbook.time_zones: a name with a /, or UTC)."""
    if name != "UTC" and ("/" not in name or name.startswith(("posix/", "right/"))
                          or name not in zoneinfo.available_timezones()):
        raise ValueError(f"unknown time zone {name!r}: give an IANA name such as America/New_York or Europe/London")
    return name


class Settings(_Strict):
    """The clinic's settings (columns of voxbook.organizations; db/README.md). Left out = unchanged."""
    hold_minutes: Annotated[int, Field(ge=1, le=60)] | None = None
    code_length: Annotated[int, Field(ge=4, le=8)] | None = None
    max_code_attempts: Annotated[int, Field(ge=1, le=10)] | None = None
    max_code_sends: Annotated[int, Field(ge=1, le=10)] | None = None
    hot_lead_threshold: Annotated[int, Field(ge=0, le=100)] | None = None
    min_notice_minutes: Annotated[int, Field(ge=0, le=10080)] | None = None
    cancellation_notice_minutes: Annotated[int, Field(ge=0, le=10080)] | None = None
    booking_horizon_days: Annotated[int, Field(ge=1, le=730)] | None = None
    reminder_hours: Annotated[int, Field(ge=1, le=168)] | None = None
    help_text: Annotated[str, Field(min_length=1, max_length=1600)] | None = None
    code_sends_per_phone_hour: Annotated[int, Field(ge=1, le=1000)] | None = None
    code_failures_per_phone_hour: Annotated[int, Field(ge=1, le=1000)] | None = None
    code_sends_per_call: Annotated[int, Field(ge=1, le=1000)] | None = None
    code_failures_per_call: Annotated[int, Field(ge=1, le=1000)] | None = None
    code_sends_per_clinic_hour: Annotated[int, Field(ge=1, le=100000)] | None = None
    code_failures_per_clinic_hour: Annotated[int, Field(ge=1, le=100000)] | None = None
    allowed_sms_calling_codes: list[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,5}$")]] | None = None
    # a person at the clinic: transfers and callback requests (db/functions/52_front_desk.sql); as dialled or E.164
    front_desk_phone: Annotated[str, Field(min_length=3, max_length=40)] | None = None


class Clinic(_Strict):
    id: UUID | None = None
    name: Name
    phone: str
    time_zone: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] | None = None
    hot_lead_phone: str | None = None
    sms_from: str | None = None
    settings: Settings | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return require_time_zone(value)


class Week(_Strict):
    mon: Intervals = []
    tue: Intervals = []
    wed: Intervals = []
    thu: Intervals = []
    fri: Intervals = []
    sat: Intervals = []
    sun: Intervals = []


class HoursException(_Strict):
    date: date
    hours: Intervals = []          # [] or left out: not working that day
    reason: Annotated[str, Field(max_length=500)] | None = None


class Provider(_Strict):
    id: Id
    name: Name
    slot_minutes: Annotated[int, Field(ge=5, le=240)] | None = None
    default_duration_minutes: Annotated[int, Field(ge=5, le=480)] | None = None
    active: bool = True            # a listed provider is active unless it says so
    hours: Week | None = None
    exceptions: list[HoursException] | None = None


class Service(_Strict):
    id: Id
    name: Name
    duration_minutes: Annotated[int, Field(ge=5, le=480)]
    buffer_before_minutes: Annotated[int, Field(ge=0, le=240)] | None = None
    buffer_after_minutes: Annotated[int, Field(ge=0, le=240)] | None = None
    price_cents: Annotated[int, Field(ge=0)] | None = None
    value_tier: Literal["low", "standard", "high"] | None = None
    providers: list[Id] | None = None          # [] = every active provider
    active: bool = True


_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


def parse_moment(value: Any) -> tuple[date, time | None]:
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    m = _MOMENT.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r}: write a local date (2026-12-24) or date and time (2026-12-24 13:00)")
    try:
        day = date.fromisoformat(m[1])
    except ValueError:
        raise ValueError(f"{value!r}: not a date") from None
    return (day, _clock(m[2], m[3], value) if m[2] else None)


Moment = Annotated[tuple[date, time | None], BeforeValidator(parse_moment)]


class TimeOff(_Strict):
    provider: Id | None = None     # left out: the whole clinic is closed
    starts: Moment                 # a date alone: from the start of that day
    ends: Moment                   # a date alone: to the end of that day (inclusive)
    reason: Annotated[str, Field(max_length=500)] | None = None

    def local_range(self) -> tuple[datetime, datetime]:
        (d1, t1), (d2, t2) = self.starts, self.ends
        start = datetime.combine(d1, t1 or time(0))
        end = datetime.combine(d2, t2) if t2 is not None else datetime.combine(d2 + timedelta(days=1), time(0))
        return start, end


class ClinicFile(_Strict):
    clinic: Clinic
    providers: list[Provider] = []
    services: list[Service] = []
    time_off: list[TimeOff] | None = None


# -- validation ------------------------------------------------------------------------------------------

_PYDANTIC_WORDS = {
    "missing": "missing: this key is required",
    "extra_forbidden": "unknown key",
}


def _pydantic_problems(exc: ValidationError, data: Any, positions: Positions) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        path = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        # pydantic names the branch of a union it tried ('function-before[...]', 'list[...]'): not a key of ours
        path = tuple(p for p in path if not (isinstance(p, str) and ("[" in p or p in ("int", "str", "bool"))))
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = path[:-1]
            known = _known_keys(parent, data)
            msg = f"unknown key {path[-1]!r}" + (f" (known: {', '.join(known)})" if known else "")
            out.append(positions.problem(path, msg, key=True))
            continue
        msg = _PYDANTIC_WORDS.get(kind) or err["msg"].removeprefix("Value error, ")
        if kind == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == ID_PATTERN:
            msg = f"{err['input']!r} is not an id: lowercase letters, digits, - and _ (e.g. cal-smith), at most 63"
        if kind == "missing":
            out.append(positions.problem(path[:-1], f"missing required key {path[-1]!r}"))
            continue
        out.append(positions.problem(path, msg))
    # one problem per place is enough (a union reports each branch)
    seen, unique = set(), []
    for p in out:
        if (p.line, p.column, p.where) not in seen:
            seen.add((p.line, p.column, p.where))
            unique.append(p)
    return unique


def _known_keys(parent: Path_, data: Any) -> list[str]:
    model: type[BaseModel] | None = ClinicFile
    for part in parent:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_of(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found:
            return found
    return None


def _phone_problem(raw: str | None, country: str) -> str | None:
    from voxbook.db import ApiError
    from voxbook.phones import to_e164

    try:
        to_e164(raw, country)
    except ApiError as exc:
        return f"{exc.message}: {raw!r} ({exc.hint})" if exc.hint else f"{exc.message}: {raw!r}"
    return None


def _semantic_problems(f: ClinicFile, positions: Positions) -> list[Problem]:
    out: list[Problem] = []
    country = f.clinic.country or "US"
    for key in ("phone", "hot_lead_phone", "sms_from"):
        raw = getattr(f.clinic, key)
        if raw is not None:
            bad = _phone_problem(raw, country)
            if bad:
                out.append(positions.problem(("clinic", key), bad))
    if f.clinic.locale and f.clinic.languages is not None and f.clinic.locale.split("-")[0] not in f.clinic.languages:
        out.append(positions.problem(("clinic", "languages"),
                                     f"the clinic's locale {f.clinic.locale} speaks a language not listed here"))
    provider_ids: dict[str, int] = {}
    for i, p in enumerate(f.providers):
        if p.id in provider_ids:
            out.append(positions.problem(("providers", i, "id"), f"provider {p.id!r} is defined twice"))
        provider_ids.setdefault(p.id, i)
        dates: set[date] = set()
        for j, x in enumerate(p.exceptions or []):
            if x.date in dates:
                out.append(positions.problem(("providers", i, "exceptions", j, "date"),
                                             f"{x.date} has two exceptions for {p.id}: give one with all its hours"))
            dates.add(x.date)
    known = ", ".join(provider_ids) or "none"
    service_ids: set[str] = set()
    for i, s in enumerate(f.services):
        if s.id in service_ids:
            out.append(positions.problem(("services", i, "id"), f"service {s.id!r} is defined twice"))
        service_ids.add(s.id)
        for j, cal in enumerate(s.providers or []):
            if cal not in provider_ids:
                out.append(positions.problem(("services", i, "providers", j),
                                             f"service {s.id!r} names provider {cal!r}, which this file does not "
                                             f"define (providers: {known})"))
    for i, t in enumerate(f.time_off or []):
        if t.provider is not None and t.provider not in provider_ids:
            out.append(positions.problem(("time_off", i, "provider"),
                                         f"no provider {t.provider!r} in this file (providers: {known}; "
                                         "leave provider out to close the whole clinic)"))
        start, end = t.local_range()
        if end <= start:
            out.append(positions.problem(("time_off", i, "ends"), "ends before it starts"))
    return out


def parse(text: str, source: str = "clinic file") -> tuple[ClinicFile, Positions]:
    """The validated file and its positions, or ClinicFileError naming every problem's line."""
    data, positions = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ClinicFileError(source, [positions.problem((), "the file must be a mapping with `clinic:` at the top")])
    try:
        model = ClinicFile.model_validate(data)
    except ValidationError as exc:
        raise ClinicFileError(source, _pydantic_problems(exc, data, positions)) from None
    problems = _semantic_problems(model, positions)
    if problems:
        raise ClinicFileError(source, problems)
    return model, positions


# -- states: what the clinic is (the database's) and what the file wants --------------------------------
#
# A state is plain data:
#   {"org_id": str | None,
#    "clinic": {"name", "phone", "time_zone", "country", "locale", "languages", "hot_lead_phone", "sms_from",
#               "settings": {name: value}} | None (no such clinic yet),
#    "providers": {calendar_id: {"name", "slot_minutes", "default_duration_minutes", "active",
#                                "hours": {"mon": [(time, time)], ...}, "exceptions": {date: {"hours", "reason"}}}},
#    "services": {service_id: {"name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
#                              "price_cents", "value_tier", "providers": [calendar_id] ([] = all), "active"}},
#    "time_off": {(calendar_id | None, starts UTC, ends UTC): {"reason", "id"}}}
# The current state has every key; the desired one (the file) only those the file writes, and
# "exceptions" / "time_off" / "hours" only when written. Only the future counts for exceptions and time off.

CLEARABLE = ("hot_lead_phone", "sms_from", "help_text", "allowed_sms_calling_codes")   # null clears these
CLINIC_FIELDS = ("name", "phone", "time_zone", "country", "locale", "languages", "hot_lead_phone", "sms_from")
PROVIDER_FIELDS = ("name", "slot_minutes", "default_duration_minutes", "active")
SERVICE_FIELDS = ("name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "price_cents",
                  "value_tier", "providers", "active")


def _given(model: BaseModel) -> set[str]:
    return set(model.model_fields_set)


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time of the clinic's zone as a UTC instant (the first of two in a fall-back hour)."""
    from datetime import timezone

    return local.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(timezone.utc)


def desired(f: ClinicFile, today: date, now: datetime) -> dict[str, Any]:
    """What the file asks for, in the shape of a state, keeping only what it writes (see above). Exceptions
    dated before ``today`` (the clinic's local date) and time off that ended before ``now`` are history: left out."""
    from voxbook.phones import to_e164

    c = f.clinic
    country = c.country or "US"
    clinic: dict[str, Any] = {}
    for key in CLINIC_FIELDS:
        if key in _given(c):
            value = getattr(c, key)
            if key in ("phone", "hot_lead_phone", "sms_from"):
                value = to_e164(value, country)
            if value is not None or key in CLEARABLE:   # null for a value that cannot be cleared: left out
                clinic[key] = value
    clinic["settings"] = ({k: getattr(c.settings, k) for k in _given(c.settings)
                           if getattr(c.settings, k) is not None or k in CLEARABLE} if c.settings is not None else {})
    providers: dict[str, Any] = {}
    for p in f.providers:
        d: dict[str, Any] = {k: getattr(p, k) for k in PROVIDER_FIELDS
                             if (k in _given(p) and getattr(p, k) is not None) or k == "active"}
        if p.hours is not None:
            d["hours"] = {day: list(getattr(p.hours, day)) for day in WEEKDAYS if getattr(p.hours, day)}
        if p.exceptions is not None:
            d["exceptions"] = {x.date: {"hours": list(x.hours), "reason": x.reason}
                               for x in p.exceptions if x.date >= today}
        providers[p.id] = d
    services: dict[str, Any] = {}
    for s in f.services:
        # null is as left out (api.upsert_service keeps a price; providers: [] means all)
        d = {k: getattr(s, k) for k in SERVICE_FIELDS
             if (k in _given(s) and getattr(s, k) is not None) or k in ("active", "name", "duration_minutes")}
        if d.get("providers") is not None:
            d["providers"] = sorted(set(d["providers"]))
        services[s.id] = d
    time_off = None
    if f.time_off is not None:
        time_off = {}
        for t in f.time_off:
            start, end = t.local_range()
            key = (t.provider, to_utc(start, c.time_zone), to_utc(end, c.time_zone))
            if key[2] > now:
                time_off[key] = {"reason": t.reason}
    return {"org_id": str(c.id) if c.id else None, "clinic": clinic, "providers": providers,
            "services": services, "time_off": time_off}


def empty_state() -> dict[str, Any]:
    return {"org_id": None, "clinic": None, "providers": {}, "services": {}, "time_off": {}}


def merged(current: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """The state the clinic will be in once the file is applied (for the stranding check)."""
    import copy

    after = copy.deepcopy(current)
    after["clinic"] = {**(after["clinic"] or {}), **{k: v for k, v in want["clinic"].items() if k != "settings"}}
    providers = after["providers"]
    for cal, p in providers.items():
        if cal not in want["providers"]:
            p["active"] = False
    for cal, w in want["providers"].items():
        base = providers.setdefault(cal, {"hours": {}, "exceptions": {}})
        base.update({k: v for k, v in w.items() if k != "exceptions"})
        if "exceptions" in w:   # history kept, the future replaced
            base["exceptions"] = w["exceptions"]
    services = after["services"]
    for sid, s in services.items():
        if sid not in want["services"]:
            s["active"] = False
    for sid, w in want["services"].items():
        services.setdefault(sid, {"providers": []}).update(w)
    if want["time_off"] is not None:
        after["time_off"] = dict(want["time_off"])
    return after


# -- the plan ---------------------------------------------------------------------------------------------


@dataclass
class Op:
    """One api call of the plan, with the lines that show it and where the file asks for it."""
    sign: str                      # + created, ~ changed, - removed or deactivated
    title: str                     # provider cal-smith (Dr. Smith)
    function: str                  # api function
    kwargs: dict[str, Any]
    path: Path_ = ()               # in the file, for errors; () for what the file leaves out
    changes: tuple[str, ...] = ()  # "slot_minutes: 30 -> 15"

    def lines(self) -> list[str]:
        head = f"{self.sign} {self.title}"
        if len(self.changes) == 1 and self.sign == "~":
            return [f"{head}: {self.changes[0]}"]
        return [head] + [f"    {c}" for c in self.changes]


def mask_phone(number: str | None) -> str:
    return "(none)" if number is None else f"{number[:2]}…{number[-4:]}"


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]" if value else "[] (all)"
    if isinstance(value, str):
        return repr(value) if (not value or value != value.strip() or " " in value and len(value) > 40) else value
    return str(value)


def _hours_json(week: dict[str, list[tuple[time, time]]]) -> dict[str, list[list[str]]]:
    return {day: _intervals_json(ivs) for day, ivs in week.items() if ivs}


def _intervals_json(ivs: list[tuple[time, time]]) -> list[list[str]]:
    return [[hhmm(s), hhmm(e)] for s, e in ivs]


def local_text(instant: datetime, zone: str) -> str:
    return instant.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _index(f: ClinicFile) -> tuple[dict[str, int], dict[str, int]]:
    return ({p.id: i for i, p in enumerate(f.providers)}, {s.id: i for i, s in enumerate(f.services)})


def plan(current: dict[str, Any], want: dict[str, Any], f: ClinicFile, changed_by: str | None,
         org_id: str | None, allow_stranding: bool = False) -> list[Op]:
    """The api calls that take the clinic from ``current`` to what the file wants, in the order they must run:
    the clinic, providers (and their hours and exceptions), services, time off, then deactivations."""
    ops: list[Op] = []
    by = {"changed_by": changed_by}
    pidx, sidx = _index(f)
    wc = want["clinic"]
    zone = wc["time_zone"]
    # the clinic
    if current["clinic"] is None:
        args = {k: v for k, v in wc.items() if k != "settings" and v is not None}
        if wc["settings"]:
            args["settings"] = wc["settings"]
        if org_id:
            args["org_id"] = org_id
        ops.append(Op("+", f"clinic {wc['name']} ({wc['phone']}, {zone})", "create_clinic", args | by, ("clinic",)))
    else:
        cc = current["clinic"]
        args, changes = {}, []
        for key in CLINIC_FIELDS:
            if key in wc and wc[key] != cc.get(key):
                old_text, new_text = (show(cc.get(key)), show(wc[key])) if key != "hot_lead_phone" else \
                    (mask_phone(cc.get(key)), mask_phone(wc[key]))   # the owner's own mobile: not in output
                changes.append(f"{key}: {old_text} -> {new_text}")
                args[key] = wc[key]
        settings = {}
        for key, value in wc["settings"].items():
            if value != cc["settings"].get(key):
                changes.append(f"settings.{key}: {show(cc['settings'].get(key))} -> {show(value)}")
                settings[key] = value
        # clearing an optional number goes through settings (api.update_clinic: NULL = unchanged)
        for key, column in (("hot_lead_phone", "hot_lead_alert_phone"), ("sms_from", "sms_from")):
            if key in args and args[key] is None:
                del args[key]
                settings[column] = None
        if settings:
            args["settings"] = settings
        if changes:
            ops.append(Op("~", f"clinic {wc.get('name') or cc['name']}", "update_clinic",
                          {"org_id": org_id} | args | by, ("clinic",), tuple(changes)))
    # providers, their weeks and their exceptions
    late: list[Op] = []
    for cal, w in want["providers"].items():
        cur = current["providers"].get(cal)
        path = ("providers", pidx[cal])
        if cur is None:
            args = {k: v for k, v in w.items() if k in PROVIDER_FIELDS}
            ops.append(Op("+", f"provider {cal} ({w['name']})", "upsert_provider",
                          {"org_id": org_id, "calendar_id": cal, "display_name": args.pop("name")} | args | by, path))
            cur = {"hours": {}, "exceptions": {}, "active": w["active"]}
        else:
            changes = [f"{k}: {show(cur.get(k))} -> {show(w[k])}" for k in PROVIDER_FIELDS
                       if k in w and w[k] != cur.get(k) and not (k == "active" and not w[k])]
            if changes:
                args = {k: w[k] for k in PROVIDER_FIELDS if k in w and k != "name" and not (k == "active" and not w[k])}
                ops.append(Op("~", f"provider {cal}", "upsert_provider",
                              {"org_id": org_id, "calendar_id": cal, "display_name": w["name"]} | args | by,
                              path, tuple(changes)))
            if cur.get("active") and not w["active"]:
                late.append(_deactivate(org_id, cal, cur, path, by, allow_stranding=allow_stranding))
        if "hours" in w and w["hours"] != cur["hours"]:
            if cur["hours"]:
                changes = [f"{day}: {fmt_intervals(cur['hours'].get(day))} -> {fmt_intervals(w['hours'].get(day))}"
                           for day in WEEKDAYS if cur["hours"].get(day, []) != w["hours"].get(day, [])]
            else:
                changes = [f"{day}: {fmt_intervals(w['hours'][day])}" for day in WEEKDAYS if w["hours"].get(day)]
            ops.append(Op("~" if cur["hours"] else "+", f"provider {cal} hours", "set_working_hours",
                          {"org_id": org_id, "calendar_id": cal, "hours": _hours_json(w["hours"])} | by,
                          path + ("hours",), tuple(changes)))
        if "exceptions" in w:
            xpath = path + ("exceptions",)
            dates = {x.date: j for j, x in enumerate(f.providers[pidx[cal]].exceptions or [])}
            for day, x in sorted(w["exceptions"].items()):
                old = cur["exceptions"].get(day)
                if old == x:
                    continue
                text = fmt_intervals(x["hours"]) + (f" ({x['reason']})" if x["reason"] else "")
                ops.append(Op("~" if old else "+", f"provider {cal} exception {day}: {text}", "set_hours_exception",
                              {"org_id": org_id, "calendar_id": cal, "on_date": day,
                               "hours": _intervals_json(x["hours"]), "reason": x["reason"]} | by,
                              xpath + (dates[day],)))
            for day, x in sorted(cur["exceptions"].items()):
                if day not in w["exceptions"]:    # the current state holds today's and later ones only
                    ops.append(Op("-", f"provider {cal} exception {day}: {fmt_intervals(x['hours'])}",
                                  "set_hours_exception", {"org_id": org_id, "calendar_id": cal, "on_date": day,
                                                          "hours": None} | by, xpath))
    # services (after the providers they name)
    for sid, w in want["services"].items():
        cur = current["services"].get(sid)
        path = ("services", sidx[sid])
        args = {"org_id": org_id, "service_id": sid, "name": w["name"], "duration_minutes": w["duration_minutes"]}
        if cur is None:
            args |= {k: v for k, v in w.items() if k not in ("name", "duration_minutes")}
            ops.append(Op("+", f"service {sid} ({w['name']}, {w['duration_minutes']} min)", "upsert_service",
                          args | by, path))
            continue
        changes = [f"{k}: {show(cur.get(k))} -> {show(w[k])}" for k in SERVICE_FIELDS if k in w and w[k] != cur.get(k)]
        if changes:
            args |= {k: v for k, v in w.items() if k not in ("name", "duration_minutes")}
            if "providers" in args and args["providers"] is None:
                args["providers"] = []
            ops.append(Op("~", f"service {sid}", "upsert_service", args | by, path, tuple(changes)))
    for sid, cur in current["services"].items():
        if sid not in want["services"] and cur.get("active"):
            ops.append(Op("-", f"service {sid} ({cur['name']}): deactivated, not in the file", "upsert_service",
                          {"org_id": org_id, "service_id": sid, "name": cur["name"],
                           "duration_minutes": cur["duration_minutes"], "active": False} | by, ("services",)))
    # time off
    if want["time_off"] is not None:
        index = {}
        for i, t in enumerate(f.time_off or []):
            s, e = t.local_range()
            index[(t.provider, to_utc(s, zone), to_utc(e, zone))] = i
        for key, x in current["time_off"].items():
            w = want["time_off"].get(key)
            if w is None or w["reason"] != x.get("reason"):
                ops.append(Op("-", f"time off {_time_off_text(key, x, zone)}", "unblock_time",
                              {"org_id": org_id, "block_id": x["id"]} | by, ("time_off",)))
        for key, w in sorted(want["time_off"].items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
            x = current["time_off"].get(key)
            if x is None or x.get("reason") != w["reason"]:
                ops.append(Op("+", f"time off {_time_off_text(key, w, zone)}", "block_time",
                              {"org_id": org_id, "calendar_id": key[0], "starts": key[1], "ends": key[2],
                               "reason": w["reason"], "proceed": allow_stranding} | by, ("time_off", index[key])))
    # providers the file leaves out
    for cal, cur in current["providers"].items():
        if cal not in want["providers"] and cur.get("active"):
            late.append(_deactivate(org_id, cal, cur, ("providers",), by, listed=False, allow_stranding=allow_stranding))
    return ops + late


def _deactivate(org_id: str | None, cal: str, cur: dict[str, Any], path: Path_, by: dict[str, Any],
                listed: bool = True, allow_stranding: bool = False) -> Op:
    why = "active: false" if listed else "not in the file"
    # The api refuses to deactivate a provider with future appointments (VB409) unless told what to do with
    # them; a file never cancels anybody's appointment: with --allow-stranding they stay booked ('keep'),
    # listed for staff to move.
    return Op("-", f"provider {cal} ({cur['name']}): deactivated, {why}", "deactivate_provider",
              {"org_id": org_id, "calendar_id": cal, "on_future": "keep" if allow_stranding else "refuse"} | by,
              path)


def _time_off_text(key: tuple[str | None, datetime, datetime], x: dict[str, Any], zone: str) -> str:
    who = key[0] or "whole clinic"
    reason = f": {x['reason']}" if x.get("reason") else ""
    return f"{local_text(key[1], zone)} to {local_text(key[2], zone)} ({who}){reason}"


def render_plan(ops: list[Op]) -> str:
    if not ops:
        return "No changes."
    return "\n".join(line for op in ops for line in op.lines())


# -- stranding: appointments a change would leave outside the clinic's hours ------------------------------


@dataclass(frozen=True)
class Booking:
    """A confirmed future appointment, as the stranding check needs it (no patient data)."""
    appointment_id: str
    calendar_id: str
    service_id: str | None
    starts: datetime
    ends: datetime


def fits(state: dict[str, Any], b: Booking) -> bool:
    """Would the clinic in ``state`` still have this appointment's time open: its provider active and
    offering the service, working then (that date's exception, else the weekday's hours), and no time off."""
    p = state["providers"].get(b.calendar_id)
    if not p or not p.get("active"):
        return False
    s = state["services"].get(b.service_id) if b.service_id else None
    if s and s.get("providers") and b.calendar_id not in s["providers"]:
        return False
    zone = zoneinfo.ZoneInfo(state["clinic"]["time_zone"])
    start, end = b.starts.astimezone(zone), b.ends.astimezone(zone)
    day = start.date()
    intervals = (p["exceptions"][day]["hours"] if day in p.get("exceptions", {})
                 else p.get("hours", {}).get(WEEKDAYS[day.isoweekday() - 1], []))
    end_time = end.time() if end.date() == day else (time.max if end.time() == time(0) and
                                                      end.date() == day + timedelta(days=1) else None)
    if end_time is None or not any(s_ <= start.time() and end_time <= e_ for s_, e_ in intervals):
        return False
    return not any((cal is None or cal == b.calendar_id) and s_ < b.ends and b.starts < e_
                   for cal, s_, e_ in state["time_off"])


def stranded(before: dict[str, Any], after: dict[str, Any], bookings: list[Booking]) -> list[Booking]:
    """The appointments that fit the clinic now and would not after the change (one already outside its
    hours is not this change's doing)."""
    return [b for b in bookings if fits(before, b) and not fits(after, b)]


def render_stranded(found: list[Booking], zone: str) -> str:
    lines = [f"  {local_text(b.starts, zone)} {b.calendar_id}" + (f" {b.service_id}" if b.service_id else "")
             + f" (appointment {b.appointment_id})" for b in found[:20]]
    if len(found) > 20:
        lines.append(f"  ... and {len(found) - 20} more")
    return "\n".join(lines)


# -- export ----------------------------------------------------------------------------------------------

EXPORT_HEADER = """\
# A clinic's whole definition for `voxbook clinic apply` (README "Onboarding a clinic").
# Written by `voxbook clinic export`; applying it unchanged changes nothing.
"""


def export_yaml(state: dict[str, Any]) -> str:
    """The state as a clinic file (every key written), in the clinic's local times."""
    c = state["clinic"]
    zone = c["time_zone"]
    clinic: dict[str, Any] = {"id": state["org_id"]}
    for key in CLINIC_FIELDS:
        if key in ("hot_lead_phone", "sms_from") and c.get(key) is None:
            continue
        clinic[key] = c[key]
    clinic["settings"] = {k: c["settings"][k] for k in Settings.model_fields if c["settings"].get(k) is not None}
    doc: dict[str, Any] = {"clinic": clinic, "providers": [], "services": []}
    for cal, p in sorted(state["providers"].items(), key=lambda kv: (not kv[1]["active"], kv[0])):
        out: dict[str, Any] = {"id": cal, "name": p["name"], "slot_minutes": p["slot_minutes"],
                               "default_duration_minutes": p["default_duration_minutes"]}
        if not p["active"]:
            out["active"] = False
        out["hours"] = {day: [fmt_interval(iv) for iv in p["hours"][day]] for day in WEEKDAYS if p["hours"].get(day)}
        out["exceptions"] = [{"date": day, "hours": [fmt_interval(iv) for iv in x["hours"]]}
                             | ({"reason": x["reason"]} if x["reason"] else {})
                             for day, x in sorted(p["exceptions"].items())]
        doc["providers"].append(out)
    for sid, s in sorted(state["services"].items(), key=lambda kv: (not kv[1]["active"], kv[0])):
        out = {"id": sid, "name": s["name"], "duration_minutes": s["duration_minutes"],
               "buffer_before_minutes": s["buffer_before_minutes"], "buffer_after_minutes": s["buffer_after_minutes"],
               "price_cents": s["price_cents"], "value_tier": s["value_tier"], "providers": s["providers"]}
        if out["price_cents"] is None:
            del out["price_cents"]
        if not s["active"]:
            out["active"] = False
        doc["services"].append(out)
    doc["time_off"] = []
    for (cal, start, end), x in sorted(state["time_off"].items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        s_local = start.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        e_local = end.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        out = {} if cal is None else {"provider": cal}
        if s_local.time() == time(0) and e_local.time() == time(0):   # whole days: the last one inclusive
            out |= {"starts": s_local.date(), "ends": e_local.date() - timedelta(days=1)}
        else:
            out |= {"starts": s_local.strftime("%Y-%m-%d %H:%M"), "ends": e_local.strftime("%Y-%m-%d %H:%M")}
        if x.get("reason"):
            out["reason"] = x["reason"]
        doc["time_off"].append(out)

    class _Dumper(yaml.SafeDumper):
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)   # lists indented under their key, as people write them

    def _flow_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
        flow = all(isinstance(x, (str, int)) for x in data)   # hours, provider lists: one line
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    _Dumper.add_representer(list, _flow_list)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    # PyYAML quotes any ':' inside a flow list; an interval needs no quotes (and reads better without)
    text = re.sub(r"'(\d\d:\d\d-\d\d:\d\d)'", r"\1", text)
    return EXPORT_HEADER + text


# -- the database: reading the clinic, applying the plan in one transaction ------------------------------


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def state_from_clinic(c: dict[str, Any]) -> dict[str, Any]:
    """api.get_clinic's answer as a state."""
    def ivs(pairs: list[list[str]]) -> list[tuple[time, time]]:
        return [(db_time(a), db_time(b)) for a, b in pairs]

    providers = {}
    for p in c["providers"]:
        providers[p["calendar_id"]] = {
            "name": p["display_name"], "slot_minutes": p["slot_minutes"],
            "default_duration_minutes": p["default_duration_minutes"], "active": p["active"],
            "hours": {day: ivs(p["hours"][day]) for day in WEEKDAYS if p["hours"].get(day)},
            "exceptions": {date.fromisoformat(x["on_date"]): {"hours": ivs(x["hours"]), "reason": x["reason"]}
                           for x in p["exceptions"]},
        }
    services = {s["service_id"]: {k: s[k] for k in SERVICE_FIELDS if k != "providers"}
                | {"providers": sorted(s["providers"])} for s in c["services"]}
    # Busy time imported from a provider's own calendar (source "caldav") is that calendar's, not the file's.
    time_off = {(b["calendar_id"], _instant(b["starts_at"]), _instant(b["ends_at"])):
                {"reason": b["reason"], "id": b["block_id"]} for b in c["blocks"] if b.get("source") is None}
    clinic = {k: c[k] for k in CLINIC_FIELDS} | {"settings": dict(c["settings"])}
    return {"org_id": str(c["org_id"]), "clinic": clinic, "providers": providers, "services": services,
            "time_off": time_off}


class StrandingRefused(Exception):
    """The file would leave booked appointments outside the clinic's hours (and --allow-stranding was not given)."""

    def __init__(self, found: list[Booking], zone: str, plan_text: str):
        self.found, self.plan_text = found, plan_text
        n = len(found)
        super().__init__(
            f"refused: this change would leave {n} booked appointment{'s' if n > 1 else ''} outside the clinic's "
            f"hours or with a provider who no longer offers them:\n{render_stranded(found, zone)}\n"
            "Move or cancel them first, or pass --allow-stranding to apply anyway (they stay booked, for staff "
            "to reschedule; a provider with future appointments is still never deactivated).")


@dataclass
class ApplyResult:
    org_id: str
    created: bool
    ops: list[Op]
    stranded: list[Booking]
    zone: str
    dry_run: bool

    def plan_text(self) -> str:
        return render_plan(self.ops)


class _RollBack(Exception):
    def __init__(self, result: ApplyResult):
        self.result = result


async def _find_org(conn: Any, f: ClinicFile) -> str | None:
    from voxbook.db import ApiError, call
    from voxbook.phones import to_e164

    try:
        if f.clinic.id is not None:
            return str((await call(conn, "get_clinic", org_id=str(f.clinic.id)))["org_id"])
        e164 = to_e164(f.clinic.phone, f.clinic.country or "US")
        return str((await call(conn, "find_organization", phone=e164))["org_id"])
    except ApiError as exc:
        if exc.sqlstate == "VB404":
            return None
        raise


async def _bookings(conn: Any, org_id: str) -> list[Booking]:
    """The clinic's confirmed appointments from now on (no names or numbers kept)."""
    from voxbook.db import call

    out: dict[str, Booking] = {}
    since = None
    while True:
        page = await call(conn, "list_appointments", org_id=org_id, from_time=since, status="confirmed", max_rows=5000)
        for a in page["appointments"]:
            out[a["appointment_id"]] = Booking(a["appointment_id"], a["calendar_id"], a.get("service"),
                                               _instant(a["starts_at"]), _instant(a["ends_at"]))
        if not page.get("more") or not page["appointments"]:
            return sorted(out.values(), key=lambda b: (b.starts, b.appointment_id))
        since = page["appointments"][-1]["starts_at"]


async def apply(conn: Any, f: ClinicFile, positions: Positions, source: str, *, dry_run: bool = False,
                allow_stranding: bool = False, changed_by: str | None = None) -> ApplyResult:
    """Applies the file through the api functions in one transaction (voxbook.db.in_transaction) on an
    autocommit AsyncConnection: reads the clinic, plans, refuses to strand appointments unless allowed, runs
    the plan. ``dry_run`` runs it all and rolls back. An api error is raised as ClinicFileError at the line of
    the part of the file that asked for the call."""
    from datetime import timezone

    from psycopg.types.json import Jsonb

    from voxbook.db import ApiError, call, in_transaction

    # Which clinic, before the transaction (a "no such clinic" error would abort it; no savepoint needed):
    # a clinic created meanwhile by someone else is caught by create_clinic (VB409 phone or id taken).
    org_id = await _find_org(conn, f)

    async def work() -> ApplyResult:
        current = state_from_clinic(await call(conn, "get_clinic", org_id=org_id)) if org_id else empty_state()
        zone = f.clinic.time_zone
        now = datetime.now(timezone.utc)
        want = desired(f, now.astimezone(zoneinfo.ZoneInfo(zone)).date(), now)
        target = org_id or want["org_id"]
        ops = plan(current, want, f, changed_by, target, allow_stranding)
        found: list[Booking] = []
        if org_id:
            found = stranded(current, merged(current, want), await _bookings(conn, org_id))
            if found and not allow_stranding:
                raise StrandingRefused(found, zone, render_plan(ops))
        for op in ops:
            kwargs = dict(op.kwargs)
            if "org_id" in kwargs and kwargs["org_id"] is None:
                kwargs["org_id"] = target
            for key in ("settings", "hours"):   # the jsonb parameters
                if kwargs.get(key) is not None:
                    kwargs[key] = Jsonb(kwargs[key])
            try:
                answer = await call(conn, op.function, **kwargs)
            except ApiError as exc:
                text = exc.message + (f" ({exc.hint})" if exc.hint else "")
                raise ClinicFileError(source, [positions.problem(op.path, f"{op.function} refused: {text}")]) from None
            if op.function == "create_clinic":
                target = str(answer["org_id"])
        result = ApplyResult(target or "", org_id is None, ops, found, zone, dry_run)
        if dry_run:
            raise _RollBack(result)
        return result

    try:
        return await in_transaction(conn, work)
    except _RollBack as done:
        return done.result


async def export(conn: Any, org: str) -> str:
    """The clinic (its id, or its phone number) as a clinic file."""
    from voxbook.db import call

    try:
        org_id = str(UUID(org))
    except ValueError:
        org_id = str((await call(conn, "find_organization", phone=org))["org_id"])
    return export_yaml(state_from_clinic(await call(conn, "get_clinic", org_id=org_id)))
