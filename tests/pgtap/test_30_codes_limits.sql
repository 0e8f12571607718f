-- One-time codes against an adversary: sliding-window limits per phone, per call and per clinic; codes only to
-- allowed calling codes; hashes keyed by the pepper; every other argument checked before the code.
-- (That the app's roles cannot freeze the clock, and the pepper's life outside SQL: tests/test_code_pepper.py.)
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(39);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Limits Clinic') AS org, current_setting('voxbook.code_pepper') AS pepper;

-- A new hold on a slot of the clinic, for a call and a phone. The helpers are PL/pgSQL: they read ctx and
-- call the api, and Citus (tests/citus runs this file on a coordinator) cannot plan an SQL function that does.
CREATE FUNCTION pg_temp.hold(call text, phone text, local_time text DEFAULT '2030-01-15 09:00', org uuid DEFAULT NULL)
    RETURNS uuid LANGUAGE plpgsql AS $$
BEGIN
    org := coalesce(org, (SELECT c.org FROM ctx AS c));
    RETURN (api.claim_slot_atomic(org, 'cal-a', tests.at(org, local_time::timestamp), call, 'Pat', phone)->>'hold_id')::uuid;
END
$$;
-- A code that is not the hold's (the hold's own, plus one).
CREATE FUNCTION pg_temp.wrong(hold uuid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN lpad(((coalesce(tests.code_of(hold), '0')::int + 1) % 1000000)::text, 6, '0');
END
$$;
CREATE FUNCTION pg_temp.send(hold uuid, org uuid DEFAULT NULL) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    RETURN api.send_otp_code(hold, coalesce(org, (SELECT c.org FROM ctx AS c)));
END
$$;
CREATE FUNCTION pg_temp.verify(hold uuid, code text, org uuid DEFAULT NULL) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    RETURN api.verify_otp(hold, coalesce(org, (SELECT c.org FROM ctx AS c)), code);
END
$$;
-- The reproduction: reserve -> send -> 3 wrong guesses, again and again on the same slot, one new call per round,
-- for the one phone whose text messages the attacker never sees. When a guess is refused, the right code is
-- tried too. Returns how often each outcome came.
CREATE FUNCTION pg_temp.attack(rounds int, phone text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    outcomes text[] := '{}';
    h uuid;
    r jsonb;
BEGIN
    FOR i IN 1..rounds LOOP
        h := pg_temp.hold('attack-' || i, phone);
        r := pg_temp.send(h);
        outcomes := outcomes || ('send:' || coalesce(r->>'code', 'sent'));
        IF r->>'success' = 'true' THEN
            FOR g IN 1..3 LOOP
                r := pg_temp.verify(h, pg_temp.wrong(h));
                outcomes := outcomes || ('guess:' || (r->>'code'));
                IF r->>'code' = 'rate_limited' THEN
                    outcomes := outcomes || ('right code:' || coalesce(pg_temp.verify(h, tests.code_of(h))->>'code', 'accepted'));
                END IF;
            END LOOP;
        END IF;
        IF api.get_hold(h, (SELECT c.org FROM ctx AS c))->>'status' = 'held' THEN
            PERFORM api.release_hold(h, (SELECT c.org FROM ctx AS c), 'next round');
        END IF;
    END LOOP;
    RETURN (SELECT jsonb_object_agg(o, n) FROM (SELECT o, count(*) AS n FROM unnest(outcomes) AS o GROUP BY o) AS t);
END
$$;

SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
-- 1. The brute force stops: per phone, 5 codes and 10 wrong guesses an hour.
SELECT is(pg_temp.attack(20, '+15553020001'),
          '{"send:sent": 5, "send:rate_limited": 15, "guess:wrong_code": 7, "guess:attempts_exhausted": 3,
            "guess:rate_limited": 5, "right code:rate_limited": 5}'::jsonb,
          '20 rounds of reserve, send, 3 guesses: 5 codes sent, 10 guesses checked, then even the right code waits');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.appointments AS a WHERE a.org_id = (SELECT org FROM ctx)), 0::bigint,
          '... and nothing was booked');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'otp'), 5::bigint,
          '... and the victim''s phone got 5 texts, not 20');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE limited AS SELECT pg_temp.hold('attack-later', '+15553020001') AS h;
