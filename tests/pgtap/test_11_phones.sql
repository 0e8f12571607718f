-- internal.normalize_phone (db/functions/11_phones_and_text.sql): a number read by the clinic's country, with
-- libphonenumber's rules from voxbook.countries; the callers pass organizations.country, which agrees with
-- country_code. The same cases as tests/test_phones.py (voxbook/phones.py). Helpers run as the owner, the api
-- functions as the API role.
BEGIN;
SELECT plan(59);

CREATE TEMP TABLE cases (country text, said text, e164 text, why text);
INSERT INTO cases VALUES
    ('US', '(201) 555-0123', '+12015550123', 'national'),
    ('US', '1 201 555 0123', '+12015550123', 'national with the trunk prefix 1'),
    ('US', '+1 201-555-0123', '+12015550123', 'international'),
    ('US', '011 44 20 7946 0958', '+442079460958', 'the US international prefix 011'),
    ('US', '555-0123', NULL, 'a number without its area code (possible only locally)'),
    ('US', '201 555 01234', NULL, 'one digit too many'),
    ('GB', '07700 900456', '+447700900456', 'national with the trunk 0 (the London test)'),
    ('GB', '7700 900456', '+447700900456', 'national without the trunk 0'),
    ('GB', '+44 (0)7700 900456', '+447700900456', 'international with the (0)'),
    ('GB', '0044 7700 900456', '+447700900456', 'international with 00'),
    ('GB', '020 7946 0958', '+442079460958', 'a London landline'),
    ('GB', '07700 9004', NULL, 'too short'),
    ('GB', '07700 9004561', NULL, 'too long'),
    ('DE', '030 1234567', '+49301234567', 'national with the trunk 0'),
    ('DE', '0151 23456789', '+4915123456789', 'a mobile with the trunk 0'),
    ('DE', '30 1234567', '+49301234567', 'national without the trunk 0'),
    ('DE', '+49 30 1234567', '+49301234567', 'international'),
    ('DE', '0 1', NULL, 'too short'),
    ('FR', '06 12 34 56 78', '+33612345678', 'national with the trunk 0'),
    ('FR', '6 12 34 56 78', '+33612345678', 'national without the trunk 0'),
    ('FR', '+33 (0)6 12 34 56 78', '+33612345678', 'international with the (0)'),
    ('FR', '06 12 34 56', NULL, 'too short'),
    ('IT', '06 6982 1234', '+390669821234', 'a Rome landline keeps its 0'),
    ('IT', '+39 06 6982 1234', '+390669821234', 'international keeps the 0 too'),
    ('IT', '312 345 6789', '+393123456789', 'a mobile'),
    ('IT', '06 1', NULL, 'too short'),
    ('AU', '0412 345 678', '+61412345678', 'national with the trunk 0'),
    ('AU', '412 345 678', '+61412345678', 'national without the trunk 0'),
    ('AU', '+61 412 345 678', '+61412345678', 'international'),
    ('AU', '0011 44 20 7946 0958', '+442079460958', 'the Australian international prefix 0011'),
    ('AU', '0412 345', NULL, 'too short'),
    ('MX', '55 1234 5678', '+525512345678', 'national (no trunk prefix since 2019)'),
    ('MX', '+52 55 1234 5678', '+525512345678', 'international'),
    ('MX', '01 55 1234 5678', NULL, 'the old trunk prefix 01 is no longer dialled: too long'),
    ('MX', '5512 345', NULL, 'too short'),
    ('IN', '098765 43210', '+919876543210', 'national with the trunk 0'),
    ('IN', '98765 43210', '+919876543210', 'national without the trunk 0'),
    ('IN', '+91 98765 43210', '+919876543210', 'international'),
    ('IN', '98765', NULL, 'too short')
;

-- national, international, with and without the trunk prefix, for US, GB, DE, FR, IT, AU, MX, IN
SELECT is(internal.normalize_phone(said, country), e164, format('%s %s: %s -> %s', country, why, said, e164))
  FROM cases WHERE e164 IS NOT NULL ORDER BY country, said;
SELECT throws_ok(format('SELECT internal.normalize_phone(%L, %L)', said, country), 'VB400', 'malformed phone number',
                 format('%s refuses %s (%s)', country, said, why))
  FROM cases WHERE e164 IS NULL ORDER BY country, said;

