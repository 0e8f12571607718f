"""Phone numbers entering through Python (webhooks, the CLI), read by the clinic's country.

libphonenumber (the ``phonenumbers`` port) parses what a caller said or a model wrote -- "07700 900456" in GB
is +447700900456, "(555) 123-4567" in the US +15551234567 -- and a number that is not even *possible* (a
length no number of that country has) is refused the way the database refuses it (internal.normalize_phone,
db/functions/11_phones_and_text.sql, which reads the same metadata from voxbook.countries): an ``ApiError``
VB400 "malformed phone number" whose HINT names the country's format. Possible is enough: validity (assigned
ranges) is not asked, so fictional numbers such as 555-01xx and the UK's 07700 900xxx keep working. Two
refinements, the same in the database: a number possible only when dialled locally (without its area code) is
refused (nobody can be texted at it), and so is one outside its region's general pattern (libphonenumber keeps a
trunk 0 in a number too short to lose it: "07700 9004" in GB would be +44077009004).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, ValidationResult

from voxbook.db import ApiError
from voxbook.phone_data import example

MALFORMED = "malformed phone number"
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def hint(country: str | None) -> str:
    """The HINT of a refusal: the same words as internal.normalize_phone's."""
    region = (country or "").upper()
    code = phonenumbers.country_code_for_region(region) if region else 0
    if not code:
        return "Give the number in E.164 with its +, e.g. +15551234567 (spaces, dashes and brackets are fine)."
    ex = example(region)
    return (f"Give the number with +{code}, or as dialled in {region}" + (f", e.g. {ex}" if ex else "")
            + " (spaces, dashes and brackets are fine).")


def _fits_general_pattern(number: phonenumbers.PhoneNumber) -> bool:
    """The national significant number fits its calling code's main region's general pattern (every number
    of the region does, fictional ones included): a trunk 0 left in a number too short to lose it does not."""
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    pattern = metadata.general_desc.national_number_pattern if metadata and metadata.general_desc else None
    return bool(pattern) and re.fullmatch(pattern, phonenumbers.national_significant_number(number)) is not None


def to_e164(raw: str | None, country: str | None) -> str | None:
    """``raw`` as said in ``country`` (ISO 3166 alpha-2, the clinic's; None: international forms only), in
    E.164. None or blank: None. Not a possible number: ApiError VB400, nothing else happens."""
    if raw is None or not raw.strip():
        return None
    region = country.upper() if country else None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise ApiError("VB400", "unknown country",
                       "Give an ISO 3166 alpha-2 country code such as US or GB (voxbook.countries).")
    text = raw.strip()
    if region is None and text.startswith("00"):
        text = "+" + text[2:]   # '00' as written everywhere (the database reads it so too)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise ApiError("VB400", MALFORMED, hint(region)) from None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if (phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE
            or not _fits_general_pattern(number) or number.extension or not _E164.match(e164)):
        raise ApiError("VB400", MALFORMED, hint(region))
    return e164


def e164_or_none(raw: str | None, country: str | None) -> str | None:
    """For numbers that are kept when they can be read and dropped when not (a withheld caller ID)."""
    try:
        return to_e164(raw, country)
    except ApiError:
        return None


def e164_or_raw(raw: str | None) -> str | None:
    """An international number in its E.164 spelling; anything else (a short code, an alphanumeric sender)
    as it came, for the database to judge."""
    return e164_or_none(raw, None) or raw