SELECT is(pg_temp.send((SELECT h FROM limited)) - 'hold_id',
          '{"success": false, "code": "rate_limited", "retry_after_seconds": 3600,
            "error": "Too many codes were requested for this number; please try again later"}'::jsonb,
          'a refused send says so, and when to try again');
RESET ROLE;
SELECT is((SELECT otp_sends FROM voxbook.holds WHERE id = (SELECT h FROM limited)), 0, '... and sends nothing');
SET LOCAL ROLE voxbook_api;
SELECT tests.freeze_time('2030-01-14 12:59:00+00');   -- holds last 10 minutes: a new one each time
SELECT is(pg_temp.send(pg_temp.hold('attack-12:59', '+15553020001'))->>'retry_after_seconds', '60', 'the window slides: 60 s left at 12:59');
SELECT tests.freeze_time('2030-01-14 13:00:01+00');
UPDATE limited SET h = pg_temp.hold('attack-13:00', '+15553020001', '2030-01-15 09:30');
SELECT is(pg_temp.send((SELECT h FROM limited))->>'success', 'true', 'an hour after the burst the number gets a code again');
SELECT is(pg_temp.verify((SELECT h FROM limited), tests.code_of((SELECT h FROM limited)))->>'success', 'true',
          '... and the right code books');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.code_events AS e WHERE e.org_id = (SELECT org FROM ctx) AND e.kind = 'failure'),
          10::bigint, 'the wrong guesses counted are the 10 checked ones (refused guesses are not guesses)');

SET LOCAL ROLE voxbook_api;
-- 2. Per call: 5 codes, whatever the numbers.
SELECT is((SELECT array_agg(pg_temp.send(pg_temp.hold('call-many', '+1555303000' || i, '2030-01-15 13:00'::timestamp + i * interval '30 minutes' || ''))->>'code'
                            ORDER BY i)
             FROM generate_series(1, 6) AS i),
          ARRAY[NULL, NULL, NULL, NULL, NULL, 'rate_limited'], 'one call gets 5 codes, to any numbers');
RESET ROLE;
-- ... and per call 10 wrong guesses (here the clinic's setting: 2).
SELECT tests.set_clinic((SELECT org FROM ctx), 'code_failures_per_call = 2');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE guessed AS SELECT pg_temp.hold('call-guess', '+15553040001', '2030-01-16 09:00') AS h;
SELECT lives_ok($$SELECT pg_temp.send((SELECT h FROM guessed))$$, 'a code for the guessing call');
SELECT is(ARRAY[pg_temp.verify((SELECT h FROM guessed), pg_temp.wrong((SELECT h FROM guessed)))->>'code',
                pg_temp.verify((SELECT h FROM guessed), pg_temp.wrong((SELECT h FROM guessed)))->>'code',
                pg_temp.verify((SELECT h FROM guessed), pg_temp.wrong((SELECT h FROM guessed)))->>'code'],
          ARRAY['wrong_code', 'wrong_code', 'rate_limited'], 'the clinic''s code_failures_per_call applies');
SELECT is(pg_temp.verify((SELECT h FROM guessed), 'abc') - 'hold_id' - 'error',
          '{"success": false, "code": "rate_limited", "retry_after_seconds": 86400, "retries_left": 1}'::jsonb,
          'a limited call waits for the day window, its hold keeping its retries');

RESET ROLE;
-- 3. Per clinic (another clinic: its own counts, its own settings).
CREATE TEMP TABLE other AS SELECT tests.create_clinic('Busy Clinic') AS org;
SELECT tests.set_clinic((SELECT org FROM other), 'code_sends_per_clinic_hour = 3, code_failures_per_clinic_hour = 2');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(pg_temp.send(pg_temp.hold('busy-' || i, '+1555305000' || i, '2030-01-15 09:00'::timestamp + i * interval '30 minutes' || '',
                                                    (SELECT org FROM other)), (SELECT org FROM other))->>'code' ORDER BY i)
             FROM generate_series(1, 4) AS i),
          ARRAY[NULL, NULL, NULL, 'rate_limited'], 'a clinic sends at most code_sends_per_clinic_hour codes an hour');