-- The HINT names the country's format.
CREATE FUNCTION pg_temp.hint_of(said text, country text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM internal.normalize_phone(said, country);
    RETURN NULL;
EXCEPTION WHEN SQLSTATE 'VB400' THEN
    DECLARE h text;
    BEGIN
        GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
        RETURN h;
    END;
END
$$;
SELECT is(pg_temp.hint_of('07700 9004', 'GB'),
          'Give the number with +44, or as dialled in GB, e.g. 07400 123456 (spaces, dashes and brackets are fine).',
          'the hint of a GB clinic: +44 or as dialled in GB, with an example');
SELECT is(pg_temp.hint_of('555-0123', 'US'),
          'Give the number with +1, or as dialled in US, e.g. (201) 555-0123 (spaces, dashes and brackets are fine).',
          '... of a US clinic');
SELECT is(internal.normalize_phone('+44 7700 900456', NULL), '+447700900456', 'no country: E.164 is read');
SELECT throws_ok($$SELECT internal.normalize_phone('07700 900456', NULL)$$, 'VB400', 'malformed phone number',
                 'no country: a national number is refused');
SELECT throws_ok($$SELECT internal.normalize_phone('07700 900456', 'XX')$$, 'VB400', 'unknown country',
                 'an unknown country is refused');
SELECT is(internal.normalize_phone('  ', 'GB'), NULL, 'blank is no number');
SELECT is(internal.normalize_phone('(555) 010-0199', 'US'), '+15550100199', 'fictional 555 numbers are numbers');

-- Clinics: country agrees with country_code.
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('London Smile', phone => '+442079460958', time_zone => 'Europe/London') AS gb,
                                tests.create_clinic('Roma Sorriso', phone => '+390669821234', time_zone => 'Europe/Rome') AS it,
                                tests.create_clinic('Austin Smile') AS us;
SELECT is((SELECT country || '/' || country_code FROM voxbook.organizations WHERE id = (SELECT us FROM ctx)), 'US/1',
          'a clinic is in the US by default, with calling code 1');
SELECT throws_ok(format($$UPDATE voxbook.organizations SET country = 'GB' WHERE id = %L$$, (SELECT gb FROM ctx)),
                 '23503', NULL, 'a country that disagrees with country_code is refused');
SELECT throws_ok(format($$UPDATE voxbook.organizations SET country_code = '44' WHERE id = %L$$, (SELECT gb FROM ctx)),
                 '23503', NULL, '... and so is a calling code that disagrees with the country');
SELECT tests.set_clinic((SELECT gb FROM ctx), $$country = 'GB', country_code = '44'$$);
SELECT tests.set_clinic((SELECT it FROM ctx), $$country = 'IT', country_code = '39'$$);
SELECT is((SELECT count(*)::int FROM voxbook.organizations AS o
            WHERE NOT EXISTS (SELECT 1 FROM voxbook.countries AS c
                               WHERE c.iso_code = o.country AND c.calling_code = o.country_code)),
          0, 'every clinic''s country and calling code agree');

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.find_organization('020 7946 0958')->>'org_id', (SELECT gb::text FROM ctx),
          'find_organization reads a national number in the clinic''s country (GB)');
SELECT is(api.find_organization('+44 20 7946 0958')->>'org_id', (SELECT gb::text FROM ctx), '... and E.164');
SELECT is(api.find_organization('06 6982 1234')->>'country', 'IT', '... and an Italian one, with its 0');
CREATE TEMP TABLE claims AS
SELECT api.claim_slot_atomic((SELECT gb FROM ctx), 'cal-a', tests.at((SELECT gb FROM ctx), '2030-01-15 10:00'),
                             'call-gb', 'Ada Lovelace', '07700 900456') AS gb,
       api.claim_slot_atomic((SELECT it FROM ctx), 'cal-a', tests.at((SELECT it FROM ctx), '2030-01-15 10:00'),
                             'call-it', 'Gio Ponti', '06 6982 1234') AS it;
SELECT throws_ok(format($$SELECT api.claim_slot_atomic(%L, 'cal-a', '2030-01-15 11:00:00+00', 'call-gb2', 'Ada', '07700 9004')$$,
                        (SELECT gb FROM ctx)),
                 'VB400', 'malformed phone number', 'a GB clinic refuses an impossible GB number');
SELECT throws_ok(format($$SELECT api.claim_slot_atomic(%L, 'cal-a', '2030-01-15 16:00:00+00', 'call-us', 'Al', '555-0123')$$,
                        (SELECT us FROM ctx)),
                 'VB400', 'malformed phone number', 'a US clinic refuses a number without its area code');
RESET ROLE;
SELECT is((SELECT h.patient_phone::text FROM voxbook.holds AS h
            WHERE h.org_id = (SELECT gb FROM ctx) AND h.id = (SELECT (gb->>'hold_id')::uuid FROM claims)),
          '+447700900456', 'a London clinic holds the caller''s 07700 900456 as +447700900456');
SELECT is((SELECT h.patient_phone::text FROM voxbook.holds AS h
            WHERE h.org_id = (SELECT it FROM ctx) AND h.id = (SELECT (it->>'hold_id')::uuid FROM claims)),
          '+390669821234', 'a Rome clinic keeps the 0 of 06 6982 1234');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+442079460958', '07700 900456', 'STOP', 'SMgb-stop')->>'orgs', '1',
          'an inbound STOP to the London clinic''s number concerns it');
RESET ROLE;
SELECT is((SELECT ct.sms_opted_out FROM voxbook.contacts AS ct
            WHERE ct.org_id = (SELECT gb FROM ctx) AND ct.phone = '+447700900456'), true,
          '... and a national From is read in that clinic''s country (no +1 assumed)');

SELECT * FROM finish();
ROLLBACK;
