-- db/functions/64_clinic_setup.sql: a clinic, its providers, services and hours through the api, every change in
-- the audit log (63_audit.sql). Run as the API role; set-up and direct reads as the owner.
-- Time off (block_time and friends) is test_64_clinic_setup_blocks.sql.
BEGIN;
SELECT plan(87);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- a Monday
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Other Clinic', phone => '+15556400009') AS other;
CREATE TEMP TABLE made (k text PRIMARY KEY, j jsonb);
CREATE TEMP VIEW a AS SELECT (j->>'org_id')::uuid AS org, j->'clinic' AS clinic FROM made WHERE k = 'a';
GRANT SELECT ON a TO voxbook_api;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- create_clinic ------------------------------------------------------------------------------------------------
INSERT INTO made SELECT 'a', api.create_clinic('Bright Smile', '(555) 640-0001', ' america/new_york ',
                                               languages => '{en,ES}', hot_lead_phone => '555.640.0002',
                                               settings => '{"min_notice_minutes": 120, "cancellation_notice_minutes": 1440, "help_text": "Call us"}',
                                               changed_by => 'onboarding');
SELECT is((SELECT j->>'success' FROM made WHERE k = 'a'), 'true', 'create_clinic creates a clinic');
SELECT is((SELECT clinic->>'phone' FROM a), '+15556400001', '... its phone read as dialled in its country, stored E.164');
SELECT is((SELECT clinic->>'time_zone' FROM a), 'America/New_York', '... its zone in the listed spelling');
SELECT is((SELECT clinic->>'country' || ' +' || (clinic->>'country_code') FROM a), 'US +1', '... country US by default, calling code 1');
SELECT is((SELECT clinic->>'locale' FROM a), 'en-US', '... the locale from the first language and the country');
SELECT is((SELECT clinic->'languages' FROM a), '["en", "es"]'::jsonb, '... the languages as given, lower-cased');
SELECT is((SELECT clinic->>'hot_lead_phone' FROM a), '+15556400002', '... the hot-lead phone normalised');
SELECT is((SELECT clinic->'settings'->>'min_notice_minutes' FROM a), '120', '... the settings given');
SELECT is((SELECT clinic->'settings'->>'cancellation_notice_minutes' FROM a), '1440', '... cancellation notice included');
SELECT is((SELECT clinic->'settings'->>'hold_minutes' FROM a), '10', '... and the table''s defaults for the others');
SELECT is((SELECT (clinic->'providers') || (clinic->'services') || (clinic->'blocks') FROM a), '[]'::jsonb,
          '... with no providers, services or blocks yet');
SELECT is(api.create_clinic('Clinica', '55 1234 5678', 'America/Mexico_City', country => 'mx')->'clinic'->>'locale', 'es-MX',
          'a Mexican clinic is es-MX by default');
SELECT is((api.create_clinic('London Smile', '020 7946 0958', 'Europe/London', country => 'GB')->'clinic')
              - ARRAY['org_id', 'settings', 'providers', 'services', 'blocks', 'success', 'name', 'time_zone', 'hot_lead_phone', 'sms_from'],
          '{"phone": "+442079460958", "country": "GB", "country_code": "44", "locale": "en-GB", "languages": ["en"]}'::jsonb,
          'a British clinic: its national number read by GB rules, calling code 44, en-GB');
SELECT is((api.create_clinic('Fixed', '+15556400003', 'UTC', org_id => 'c0000000-0000-0000-0000-000000000064')->>'org_id'),
          'c0000000-0000-0000-0000-000000000064', 'create_clinic takes a fixed org_id (the demo''s)');