RESET ROLE;
CREATE TEMP TABLE busy_sent AS SELECT h.id FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM other) AND h.otp_hash IS NOT NULL;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(r ORDER BY r) FROM (
               SELECT pg_temp.verify(h.id, pg_temp.wrong(h.id), (SELECT org FROM other))->>'code' AS r FROM busy_sent AS h) AS t),
          ARRAY['rate_limited', 'wrong_code', 'wrong_code'], '... and checks at most code_failures_per_clinic_hour wrong codes (one guess on each of 3 holds)');
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM other), 'code_sends_per_clinic_hour = 200');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT pg_temp.send(pg_temp.hold('busy-x', '+15553020001', '2030-01-17 09:00', (SELECT org FROM other)), (SELECT org FROM other))->>'success'),
          'true', 'each clinic counts its own: the number limited by the first clinic gets this clinic''s code');
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_index AS i
            WHERE i.indrelid = 'voxbook.code_events'::regclass
              AND i.indkey[0] <> (SELECT a.attnum FROM pg_attribute AS a
                                   WHERE a.attrelid = 'voxbook.code_events'::regclass AND a.attname = 'org_id')),
          0::bigint, 'every key and index of code_events leads with org_id');

SET LOCAL ROLE voxbook_api;
-- 4. Destinations: the clinic's own country unless it allows more.
CREATE TEMP TABLE abroad AS SELECT pg_temp.hold('call-uk', '+447700900456', '2030-01-18 09:00') AS h;
SELECT is(pg_temp.send((SELECT h FROM abroad)) - 'hold_id',
          '{"success": false, "code": "destination_not_allowed", "error": "This clinic can only text numbers in its own country"}'::jsonb,
          'a US clinic sends no code to a UK number');
SELECT is(api.send_otp_code((SELECT h FROM guessed), (SELECT org FROM ctx),
                            patient_phone => '+33 6 12 34 56 78')->>'code',
          'destination_not_allowed', '... nor to a French number given for a US hold');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.recipient::text !~ '^\+1' AND m.org_id = (SELECT org FROM ctx)),
          0::bigint, '... and queues nothing abroad');
SELECT tests.set_clinic((SELECT org FROM ctx), $$allowed_sms_calling_codes = '{1,44}'$$);
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.send((SELECT h FROM abroad))->>'success', 'true', 'once the clinic allows 44, the UK number gets its code');
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$allowed_sms_calling_codes = '{1876}'$$);
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.send(pg_temp.hold('call-narrow', '+15553060001', '2030-01-18 10:00'))->>'code', 'destination_not_allowed',
          'longer prefixes narrow a shared calling code (here: only +1 876)');
RESET ROLE;
SELECT throws_ok(format($$UPDATE voxbook.organizations SET allowed_sms_calling_codes = '{+44}' WHERE id = %L$$, (SELECT org FROM ctx)), '23514', NULL, 'allowed_sms_calling_codes are digits without +');
SELECT throws_ok(format($$UPDATE voxbook.organizations SET allowed_sms_calling_codes = '{}' WHERE id = %L$$, (SELECT org FROM ctx)), '23514', NULL, '... and not an empty list (NULL means the clinic''s own)');
SELECT tests.set_clinic((SELECT org FROM ctx), 'allowed_sms_calling_codes = NULL');
SELECT is((SELECT code_length FROM voxbook.organizations WHERE id = (SELECT org FROM ctx)), 6, 'codes have 6 digits by default');

