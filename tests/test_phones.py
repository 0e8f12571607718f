"""Phone numbers read by the clinic's country (issue 13): voxbook/phones.py (libphonenumber) at the entry points,
internal.normalize_phone (voxbook.countries) in the database -- the same answers -- and a London clinic booking
over HTTP with the caller's national number, the code SMS reaching +447700900456 at the fake Twilio."""

from __future__ import annotations

import phonenumbers
import psycopg
import pytest
from clinic_helpers import new_clinic
from fake_twilio import FakeTwilio
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from sms_helpers import run_once
from sms_helpers import settings_for as sms_settings
from vapi_helpers import AUTH, first_slot, result_of, results, tc, tool_calls, written

from voxbook.db import ApiError
from voxbook.phones import e164_or_raw, to_e164

CASES = [
    # (country, as said, E.164 or None = refused, what it shows)
    ("US", "(201) 555-0123", "+12015550123", "national"),
    ("US", "1 201 555 0123", "+12015550123", "national with the trunk prefix 1"),
    ("US", "+1 201-555-0123", "+12015550123", "international"),
    ("US", "011 44 20 7946 0958", "+442079460958", "the US international prefix 011"),
    ("US", "555-0123", None, "a number without its area code (possible only locally)"),
    ("US", "201 555 01234", None, "one digit too many"),
    ("GB", "07700 900456", "+447700900456", "national with the trunk 0 (the London test)"),
    ("GB", "7700 900456", "+447700900456", "national without the trunk 0"),
    ("GB", "+44 (0)7700 900456", "+447700900456", "international with the (0)"),
    ("GB", "0044 7700 900456", "+447700900456", "international with 00"),
    ("GB", "020 7946 0958", "+442079460958", "a London landline"),
    ("GB", "07700 9004", None, "too short"),
    ("GB", "07700 9004561", None, "too long"),
    ("DE", "030 1234567", "+49301234567", "national with the trunk 0"),
    ("DE", "0151 23456789", "+4915123456789", "a mobile with the trunk 0"),
    ("DE", "30 1234567", "+49301234567", "national without the trunk 0"),
    ("DE", "+49 30 1234567", "+49301234567", "international"),
    ("DE", "0 1", None, "too short"),
    ("FR", "06 12 34 56 78", "+33612345678", "national with the trunk 0"),
    ("FR", "6 12 34 56 78", "+33612345678", "national without the trunk 0"),
    ("FR", "+33 (0)6 12 34 56 78", "+33612345678", "international with the (0)"),
    ("FR", "06 12 34 56", None, "too short"),
    ("IT", "06 6982 1234", "+390669821234", "a Rome landline keeps its 0"),
    ("IT", "+39 06 6982 1234", "+390669821234", "international keeps the 0 too"),
    ("IT", "312 345 6789", "+393123456789", "a mobile"),
    ("IT", "06 1", None, "too short"),
    ("AU", "0412 345 678", "+61412345678", "national with the trunk 0"),
    ("AU", "412 345 678", "+61412345678", "national without the trunk 0"),
    ("AU", "+61 412 345 678", "+61412345678", "international"),
    ("AU", "0011 44 20 7946 0958", "+442079460958", "the Australian international prefix 0011"),
    ("AU", "0412 345", None, "too short"),
    ("MX", "55 1234 5678", "+525512345678", "national (no trunk prefix since 2019)"),
    ("MX", "+52 55 1234 5678", "+525512345678", "international"),
    ("MX", "01 55 1234 5678", None, "the old trunk prefix 01 is no longer dialled: too long"),
    ("MX", "5512 345", None, "too short"),
    ("IN", "098765 43210", "+919876543210", "national with the trunk 0"),
    ("IN", "98765 43210", "+919876543210", "national without the trunk 0"),
    ("IN", "+91 98765 43210", "+919876543210", "international"),
    ("IN", "98765", None, "too short"),
]