-- every error, and nothing made
SELECT throws_ok($$SELECT api.create_clinic(NULL, '+15556400004', 'UTC')$$, 'VB400', 'name is required', 'name is required');
SELECT throws_ok($$SELECT api.create_clinic('X', NULL, 'UTC')$$, 'VB400', 'phone is required', 'phone is required');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', NULL)$$, 'VB400', 'time_zone is required', 'the zone is required');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'EST')$$, 'VB400', 'unknown time zone', 'an abbreviation is no zone');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', country => 'XX')$$, 'VB400', 'unknown country', 'an unknown country');
SELECT throws_ok($$SELECT api.create_clinic('X', '12', 'UTC')$$, 'VB400', 'malformed phone number', 'a malformed phone');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', hot_lead_phone => '12')$$, 'VB400', 'malformed phone number',
                 'a malformed hot-lead phone');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', locale => 'xx-YY')$$, 'VB400', 'unknown locale', 'an unknown locale');
SELECT throws_ok($$SELECT api.create_clinic('X', '+815012345678', 'Asia/Tokyo', country => 'JP')$$, 'VB400', 'no locale for country JP',
                 'a country without a locale of ours: pass one');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', locale => 'en-US', languages => '{es}')$$, 'VB400',
                 'languages must include en, the language of locale en-US', 'a clinic offers its own language');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', languages => '{english}')$$, 'VB400',
                 'languages must be ISO 639 codes', 'languages are codes');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '{"holdminutes": 5}')$$, 'VB400',
                 'unknown setting holdminutes', 'an unknown setting is refused');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '{"hold_minutes": 500}')$$, 'VB400',
                 'hold_minutes is out of range', 'a setting out of range is refused');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '{"hold_minutes": "ten"}')$$, 'VB400',
                 'setting hold_minutes has a value of the wrong type', 'a setting of the wrong type is refused');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '[1]')$$, 'VB400',
                 'settings must be a JSON object', 'settings are an object');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400001', 'UTC')$$, 'VB409', 'another clinic answers on this phone number',
                 'two clinics never share a number');
SELECT throws_ok($$SELECT api.create_clinic('X', '+15556400004', 'UTC', org_id => 'c0000000-0000-0000-0000-000000000064')$$, 'VB409',
                 'a clinic with this org_id exists', 'an org_id in use is refused');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.organizations WHERE phone = '+15556400004'), 0::bigint, 'none of these made a clinic');
-- the error's HINT says what is allowed
SET LOCAL ROLE voxbook_api;
SELECT matches(tests.hint_of($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '{"hold_minutes": 500}')$$),
               'hold_minutes >= 1.*hold_minutes <= 60', 'the HINT of a setting out of range gives the range');
SELECT matches(tests.hint_of($$SELECT api.create_clinic('X', '+15556400004', 'UTC', settings => '{"holdminutes": 5}')$$),
               '^Known settings: hold_minutes, .*cancellation_notice_minutes', 'the HINT of an unknown setting lists the known ones');

-- get_clinic / update_clinic ------------------------------------------------------------------------------------
SELECT is(api.get_clinic((SELECT org FROM a)) - 'settings', (SELECT clinic - 'settings' FROM a), 'get_clinic gives what create_clinic answered');
SELECT throws_ok(format('SELECT api.get_clinic(%L)', gen_random_uuid()), 'VB404', 'unknown organization', 'get_clinic: unknown clinic');
INSERT INTO made SELECT 'u1', api.update_clinic((SELECT org FROM a), name => 'Bright Smile Dental',
                                                settings => '{"hot_lead_alert_phone": null, "hold_minutes": 5}', changed_by => 'ana');
SELECT is((SELECT j->'changed' FROM made WHERE k = 'u1'), '{"name": "Bright Smile Dental", "hold_minutes": 5, "hot_lead_alert_phone": null}'::jsonb,
          'update_clinic changes only what is passed, and says what changed');
SELECT is(api.get_clinic((SELECT org FROM a))->>'phone', '+15556400001', '... the rest stays');
SELECT is(api.get_clinic((SELECT org FROM a))->'hot_lead_phone', 'null'::jsonb, '... a JSON null in settings clears an optional value');
SELECT is(api.update_clinic((SELECT org FROM a), name => 'Bright Smile Dental')->'changed', '{}'::jsonb, 'the same values again change nothing');
SELECT is(api.update_clinic((SELECT org FROM a), locale => 'es-US')->'clinic'->>'locale', 'es-US', 'the locale changes');
SELECT is(api.update_clinic((SELECT org FROM a), country => 'CA')->'changed', '{"country": "CA"}'::jsonb,
          'a country of the same calling code changes the country alone');