SET LOCAL ROLE voxbook_api;
-- 5. The pepper: without it no code is sent or checked; with another one the code does not match.
CREATE TEMP TABLE peppered AS SELECT pg_temp.hold('call-pepper', '+15553070001', '2030-01-19 09:00') AS h;
SELECT lives_ok($$SELECT pg_temp.send((SELECT h FROM peppered))$$, 'a code sent with the pepper');
RESET ROLE;
SELECT set_config('voxbook.code_pepper', '', true);
SET LOCAL ROLE voxbook_api;
SELECT is(api.code_status(), '{"available": false, "reason": "no pepper configured"}'::jsonb, 'without a pepper code_status says why');
SELECT is(pg_temp.send((SELECT h FROM peppered)) - 'hold_id',
          '{"success": false, "code": "codes_unavailable",
            "error": "Text-message codes are not available right now; the front desk can confirm the booking"}'::jsonb,
          '... no code is sent, politely');
SELECT is(pg_temp.verify((SELECT h FROM peppered), tests.code_of((SELECT h FROM peppered)))->>'code', 'codes_unavailable',
          '... and none is checked');
RESET ROLE;
SELECT set_config('voxbook.code_pepper', 'another-pepper-0123456789-0123456789-0123', true);
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.verify((SELECT h FROM peppered), tests.code_of((SELECT h FROM peppered)))->>'code', 'wrong_code',
          'under another pepper the right code does not match: the key is part of the hash');
RESET ROLE;
SELECT set_config('voxbook.code_pepper', (SELECT pepper FROM ctx), true);
SET LOCAL ROLE voxbook_api;
SELECT is(api.code_status(), '{"available": true}'::jsonb, 'with the pepper back, codes are available');
SELECT is(pg_temp.verify((SELECT h FROM peppered), tests.code_of((SELECT h FROM peppered)))->>'success', 'true',
          '... and the right code books');

-- 6. A failing call never tests the code: contact and service are checked first (issue 10, item 8).
CREATE TEMP TABLE careful AS SELECT pg_temp.hold('call-careful', '+15553080001', '2030-01-20 09:00') AS h;
SELECT lives_ok($$SELECT pg_temp.send((SELECT h FROM careful))$$, 'a code for the careful hold');
SELECT throws_ok(format('SELECT api.verify_otp(%L, %L, %L, contact_id => gen_random_uuid())',
                        (SELECT h FROM careful), (SELECT org FROM ctx), pg_temp.wrong((SELECT h FROM careful))),
                 'VB404', 'unknown contact', 'a wrong code with an unknown contact: the contact is refused before the code is looked at');
SELECT throws_ok(format('SELECT api.verify_otp(%L, %L, %L, service => %L)',
                        (SELECT h FROM careful), (SELECT org FROM ctx), pg_temp.wrong((SELECT h FROM careful)), 'no-such-service'),
                 'VB404', 'unknown service', '... and so is an unknown service');
SELECT throws_ok(format('SELECT api.verify_otp(%L, %L, %L, contact_id => gen_random_uuid())',
                        (SELECT h FROM careful), (SELECT org FROM ctx), tests.code_of((SELECT h FROM careful))),
                 'VB404', 'unknown contact', 'the right code with an unknown contact: the same error, naming no code or phone');
RESET ROLE;
SELECT is((SELECT otp_attempts || '/' || status || '/' || (otp_verified_at IS NULL) FROM voxbook.holds WHERE id = (SELECT h FROM careful)),
          '0/held/true', '... no attempt spent, nothing verified');
SELECT is((SELECT count(*) FROM voxbook.code_events WHERE hold_id = (SELECT h FROM careful) AND kind = 'failure'), 0::bigint,
          '... and no wrong guess counted');
SELECT is(internal.clock(), '2030-01-14 13:00:01+00'::timestamptz, 'a superuser session may freeze the clock (tests do)');

SELECT * FROM finish();
ROLLBACK;
