-- The dashboard's SQL side under attack (issue 16's adversarial review): what an attacker could do with the
-- sign-in's rate limit, and a staff member whose name and email are as long as an account allows. Run as the
-- API role, as api/dashboard.py calls it.
BEGIN;
SELECT plan(14);

SELECT tests.freeze_time('2030-02-11 12:00:00+00');
-- The clinic of the long names below, made first: on Citus a write to the reference table organizations may
-- not follow the multi-shard reads of the sign-in checks in one transaction.
CREATE TEMP TABLE longname AS
SELECT repeat('N', 100) || ' <' || repeat('e', 165) || '@clinic.example>' AS who,         -- 283 characters
       repeat('N', 17) || ' <' || repeat('e', 165) || '@clinic.example>' AS stored,       -- 200: the email whole
       tests.create_clinic('Long Name Dental', '+15550090000') AS org;
SET LOCAL ROLE voxbook_api;

-- An IPv6 client holds a whole /64 (2^64 addresses it may pick from): counted per address, it could spray
-- passwords over any number of emails without ever meeting the per-address limit.
SELECT is((SELECT count(*) FROM generate_series(1, 30) AS i
            WHERE api.dashboard_login(format('spray%s@clinic.example', i), format('2001:db8:7:1::%s', to_hex(i)))->>'code'
                  = 'invalid_credentials'),
          30::bigint, 'thirty failures from thirty addresses of one IPv6 /64');
SELECT is(api.dashboard_login_accounts('fresh@clinic.example', '2001:db8:7:1:ffff:ffff:ffff:fffe')->>'code',
          'too_many_attempts', '... close that whole /64, for any other address in it');
SELECT is(api.dashboard_login_accounts('fresh@clinic.example', '2001:DB8:7:1:0:0:0:ABC')->>'code',
          'too_many_attempts', '... however the address is written');
SELECT is(api.dashboard_login_accounts('fresh@clinic.example', '2001:db8:7:2::1')->>'success', 'true',
          '... and not the next /64');
-- IPv4, and IPv4 mapped into IPv6, stay one address each (a /64 of ::ffff:a.b.c.d would be every IPv4 client).
SELECT is(api.dashboard_login_accounts('fresh@clinic.example', '::ffff:192.0.2.77')->>'success', 'true',
          'an IPv4 address written as IPv6 is not lumped in with others');


-- Names of who did something are capped once, here (internal.audit_name, 63_audit.sql): the dashboard sends
-- "Name <email>" whole, however long (a 100-character name, a 254-character email). The queues refused one over
-- 200 characters (VB400), so a person with a long name and email could close no callback and no SMS reply.
RESET ROLE;
SELECT is(internal.audit_name((SELECT who FROM longname)), (SELECT stored FROM longname),
          'a long "name <email>" is cut to 200 characters, the name shortened and the email kept whole');
SELECT is(internal.audit_name('  ' || repeat('x', 250)), repeat('x', 200), 'a long name alone is cut to 200 characters');
SELECT is(internal.audit_name('Ana <' || repeat('e', 230) || '@x.example>'), repeat('e', 200),
          'an email that leaves no room for a name is kept alone, cut to 200');
SELECT is(internal.audit_name(' '), NULL, 'a blank name is none');
SELECT is(internal.changed_by(NULL), session_user::text, 'changed_by without a name is the database user');
SELECT is(internal.changed_by((SELECT who FROM longname)), (SELECT stored FROM longname), '... and capped as every name');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.resolve_callback_request(
              (SELECT org FROM longname),
              (api.record_transfer_failure((SELECT org FROM longname), 'call-long-name', '+15550090001',
                                           'call.in-progress.error-transfer-failed')->'callback_request'->>'id')::uuid,
              (SELECT who FROM longname))->'callback_request'->>'done_by',
          (SELECT stored FROM longname), 'a callback request is closed by the long name, stored capped');
SELECT is(api.record_inbound_sms('+15550090000', '+15550090002', 'is parking free?', 'SMlongname')->>'success', 'true',
          'a patient texts the clinic a question');
SELECT is(api.resolve_sms_inbox_item(
              (SELECT org FROM longname),
              (api.list_sms_inbox((SELECT org FROM longname))->'items'->0->>'inbox_id')::uuid,
              (SELECT who FROM longname))->>'done_by',
          (SELECT stored FROM longname), 'an SMS reply is marked handled by the long name, stored capped');

SELECT * FROM finish();
ROLLBACK;
