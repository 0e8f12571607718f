-- api.record_inbound_sms: opt-out and opt-in keywords, HELP, which clinics an inbound message concerns; grants.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(19);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('North Clinic') AS org, tests.create_clinic('South Clinic') AS other;
SELECT tests.set_clinic((SELECT org FROM ctx), $$sms_from = '+15550004000'$$);
-- Read as the owner (SECURITY DEFINER): the API role cannot read contacts.
CREATE FUNCTION pg_temp.opted_out(org uuid, phone text) RETURNS boolean LANGUAGE sql SECURITY DEFINER AS
$$ SELECT ct.sms_opted_out FROM voxbook.contacts AS ct WHERE ct.org_id = org AND ct.phone = opted_out.phone $$;

SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(api.record_inbound_sms('+15550004000', '+1555000410' || i, w, 'SMk' || w)->>'action' ORDER BY i)
             FROM unnest(ARRAY['STOP', 'stopall', 'Unsubscribe', 'cancel', 'END', ' quit ']) WITH ORDINALITY AS k(w, i)),
          ARRAY['opt_out', 'opt_out', 'opt_out', 'opt_out', 'opt_out', 'opt_out'],
          'STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT opt out, in any case and spacing');
SELECT ok((SELECT bool_and(pg_temp.opted_out((SELECT org FROM ctx), '+1555000410' || i)) FROM generate_series(1, 6) AS i),
          'each of those numbers is opted out at the clinic whose number they texted');
SELECT is(pg_temp.opted_out((SELECT other FROM ctx), '+15550004101'), NULL, 'another clinic is not affected');

SELECT is(api.record_inbound_sms('+15550004000', '+15550004101', 'Stop please call me')->>'action', 'none',
          'a sentence containing STOP is just a message');
SELECT is(api.record_inbound_sms('+15550004000', '+15550004101', 'STOP.')->>'reply', NULL, 'no reply to STOP');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.sms_consent_events AS e
            WHERE e.org_id = (SELECT org FROM ctx) AND e.phone = '+15550004101'), 2,
          'every opt-out is recorded as an event');
SET LOCAL ROLE voxbook_api;
DO $$ BEGIN
    PERFORM api.record_inbound_sms('+15550004000', '+15550004101', 'STOP', 'SMdup');
    PERFORM api.record_inbound_sms('+15550004000', '+15550004101', 'STOP', 'SMdup');
END $$;
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.sms_consent_events AS e
            WHERE e.org_id = (SELECT org FROM ctx) AND e.provider_message_id = 'SMdup'), 1,
          'a redelivered webhook records one event');
SELECT is((SELECT c.sms_opted_out_at FROM voxbook.contacts AS c
            WHERE c.org_id = (SELECT org FROM ctx) AND c.phone = '+15550004101') <= now(), true,
          'the opt-out time is kept');

SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(api.record_inbound_sms('+15550004000', '+1555000410' || i, w)->>'action' ORDER BY i)
             FROM unnest(ARRAY['start', 'YES', 'Unstop']) WITH ORDINALITY AS k(w, i)),
          ARRAY['opt_in', 'opt_in', 'opt_in'], 'START, YES, UNSTOP opt back in');
SELECT is(pg_temp.opted_out((SELECT org FROM ctx), '+15550004101'), false, 'the number may receive messages again');
RESET ROLE;
SELECT is((SELECT c.sms_opt_out_source FROM voxbook.contacts AS c
            WHERE c.org_id = (SELECT org FROM ctx) AND c.phone = '+15550004102'), 'sms:YES', 'with the source of the change');

SET LOCAL ROLE voxbook_api;
SELECT matches(api.record_inbound_sms('+15550004000', '+15550004199', 'help')->>'reply',
               '^North Clinic: .* Reply STOP to unsubscribe\.$', 'HELP answers with a default help text');
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$help_text = 'North Clinic help: call us'$$);
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+15550004000', '+15550004199', 'HELP')->>'reply', 'North Clinic help: call us',
          'or with the clinic''s own help text');
SELECT is(api.record_inbound_sms('+15550004000', '+15550004199', 'hello', NULL, 'STOP')->>'action', 'opt_out',
          'Twilio''s OptOutType is trusted');

RESET ROLE;
-- Sent to a number of no clinic (a Messaging Service pool): every clinic that knows the sender.
INSERT INTO voxbook.contacts (org_id, phone)   -- INSERT ... SELECT: Citus takes no subquery in VALUES
SELECT o, '+15550004300' FROM ctx, LATERAL (VALUES (ctx.org), (ctx.other)) AS v(o);
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+15559999999', '+15550004300', 'STOP')->>'orgs', '2',
          'a STOP to a shared number opts out at every clinic of that contact');
SELECT ok(pg_temp.opted_out((SELECT other FROM ctx), '+15550004300'), '... including the other clinic');
SELECT is(api.record_inbound_sms('+15550004000', '12345', 'STOP')->>'action', 'none', 'a short-code sender is ignored');

SELECT ok(has_function_privilege('voxbook_api', 'api.record_inbound_sms(text, text, text, text, text, uuid[])', 'EXECUTE')
          AND has_function_privilege('voxbook_api', 'api.claim_sms_batch(text, int, double precision)', 'EXECUTE'),
          'the API role may call the SMS functions');
RESET ROLE;
SELECT ok(NOT has_table_privilege('voxbook_api', 'voxbook.sms_consent_events', 'SELECT'),
          'but may not read the consent log directly');

SELECT * FROM finish();
ROLLBACK;
