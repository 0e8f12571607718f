-- db/functions/60_organizations.sql: the Vapi adapter finds the clinic by the number the caller dialled;
-- psql and the adapter read its settings, calendars and services. Run as the API role.
BEGIN;
SELECT plan(12);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Org Clinic', phone => '+15556010001') AS org;
UPDATE voxbook.calendars SET active = false WHERE org_id = (SELECT org FROM ctx) AND id = 'cal-b';
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

SELECT is(api.find_organization('+15556010001')->>'org_id', (SELECT org::text FROM ctx), 'a clinic is found by its E.164 number');
SELECT is(api.find_organization('(555) 601-0001')->>'org_id', (SELECT org::text FROM ctx), '... and by the national NANP form');
SELECT is(api.find_organization('+15556010001'), api.get_organization((SELECT org FROM ctx)),
          'find_organization answers exactly as get_organization');
SELECT throws_ok($$SELECT api.find_organization('+15556019999')$$, 'VB404', 'no clinic answers on this number',
                 'a number no clinic answers on is VB404');
SELECT throws_ok($$SELECT api.find_organization('12')$$, 'VB400', 'malformed phone number', 'a malformed number is VB400');
SELECT throws_ok($$SELECT api.find_organization(NULL)$$, 'VB400', 'phone is required', 'a missing number is VB400');

CREATE TEMP TABLE got AS SELECT api.get_organization((SELECT org FROM ctx)) AS j;
SELECT is((SELECT j->>'name' || '/' || (j->>'phone') || '/' || (j->>'time_zone') FROM got),
          'Org Clinic/+15556010001/America/New_York', 'its name, number and time zone');
SELECT is((SELECT jsonb_path_query_array(j, '$.calendars[*].calendar_id') FROM got), '["cal-a"]'::jsonb,
          'only active calendars are listed');
SELECT is((SELECT jsonb_path_query_array(j, '$.services[*].service') FROM got),
          '["cleaning", "consultation", "teeth-whitening"]'::jsonb, 'services in id order');
SELECT is((SELECT j->'services'->2 FROM got),
          '{"service": "teeth-whitening", "name": "Teeth Whitening", "duration_minutes": 60, "price_cents": 60000, "value_tier": "high"}'::jsonb,
          'a service with its duration, price and value tier');
SELECT throws_ok($$SELECT api.get_organization(gen_random_uuid())$$, 'VB404', 'unknown organization', 'an unknown org_id is VB404');
SELECT throws_ok($$SELECT api.get_organization(NULL)$$, 'VB400', 'org_id is required', 'a missing org_id is VB400');

SELECT * FROM finish();
ROLLBACK;
