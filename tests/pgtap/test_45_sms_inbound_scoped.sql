-- Inbound SMS and status callbacks scoped to the clinics the webhook resolved (45_sms_delivery.sql):
-- api.record_inbound_sms(org_ids => ...) acts on those clinics only; api.record_sms_status with the URL's
-- org_id finds only that clinic's message. The api calls run as the API role; set-up as the owner.
BEGIN;
SELECT plan(12);

CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Shared A', phone => '+15557450001') AS a, tests.create_clinic('Shared B', phone => '+15557450002') AS b,
       tests.create_clinic('Elsewhere C', phone => '+15557450003') AS c;
-- Every clinic knows the patient +15557450100 (INSERT ... SELECT: Citus takes no subquery in VALUES).
INSERT INTO voxbook.contacts (org_id, phone)
SELECT o, '+15557450100' FROM ctx, LATERAL (VALUES (ctx.a), (ctx.b), (ctx.c)) AS v(o);
CREATE FUNCTION pg_temp.opted_out(org uuid, phone text) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN RETURN (SELECT ct.sms_opted_out FROM voxbook.contacts AS ct WHERE ct.org_id = org AND ct.phone = opted_out.phone); END $$;
CREATE FUNCTION pg_temp.outbox(org uuid, mid uuid) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN RETURN (SELECT m.status || '/' || coalesce(m.provider_message_id, '-') FROM voxbook.sms_outbox AS m
                  WHERE m.org_id = org AND m.id = mid); END $$;
-- A message of clinic B that Twilio accepted as SMscopedB.
CREATE TEMP TABLE sent AS SELECT (internal.queue_sms((SELECT b FROM ctx), 'other', '+15557450100', 'Hello')).id AS b_msg;
CREATE FUNCTION pg_temp.mark_sent(org uuid, mid uuid) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN UPDATE voxbook.sms_outbox AS m SET status = 'sent', provider_message_id = 'SMscopedB', sent_at = now()
          WHERE m.org_id = org AND m.id = mid; END $$;
SELECT pg_temp.mark_sent((SELECT b FROM ctx), (SELECT b_msg FROM sent));
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- STOP to a pool number (no clinic's own) of the account A and B share.
SELECT is(api.record_inbound_sms('+15557459999', '+15557450100', 'STOP', 'SMscoped1',
                                 org_ids => ARRAY[(SELECT a FROM ctx), (SELECT b FROM ctx)])->>'orgs', '2',
          'a STOP to a pool number of a shared account acts on the clinics the webhook resolved');
SELECT ok(pg_temp.opted_out((SELECT a FROM ctx), '+15557450100') AND pg_temp.opted_out((SELECT b FROM ctx), '+15557450100'),
          '... both are opted out');
SELECT ok(NOT pg_temp.opted_out((SELECT c FROM ctx), '+15557450100'),
          '... and a clinic on another account that knows the sender is not');
SELECT is(api.record_inbound_sms('+15557459999', '+15557450101', 'STOP', 'SMscoped2',
                                 org_ids => ARRAY[(SELECT a FROM ctx)])->>'orgs', '1',
          'a sender no clinic knows is opted out at the resolved clinic (as Twilio blocks it there)');
SELECT ok(pg_temp.opted_out((SELECT a FROM ctx), '+15557450101'), '... its contact created');
-- To a clinic's own number: only the listed clinics of that number.
SELECT is(api.record_inbound_sms('+15557450003', '+15557450100', 'STOP', 'SMscoped3',
                                 org_ids => ARRAY[(SELECT a FROM ctx)])->>'orgs', '0',
          'To of a clinic not among org_ids: nothing changes');
SELECT ok(NOT pg_temp.opted_out((SELECT c FROM ctx), '+15557450100'), '... C still receives texts');
SELECT matches(api.record_inbound_sms('+15557459999', '+15557450100', 'HELP', 'SMscoped4',
                                      org_ids => ARRAY[(SELECT b FROM ctx)])->>'reply',
               '^Shared B: appointment texts\.', 'HELP to a pool number answers for the resolved clinic');
SELECT throws_ok($$SELECT api.record_inbound_sms('+15557459999', '+15557450100', 'STOP', 'SMscoped5',
                                                 org_ids => array_fill(gen_random_uuid(), ARRAY[1001]))$$,
                 'VB400', 'org_ids has more than 1000 clinics', 'more than 1000 clinics is refused');

-- Status callbacks: the URL's org_id scopes the sid.
SELECT is(api.record_sms_status('SMscopedB', 'delivered', org_id => (SELECT a FROM ctx),
                                message_id => (SELECT b_msg FROM sent))->>'found', 'false',
          'a callback whose URL names clinic A does not find clinic B''s message by its sid');
SELECT is(pg_temp.outbox((SELECT b FROM ctx), (SELECT b_msg FROM sent)), 'sent/SMscopedB', '... which is unchanged');
SELECT is(api.record_sms_status('SMscopedB', 'delivered', org_id => (SELECT b FROM ctx))->>'status', 'delivered',
          'the callback naming clinic B moves it');

SELECT * FROM finish();
ROLLBACK;