SELECT throws_ok(format($$SELECT api.update_clinic(%L, settings => '{"hold_minutes": null}')$$, (SELECT org FROM a)), 'VB400',
                 'hold_minutes cannot be empty', 'a required setting cannot be cleared');
SELECT throws_ok(format($$SELECT api.update_clinic(%L, languages => '{en}')$$, (SELECT org FROM a)), 'VB400',
                 'languages must include es, the language of locale es-US', 'languages keep the locale''s');
SELECT throws_ok(format($$SELECT api.update_clinic(%L, phone => '+15556400009')$$, (SELECT org FROM a)), 'VB409',
                 'another clinic answers on this phone number', 'another clinic''s number is refused');
SELECT throws_ok(format($$SELECT api.update_clinic(%L, name => 'X')$$, gen_random_uuid()), 'VB404', 'unknown organization',
                 'update_clinic: unknown clinic');
SELECT is(api.get_clinic((SELECT org FROM a))->'settings'->>'hold_minutes', '5', 'refused updates changed nothing');

-- providers ----------------------------------------------------------------------------------------------------
SELECT is(api.upsert_provider((SELECT org FROM a), 'cal-smith', 'Dr. Smith')->'provider',
          '{"calendar_id": "cal-smith", "display_name": "Dr. Smith", "slot_minutes": 30, "default_duration_minutes": 30,
            "active": true, "hours": {}, "exceptions": []}'::jsonb, 'upsert_provider adds a provider, defaults for the rest');
SELECT is(api.upsert_provider((SELECT org FROM a), 'cal-jones', 'Dr. Jones', slot_minutes => 15)->>'created', 'true', 'and another');
CREATE TEMP TABLE up AS SELECT api.upsert_provider((SELECT org FROM a), 'cal-jones', default_duration_minutes => 45, changed_by => 'ana') AS j;
SELECT is((SELECT j->>'created' FROM up), 'false', 'upsert_provider on an existing id changes it');
SELECT is((SELECT j->'provider'->>'slot_minutes' || '/' || (j->'provider'->>'default_duration_minutes') || '/' || (j->'provider'->>'display_name') FROM up),
          '15/45/Dr. Jones', '... only what is passed');
SELECT throws_ok(format($$SELECT api.upsert_provider(%L, 'cal-new')$$, (SELECT org FROM a)), 'VB400', 'display_name is required',
                 'a new provider needs a name');
SELECT throws_ok(format($$SELECT api.upsert_provider(%L, 'Dr Who', 'Dr. Who')$$, (SELECT org FROM a)), 'VB400', 'malformed calendar_id',
                 'a calendar id is a slug');
SELECT throws_ok(format($$SELECT api.upsert_provider(%L, 'cal-smith', slot_minutes => 1)$$, (SELECT org FROM a)), 'VB400',
                 'slot_minutes is out of range', 'slot_minutes out of range');
SELECT throws_ok(format($$SELECT api.upsert_provider(%L, 'cal-x', 'X')$$, gen_random_uuid()), 'VB404', 'unknown organization',
                 'upsert_provider: unknown clinic');

-- services -----------------------------------------------------------------------------------------------------
SELECT is(api.upsert_service((SELECT org FROM a), 'cleaning', 'Cleaning', 60, buffer_after_minutes => 10, price_cents => 12000,
                             providers => '{cal-smith}')->'service',
          '{"service_id": "cleaning", "name": "Cleaning", "duration_minutes": 60, "buffer_before_minutes": 0,
            "buffer_after_minutes": 10, "price_cents": 12000, "value_tier": "standard", "active": true,
            "providers": ["cal-smith"]}'::jsonb, 'upsert_service adds a service with its buffers and providers');
SELECT is(api.upsert_service((SELECT org FROM a), 'cleaning', value_tier => 'high')->'service'->'providers', '["cal-smith"]'::jsonb,
          'providers NULL leaves them');
