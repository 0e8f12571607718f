-- Lead scoring and the end-of-call record: scored once, one hot-lead alert and one owner SMS.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(32);

SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.score_lead(480, true, 'high')->>'score', '85', 'the seed''s worked example: 8 minutes, booked, high value = 85');
SELECT is((SELECT array_agg(r->>'factor' || ':' || (r->>'points')) FROM jsonb_array_elements(api.score_lead(480, true, 'high')->'reasons') AS r),
          ARRAY['duration:60', 'booked:20', 'service_value:5'], '... with the reasons that made it');
SELECT is(api.score_lead(30)->>'score', '10', 'a 30-second call scores 10');
SELECT is(api.score_lead(200, false, 'standard', 'How much does a cleaning cost? Do you take my insurance?')->>'score', '55',
          'asking about price and insurance count');
SELECT is(api.score_lead(600, true, 'high', 'how much', 'positive')->>'score', '95', 'positive sentiment adds');
SELECT is(api.score_lead(600, true, 'high', 'price insurance', 'positive')->>'score', '100', 'the score is capped at 100');
SELECT is(api.score_lead(20, false, 'low', NULL, 'negative')->>'score', '0', 'and floored at 0');
SELECT throws_ok($$SELECT api.score_lead(60, false, 'premium')$$, 'VB400', 'service_value must be low, standard or high', 'an unknown value tier is refused');

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
RESET ROLE;
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Lead Clinic') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE booked AS
    SELECT api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-20 10:00'),
                                                        'vapi-call-1', 'Jane Smith', '+15556660001', service => 'Teeth Whitening')->>'hold_id')::uuid,
                                 (SELECT org FROM ctx), staff_user => 'desk') AS j;
CREATE TEMP TABLE ended AS
    SELECT api.record_call_end((SELECT org FROM ctx), 'vapi-call-1', '2030-01-14 11:52:00+00', '2030-01-14 12:00:00+00',
                               '+15556660001', 'I would like whitening', 'Booked whitening', '{}') AS j;
SELECT is((SELECT (j->>'score')::int FROM ended), 85, 'a booked 8-minute whitening call scores 85');
SELECT is((SELECT j->>'hot' FROM ended), 'true', '... which is hot for the default threshold of 70');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.hot_lead_alerts AS a WHERE a.org_id = (SELECT org FROM ctx)), 1::bigint, 'one hot-lead alert is created');
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'hot_lead'),
          'HOT LEAD (score 85): Jane Smith (555) 666-0001. Service: Teeth Whitening. Booked Sun, Jan 20 at 10:00 AM.',
          'the owner''s SMS names the caller, number, service and booking');
SELECT is((SELECT m.recipient::text || '/' || m.encoding FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'hot_lead'),
          '+15559990000/GSM-7', '... goes to the alert phone, in GSM-7');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_call_end((SELECT org FROM ctx), 'vapi-call-1', '2030-01-14 11:52:00+00', '2030-01-14 12:00:00+00')->>'duplicate',
          'true', 'a redelivered report is recognised');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.hot_lead_alerts AS a WHERE a.org_id = (SELECT org FROM ctx)) * 100
          + (SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'hot_lead'),
          101::bigint, '... and creates no second alert or SMS');

SET LOCAL ROLE voxbook_api;
SELECT is(api.record_call_end((SELECT org FROM ctx), 'vapi-call-2', '2030-01-14 11:59:00+00', '2030-01-14 12:00:00+00', '+15556660002')->>'hot',
          'false', 'a one-minute call without booking is not hot');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.hot_lead_alerts AS a WHERE a.org_id = (SELECT org FROM ctx)), 1::bigint, '... and raises no alert');
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.record_call_end((SELECT org FROM ctx), ' ')$$, 'VB400', 'call_id is required', 'a report without call id is refused');
CREATE TEMP TABLE anon AS SELECT api.record_call_end((SELECT org FROM ctx), 'vapi-call-3', customer_phone => 'anonymous') AS j;
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.calls AS c
            WHERE c.id = (SELECT (j->>'call_id')::uuid FROM anon) AND c.customer_phone IS NULL),
          1::bigint, 'a withheld caller number does not lose the call: it is stored as unknown');

