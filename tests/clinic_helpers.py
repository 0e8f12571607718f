"""The one test clinic of the pytest suites, made with tests.create_clinic (tests/helpers.pgsql)."""

from __future__ import annotations

import secrets


def unique_phone(country: str = "US") -> str:
    """A fresh number of a clinic: fictional 555 in the US, a London 020 number in GB."""
    prefix, digits = {"US": ("+1555", 7), "GB": ("+4420", 8)}[country]
    return prefix + "".join(secrets.choice("0123456789") for _ in range(digits))


def new_clinic(db, name: str = "Test Clinic", *, sms_from: str | None = None,
               country: str = "US", locale: str | None = None, languages: list[str] | None = None,
               time_zone: str | None = None) -> tuple[str, str]:
    """A fresh clinic (two calendars, three services, America/New_York): its id and the number callers dial.
    sms_from: the clinic's own SMS sender (else the worker uses the Messaging Service).
    country: "GB" makes a London clinic (Europe/London, a +44 20 number, country GB with calling code 44).
    locale, languages: the clinic's locale (e.g. "es-MX") and the languages it offers (default: the locale's);
    time_zone: another IANA zone."""
    phone = unique_phone(country)
    org = db.execute("SELECT tests.create_clinic(name => %s, phone => %s) AS org", [name, phone]).fetchone()["org"]
    if country == "GB":
        db.execute("UPDATE voxbook.organizations SET country = 'GB', country_code = '44', time_zone = 'Europe/London' "
                   "WHERE id = %s", (org,))
    if sms_from:
        db.execute("UPDATE voxbook.organizations SET sms_from = %s WHERE id = %s", (sms_from, org))
    if locale or languages:
        tag = locale or "en-US"
        db.execute("UPDATE voxbook.organizations SET locale = %s, languages = %s WHERE id = %s",
                   (tag, languages or [tag.split("-")[0]], org))
    if time_zone:
        db.execute("UPDATE voxbook.organizations SET time_zone = %s WHERE id = %s", (time_zone, org))
    return str(org), phone
