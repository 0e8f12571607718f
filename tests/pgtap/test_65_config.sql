-- db/functions/65_config.sql: configuration that cannot work (voxbook doctor, start-up checks, /health).
-- Run as the API role, as the API and the worker call it.
BEGIN;
SELECT plan(6);

CREATE TEMP TABLE ctx AS
    SELECT tests.create_clinic('No Sender Clinic') AS no_sender, tests.create_clinic('Sender Clinic') AS sender;
SELECT tests.set_clinic((SELECT no_sender FROM ctx), 'sms_from = NULL');
SELECT tests.set_clinic((SELECT sender FROM ctx), $$sms_from = '+15556500001'$$);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

CREATE TEMP TABLE found AS
    SELECT p FROM jsonb_array_elements(api.config_problems(sms_provider => 'twilio', messaging_service => false)->'problems') AS p;
SELECT is((SELECT p FROM found WHERE p->>'org_id' = (SELECT no_sender::text FROM ctx)),
          jsonb_build_object('check', 'sms_sender', 'org_id', (SELECT no_sender FROM ctx),
                             'message', 'clinic ' || (SELECT no_sender FROM ctx) || ' has no sender number: its texts would fail at Twilio',
                             'fix', 'set organizations.sms_from for it, or TWILIO_MESSAGING_SERVICE_SID'),
          'Twilio without a Messaging Service: a clinic without a sender number is a problem, named by id');
SELECT is((SELECT count(*) FROM found WHERE p->>'org_id' = (SELECT sender::text FROM ctx)), 0::bigint,
          '... a clinic with a sender number is not');
SELECT is((SELECT count(*) FROM jsonb_array_elements(api.config_problems('twilio', true)->'problems') AS p
            WHERE p->>'check' = 'sms_sender'), 0::bigint, 'a Messaging Service sends for every clinic');
SELECT is((SELECT count(*) FROM jsonb_array_elements(api.config_problems('console', false)->'problems') AS p
            WHERE p->>'check' = 'sms_sender'), 0::bigint, 'the console provider needs no sender');
SELECT is(api.config_problems('console', false), '{"problems": []}'::jsonb, 'with a code pepper and nothing else: no problem');

SET LOCAL voxbook.code_pepper = '';
SELECT is(api.config_problems('console', false)->'problems'->0->>'check', 'code_pepper',
          'a session without a code pepper: codes are off');

SELECT * FROM finish();
ROLLBACK;