SET LOCAL ROLE voxbook_api;
SELECT is((SELECT api.get_call((SELECT org FROM ctx), 'vapi-call-1')->'alert'->>'sms_status'), 'queued',
          'get_call shows the call with its alert and the state of the owner''s SMS');
RESET ROLE;
CREATE TEMP TABLE other AS SELECT tests.create_clinic('Other') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.get_call((SELECT org FROM other), 'vapi-call-1')$$, 'VB404', 'unknown call',
                 'another clinic cannot read the call');

-- Oversized fields from Vapi: the report is stored (cut), never refused and lost on every retry.
CREATE TEMP TABLE long_id AS SELECT 'vapi-' || repeat('x', 295) AS id;
CREATE TEMP TABLE big AS
    SELECT api.record_call_end((SELECT org FROM ctx), (SELECT id FROM long_id), '2030-01-14 11:50:00+00', '2030-01-14 12:00:00+00',
                               '+15556660004', repeat('What does it cost? Is insurance ok? ', 40000), repeat('s', 50000),
                               jsonb_build_object('patientName', repeat('Jane Longname ', 200), 'sentiment', 'positive'),
                               repeat('r', 500), repeat('e', 500), repeat('C', 500)) AS j;
SELECT is((SELECT j->>'hot' FROM big), 'true', 'a report with a 300-character call id, a 1.4 MB transcript and a 2,800-character name is stored (and hot)');
RESET ROLE;
SELECT is((SELECT length(c.vapi_call_id) || '/' || length(c.transcript) || '/' || length(c.summary) || '/' || length(c.customer_name)
                  || '/' || length(c.ended_reason) || '/' || length(c.success_evaluation) || '/' || length(c.provider_call_sid)
             FROM voxbook.calls AS c WHERE c.id = (SELECT (j->>'call_id')::uuid FROM big)),
          '200/1000000/20000/200/200/200/200', '... its fields cut to their limits');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT j->>'vapi_call_id' FROM big), left((SELECT id FROM long_id), 167) || '~' || md5((SELECT id FROM long_id)),
          '... the long call id kept as its start and its md5');
RESET ROLE;
SELECT ok((SELECT length(m.body) <= 1600 AND m.body LIKE 'HOT LEAD (score %): Jane Longname Jane Longname%'
             FROM voxbook.sms_outbox AS m WHERE m.id = (SELECT (j->>'alert_sms_id')::uuid FROM big)),
          '... and the owner''s alert fits one SMS body, the name cut');
SELECT is((SELECT length(m.body) FROM voxbook.sms_outbox AS m WHERE m.id = (SELECT (j->>'alert_sms_id')::uuid FROM big)) < 200,
          true, '... short enough to read (the name is cut to 60 characters)');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_call_end((SELECT org FROM ctx), (SELECT id FROM long_id))->>'duplicate', 'true',
          'a redelivered report with the long id is recognised');
SELECT is(api.get_call((SELECT org FROM ctx), (SELECT id FROM long_id))->>'call_id', (SELECT j->>'call_id' FROM big),
          'get_call finds the call by its whole long id');

SELECT is(api.record_call_end((SELECT org FROM ctx), 'vapi-call-negative', duration_seconds => -97066)->>'duration_seconds', '0',
          'a negative durationSeconds from Vapi is no duration: the report is stored, not refused');
SELECT is(api.record_call_end((SELECT org FROM ctx), 'vapi-call-infinite', 'infinity', '-infinity') - 'vapi_call_id' - 'call_id',
          api.record_call_end((SELECT org FROM ctx), 'vapi-call-no-times') - 'vapi_call_id' - 'call_id',
          'infinite times are stored as unknown, like a report without times');
RESET ROLE;
SELECT is((SELECT ended_at FROM voxbook.calls WHERE org_id = (SELECT org FROM ctx) AND vapi_call_id = 'vapi-call-infinite'), NULL,
          'and not as infinity');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_call_end((SELECT org FROM ctx), 'vapi-call-backwards', '2030-01-14 12:00:00+00', '2030-01-14 11:00:00+00')->>'ended_at', NULL,
          'an end before the start is unknown: the report is stored, not refused');

SELECT * FROM finish();
ROLLBACK;