SELECT is(api.upsert_service((SELECT org FROM a), 'cleaning', providers => '{cal-jones,cal-smith}')->'service'->'providers',
          '["cal-jones", "cal-smith"]'::jsonb, 'providers given replace them');
SELECT is(api.upsert_service((SELECT org FROM a), 'cleaning', providers => '{}')->'service'->'providers', '[]'::jsonb,
          '''{}'' = every active provider');
SELECT throws_ok(format($$SELECT api.upsert_service(%L, 'whitening', 'Whitening', 60, providers => '{cal-smith,cal-nobody}')$$, (SELECT org FROM a)),
                 'VB400', 'unknown provider cal-nobody', 'a provider that does not exist is named');
SELECT throws_ok(format($$SELECT api.upsert_service(%L, 'whitening', 'Whitening', 60, providers => '{cal-a}')$$, (SELECT org FROM a)),
                 'VB400', 'unknown provider cal-a', '... another clinic''s provider too');
SELECT throws_ok(format($$SELECT api.upsert_service(%L, 'whitening', 'Whitening', 60, buffer_after_minutes => 300)$$, (SELECT org FROM a)),
                 'VB400', 'buffer_after_minutes is out of range', 'a buffer out of range');
SELECT throws_ok(format($$SELECT api.upsert_service(%L, 'whitening', 'Whitening', 60, value_tier => 'gold')$$, (SELECT org FROM a)),
                 'VB400', 'invalid value_tier', 'an unknown value tier');
SELECT throws_ok(format($$SELECT api.upsert_service(%L, 'whitening', 'Whitening')$$, (SELECT org FROM a)),
                 'VB400', 'duration_minutes is required', 'a new service needs its duration');
SELECT is(api.get_clinic((SELECT org FROM a))->'services'->0->>'service_id', 'cleaning', 'refused services were not made');

-- working hours ------------------------------------------------------------------------------------------------
SELECT is(api.set_working_hours((SELECT org FROM a), 'cal-smith',
                                '{"mon": [["13:00", "17:00"], ["9:00", "12:00"]], "Tuesday": [["09:00", "17:00"]], "sat": [["08:00", "24:00"]]}')->'hours',
          '{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]], "sat": [["08:00", "24:00"]]}'::jsonb,
          'set_working_hours stores a week: several intervals a day, in order; a day left out is closed');
SELECT is(api.set_working_hours((SELECT org FROM a), 'cal-jones', '{"mon": [["09:00", "10:00"]]}')->>'changed', 'true', 'another provider''s week');
SELECT is((SELECT jsonb_agg(((x->>'time')::timestamptz AT TIME ZONE 'America/New_York')::text)
             FROM jsonb_array_elements(api.check_availability((SELECT org FROM a), '2030-01-21', 'cal-jones')->'slots') AS x),
          '["2030-01-21 09:00:00", "2030-01-21 09:15:00"]'::jsonb,
          'availability follows the hours set: 09:00-10:00 with 45-minute bookings on a 15-minute grid');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-smith', '{"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}')$$, (SELECT org FROM a)),
                 'VB400', 'mon: 09:00-12:00 and 11:00-13:00 overlap', 'overlapping intervals are refused, naming the day');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-smith', '{"tue": [["17:00", "09:00"]]}')$$, (SELECT org FROM a)),
                 'VB400', 'tue: 17:00-09:00 ends before it starts', 'an inverted interval is refused, naming the day');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-smith', '{"wed": ["09:00-17:00"]}')$$, (SELECT org FROM a)),
                 'VB400', 'wed: "09:00-17:00" is not a [from, to] pair of times', 'a malformed interval is refused');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-smith', '{"someday": []}')$$, (SELECT org FROM a)),
                 'VB400', 'unknown day someday', 'an unknown day is refused');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-smith', '[]')$$, (SELECT org FROM a)),
                 'VB400', 'hours must be a JSON object of days', 'hours are an object');
SELECT throws_ok(format($$SELECT api.set_working_hours(%L, 'cal-a', '{}')$$, (SELECT org FROM a)),
                 'VB404', 'unknown calendar', 'another clinic''s calendar is unknown here');
SELECT is(api.get_clinic((SELECT org FROM a))->'providers'->1->'hours'->'mon', '[["09:00", "12:00"], ["13:00", "17:00"]]'::jsonb,
          'refused hours changed nothing');

-- hours exceptions ---------------------------------------------------------------------------------------------
SELECT is(api.set_hours_exception((SELECT org FROM a), 'cal-smith', '2030-01-19', '[["09:00", "13:00"]]', 'Saturday clinic')->'exception',
          '{"on_date": "2030-01-19", "hours": [["09:00", "13:00"]], "reason": "Saturday clinic"}'::jsonb,
          'set_hours_exception sets a date''s hours');
SELECT is(api.set_hours_exception((SELECT org FROM a), 'cal-smith', '2030-01-21', '[]', 'training')->'exception'->'hours', '[]'::jsonb,
          '[] = not working that day');
SELECT is(api.get_clinic((SELECT org FROM a))->'providers'->1->'exceptions',
          '[{"on_date": "2030-01-19", "hours": [["09:00", "13:00"]], "reason": "Saturday clinic"},
            {"on_date": "2030-01-21", "hours": [], "reason": "training"}]'::jsonb, 'get_clinic lists them');
SELECT is(api.set_hours_exception((SELECT org FROM a), 'cal-smith', '2030-01-21', NULL)->'exception', 'null'::jsonb, 'NULL removes one');
SELECT throws_ok(format($$SELECT api.set_hours_exception(%L, 'cal-smith', '2030-01-22', '[["10:00", "09:00"]]')$$, (SELECT org FROM a)),
                 'VB400', '2030-01-22: 10:00-09:00 ends before it starts', 'an inverted interval is refused, naming the date');
SELECT throws_ok(format($$SELECT api.set_hours_exception(%L, 'cal-smith', 'infinity', '[]')$$, (SELECT org FROM a)),
                 'VB400', 'on_date is out of range', 'an infinite date is refused');

-- the audit log ------------------------------------------------------------------------------------------------
SELECT is((SELECT array_agg(e->>'action' || ':' || (e->>'changed_by') ORDER BY e->>'action' || ':' || (e->>'changed_by'))
             FROM jsonb_array_elements(api.list_audit((SELECT org FROM a), entity => 'clinic')->'entries') AS e),
          (SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY['create_clinic:onboarding', 'update_clinic:ana', 'update_clinic:' || session_user,
                                                               'update_clinic:' || session_user]) AS x),
          'every change of the clinic is recorded, by changed_by or else the database user; no row for a change of nothing');
SELECT is((SELECT e->'before' || jsonb_build_object('after', e->'after')
             FROM jsonb_array_elements(api.list_audit((SELECT org FROM a), entity => 'clinic')->'entries') AS e
            WHERE e->>'changed_by' = 'ana'),
          '{"name": "Bright Smile", "hold_minutes": 10, "hot_lead_alert_phone": "+15556400002",
            "after": {"name": "Bright Smile Dental", "hold_minutes": 5, "hot_lead_alert_phone": null}}'::jsonb,
          '... with the values before and after');
SELECT is((SELECT count(*) FROM jsonb_array_elements(api.list_audit((SELECT org FROM a))->'entries') AS e
            WHERE e->>'entity' IN ('provider', 'service', 'hours', 'hours_exception')), 12::bigint,
          'providers, services, hours and exceptions are recorded too (3 + 4 + 2 + 3)');
SELECT is(api.list_audit((SELECT other FROM ctx))->'entries', '[]'::jsonb, 'another clinic''s log has none of it');
SELECT throws_ok(format($$SELECT api.list_audit(%L, entity => 'everything')$$, (SELECT org FROM a)), 'VB400', 'unknown entity',
                 'list_audit: an unknown entity');
SELECT throws_ok('SELECT * FROM voxbook.audit_log', '42501', NULL, 'the API role reads the log only through list_audit');

SELECT * FROM finish();
ROLLBACK;