@pytest.mark.parametrize(("country", "said", "e164", "why"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_python_reads_numbers_by_the_clinics_country(country, said, e164, why):
    if e164 is None:
        with pytest.raises(ApiError) as exc:
            to_e164(said, country)
        assert (exc.value.sqlstate, exc.value.message) == ("VB400", "malformed phone number")
        assert exc.value.hint.startswith(f"Give the number with +{phonenumbers.country_code_for_region(country)}, "
                                         f"or as dialled in {country}, e.g. ")
    else:
        assert to_e164(said, country) == e164, why


def _sql(db, said: str, country: str | None) -> str | tuple[str, str, str]:
    try:
        return db.execute("SELECT internal.normalize_phone(%s, %s) AS e", [said, country]).fetchone()["e"]
    except psycopg.Error as exc:
        return (exc.diag.sqlstate, exc.diag.message_primary, exc.diag.message_hint)


def _py(said: str, country: str | None) -> str | tuple[str, str, str]:
    try:
        return to_e164(said, country)
    except ApiError as exc:
        return (exc.sqlstate, exc.message, exc.hint)


def test_the_database_gives_the_same_answers_and_refusals(db):
    for country, said, e164, why in CASES:
        assert _sql(db, said, country) == _py(said, country), (country, said, why)
        if e164 is None:
            assert _sql(db, said, country)[0] == "VB400"


def test_every_regions_example_numbers_read_the_same_in_python_and_sql(db):
    """All ~245 regions: national (as dialled there), international (from a US clinic) and E.164 forms."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            for said, country in ((phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), region),
                                  (phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), "US"),
                                  (e164, None)):
                assert _sql(db, said, country) == _py(said, country), (region, said, country)
                checked += 1
    assert checked > 1000


def test_fictional_ranges_are_numbers():
    assert to_e164("(555) 010-0199", "US") == "+15550100199"
    assert to_e164("+1 555 555 0123", None) == "+15555550123"
    assert to_e164("07700 900999", "GB") == "+447700900999"


def test_blank_is_no_number_and_odd_senders_stay_as_they_came():
    assert to_e164(None, "GB") is None and to_e164("  ", "GB") is None
    assert e164_or_raw("+1 (555) 010-0199") == "+15550100199"
    assert e164_or_raw("0044 20 7946 0958") == "+442079460958"
    assert e164_or_raw("12345") == "12345" and e164_or_raw("ACME") == "ACME"   # a short code, a sender id
    with pytest.raises(ApiError, match="unknown country"):
        to_e164("020 7946 0958", "XX")


@pytest.fixture
def fake():
    with FakeTwilio() as f:
        yield f


def _hook(client, payload):
    return client.post("/vapi/webhook", json=payload, headers=AUTH)


def test_london_clinic_books_with_the_callers_national_number(client, db, fake, app_database_url):
    org, phone = new_clinic(db, "London Smile", country="GB")
    assert phone.startswith("+4420")
    caller, vapi_call, said = "+447700900111", "vapi-london-1", "07700 900456"
    slot = first_slot(client, phone)

    # An impossible number is refused the way the database refuses one, and nothing is written.
    before = written(db, org)
    [item] = results(_hook(client, tool_calls(phone, [tc("tc-bad", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Ada Lovelace",
        "patientPhone": "07700 9004"})], vapi_call=vapi_call, caller=caller)))
    sqlstate, message, hint = _sql(db, "07700 9004", "GB")
    assert item["error"] == f"{message}. {hint}"
    assert "+44" in item["error"] and "as dialled in GB" in item["error"]
    assert written(db, org) == before

    [item] = results(_hook(client, tool_calls(phone, [tc("tc-hold", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Ada Lovelace",
        "patientPhone": said})], vapi_call=vapi_call, caller=caller)))
    held = result_of(item)
    assert held["success"] is True, held
    hold = db.execute("SELECT patient_phone::text AS p FROM voxbook.holds WHERE org_id = %s AND id = %s",
                      [org, held["holdId"]]).fetchone()
    assert hold["p"] == "+447700900456"     # not +4407700900456: the trunk 0 goes

    [item] = results(_hook(client, tool_calls(phone, [tc("tc-code", "send_otp_code", {"holdId": held["holdId"]})],
                                              vapi_call=vapi_call, caller=caller)))
    assert result_of(item)["success"] is True, item
    settings = sms_settings(fake, app_database_url)
    assert run_once(settings) == 0
    [code_sms] = fake.posts_for("+447700900456")
    code = code_sms["params"]["Body"].split()[0]
    assert code.isdigit()

    [item] = results(_hook(client, tool_calls(phone, [tc("tc-verify", "verify_otp", {
        "holdId": held["holdId"], "providedOTP": code, "patientPhone": "+44 (0)7700 900456"})],
        vapi_call=vapi_call, caller=caller)))
    booked = result_of(item)
    assert booked["success"] is True and booked["appointmentId"], booked
    assert run_once(settings) == 0
    posts = fake.posts_for("+447700900456")
    assert len(posts) == 2 and posts[1]["params"]["Body"].startswith("Your appointment is confirmed:")
    assert not fake.posts_for("+4407700900456")


def test_the_database_writes_every_regions_example_numbers_as_libphonenumber_does_nationally(db):
    """internal.display_phone(e164, country) agrees with phonenumbers.format_number(NATIONAL) for the example
    number of every type of every region, and leaves another country's number in E.164."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
                     PhoneNumberType.VOIP, PhoneNumberType.UAN):
            n = phonenumbers.example_number_for_type(region, kind)
            if n is not None:
                cases.append((region, phonenumbers.format_number(n, PhoneNumberFormat.E164),
                              phonenumbers.format_number(n, PhoneNumberFormat.NATIONAL)))
    assert len(cases) > 700
    rows = db.execute("SELECT c.region, c.e164, internal.display_phone(c.e164, c.region) AS shown "
                      "FROM unnest(%s::text[], %s::text[]) AS c(region, e164)",
                      ([r for r, _, _ in cases], [e for _, e, _ in cases])).fetchall()
    wrong = [(r["region"], r["e164"], r["shown"], want) for r, (_, _, want) in zip(rows, cases, strict=True)
             if r["shown"] != want]
    assert wrong == [], wrong[:20]
    one = db.execute("SELECT internal.display_phone('+442079460958', 'GB') AS gb, "
                     "internal.display_phone('+442079460958', 'US') AS abroad, "
                     "internal.display_phone('+15551234567', 'us') AS us").fetchone()
    assert one == {"gb": "020 7946 0958", "abroad": "+442079460958", "us": "(555) 123-4567"}
