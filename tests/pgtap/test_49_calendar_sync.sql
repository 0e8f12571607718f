-- db/functions/49_calendar_sync.sql: CalDAV connections (stored with the password's ciphertext only), the sync
-- worker's claims, its push plan and records, imported busy time (blocks availability and claims, releases live
-- holds, keeps appointments and reports the conflict), health with backoff, one clinic at a time. Run as the API role.
BEGIN;
SELECT plan(74);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Sync A', phone => '+15557490001') AS a, tests.create_clinic('Sync B', phone => '+15557490002') AS b,
       'gAAAAAB' || repeat('Qa_1-', 24) AS cipher, 'https://dav.example.com/cal/smith/work/' AS url;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
-- Bookings first: on Citus a call is delegated to the clinic's node only before a statement across clinics.
CREATE TEMP TABLE appt_b AS
SELECT api.book_for_patient((SELECT b FROM ctx), 'cal-b', tests.at((SELECT b FROM ctx), '2030-01-16 10:00'), 'cleaning',
                            'Lee Smith', '+15557490006', 'desk') AS j;

-- connect, list, replace
CREATE TEMP TABLE conn_a AS SELECT api.connect_calendar((SELECT a FROM ctx), 'cal-a', (SELECT url FROM ctx), 'smith',
                                                        (SELECT cipher FROM ctx), '0123456789ab',
                                                        event_title => '{service} - {patient}', patient_name => 'first') AS j;
SELECT is((SELECT j->>'created' FROM conn_a), 'true', 'a provider gets a connected calendar');
SELECT is((SELECT j->'connection'->>'state' FROM conn_a), 'pending', '... not synced yet');
SELECT ok((SELECT j::text NOT LIKE '%gAAAAA%' FROM conn_a), '... answered without the ciphertext');
SELECT is(jsonb_array_length(api.list_calendar_connections((SELECT a FROM ctx))->'connections'), 1, 'listed for its clinic');
SELECT ok(api.list_calendar_connections((SELECT a FROM ctx))::text NOT LIKE '%gAAAAA%', '... never with the ciphertext');
SELECT is(jsonb_array_length(api.list_calendar_connections((SELECT b FROM ctx))->'connections'), 0, 'not for another clinic');
SELECT is(api.get_calendar_connection((SELECT a FROM ctx), 'cal-a')->'connection'->>'secret_ciphertext', (SELECT cipher FROM ctx),
          'get_calendar_connection returns the ciphertext (for `voxbook calendar test`)');
SELECT throws_ok(format('SELECT api.get_calendar_connection(%L, %L)', (SELECT b FROM ctx), 'cal-a'), 'VB404',
                 'the provider has no connected calendar', '... not another clinic''s');
SELECT is(api.connect_calendar((SELECT a FROM ctx), 'cal-a', (SELECT url FROM ctx), 'smith', (SELECT cipher FROM ctx) || 'x',
                               '0123456789ab', event_title => '{service} - {patient}', patient_name => 'first')->>'created',
          'false', 'connecting again replaces the credentials');

-- bad input: VB400, nothing stored
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a', 'ftp://x/cal/',
                        'u', (SELECT cipher FROM ctx), '0123456789ab'), 'VB400', 'url is not an http(s) URL', 'an ftp URL is refused');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a',
                        'https://smith:hunter2@dav.example.com/cal/', 'u', (SELECT cipher FROM ctx), '0123456789ab'),
                 'VB400', 'url must not contain credentials', 'a URL with a password in it is refused');
SELECT ok(tests.hint_of(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a',
                               'https://smith:hunter2@dav.example.com/cal/', 'u', (SELECT cipher FROM ctx), '0123456789ab'))
          NOT LIKE '%hunter2%', '... without quoting it');
SELECT is(api.connect_calendar((SELECT b FROM ctx), 'cal-b', 'https://caldav.fastmail.com/dav/calendars/user/me@fastmail.com/Default/',
                               'me@fastmail.com', (SELECT cipher FROM ctx), '0123456789ab')->>'success', 'true',
          'an @ in the path (Fastmail) is fine');
SELECT is(api.disconnect_calendar((SELECT b FROM ctx), 'cal-b')->>'disconnected', 'true', '... (and disconnected again)');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a', (SELECT url FROM ctx),
                        'u', 'my-plain-password', '0123456789ab'), 'VB400', 'secret_ciphertext is not an encrypted secret',
                 'a plaintext password is refused, not stored');
SELECT ok(tests.hint_of(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a',
                               (SELECT url FROM ctx), 'u', 'my-plain-password', '0123456789ab')) NOT LIKE '%my-plain-password%',
          '... and the HINT does not quote it');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a', (SELECT url FROM ctx),
                        'u', (SELECT cipher FROM ctx), 'not a key'), 'VB400', 'key_id is not a key id', 'a malformed key id is refused');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L, event_title => %L)', (SELECT b FROM ctx), 'cal-a',
                        (SELECT url FROM ctx), 'u', (SELECT cipher FROM ctx), '0123456789ab', '{phone} {patient}'),
                 'VB400', 'event_title is not a title template', 'a {phone} placeholder is refused');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L, patient_name => %L)', (SELECT b FROM ctx), 'cal-a',
                        (SELECT url FROM ctx), 'u', (SELECT cipher FROM ctx), '0123456789ab', 'everything'),
                 'VB400', 'patient_name must be none, first or full', 'an unknown name policy is refused');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, NULL, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a', 'u',
                        (SELECT cipher FROM ctx), '0123456789ab'), 'VB400', 'url is required', 'the URL is required');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-a',
                        (SELECT url FROM ctx), E'u\nx', (SELECT cipher FROM ctx), '0123456789ab'), 'VB400', NULL,
                 'a username over two lines is refused');
SELECT is(jsonb_array_length(api.list_calendar_connections((SELECT b FROM ctx))->'connections'), 0, 'none of these stored anything');

-- tenancy
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', gen_random_uuid(), 'cal-a', (SELECT url FROM ctx),
                        'u', (SELECT cipher FROM ctx), '0123456789ab'), 'VB404', 'unknown organization', 'an unknown clinic: VB404');
SELECT throws_ok(format('SELECT api.connect_calendar(%L, %L, %L, %L, %L, %L)', (SELECT b FROM ctx), 'cal-zz', (SELECT url FROM ctx),
                        'u', (SELECT cipher FROM ctx), '0123456789ab'), 'VB404', 'unknown calendar', 'an unknown provider: VB404');
CREATE TEMP TABLE ids AS SELECT (SELECT j->'connection'->>'connection_id' FROM conn_a)::uuid AS conn;
SELECT throws_ok(format('SELECT api.calendar_push_plan(%L, %L)', (SELECT b FROM ctx), (SELECT conn FROM ids)),
                 'VB404', 'unknown calendar connection', 'another clinic''s connection: no push plan');
SELECT throws_ok(format('SELECT api.apply_calendar_import(%L, %L, %L, %L)', (SELECT b FROM ctx), (SELECT conn FROM ids), 'w1', '[]'),
                 'VB404', NULL, '... no import');
SELECT throws_ok(format('SELECT api.finish_calendar_sync(%L, %L, %L)', (SELECT b FROM ctx), (SELECT conn FROM ids), 'w1'),
                 'VB404', NULL, '... no health report');
SELECT throws_ok(format('SELECT api.record_calendar_push(%L, %L, %L, %L, deleted => true)', (SELECT b FROM ctx),
                        (SELECT conn FROM ids), gen_random_uuid(), 'x'), 'VB404', NULL, '... no push record');
SELECT throws_ok(format('SELECT api.list_calendar_conflicts(%L)', gen_random_uuid()), 'VB404', NULL, 'conflicts of an unknown clinic: VB404');

-- a worker's claim of one calendar (the multi-clinic claim, api.claim_calendar_syncs, is at the end: on Citus a
-- statement across clinics ends the delegation of the calls after it in the transaction)
CREATE TEMP TABLE claim1 AS SELECT api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1') AS j;
SELECT is((SELECT j->'connection'->>'secret_ciphertext' FROM claim1), (SELECT cipher FROM ctx) || 'x',
          'a worker claims the connection, with the ciphertext to decrypt in its memory');
SELECT is((SELECT (j->'connection'->>'full')::boolean FROM claim1), true, '... a full read the first time');
SELECT is(api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w2')->>'code', 'busy',
          'a second worker does not get it while leased');
SELECT throws_ok(format('SELECT api.claim_calendar_sync(%L, %L, %L)', (SELECT b FROM ctx), (SELECT conn FROM ids), 'w2'),
                 'VB404', NULL, '... nor through another clinic');

-- out: the push plan
CREATE TEMP TABLE appt AS
SELECT api.book_for_patient((SELECT a FROM ctx), 'cal-a', tests.at((SELECT a FROM ctx), '2030-01-16 10:00'), 'cleaning',
                            'Pat Doe', '+15557490009', 'desk') AS j;
CREATE TEMP TABLE plan1 AS SELECT api.calendar_push_plan((SELECT a FROM ctx), (SELECT conn FROM ids)) AS j;
SELECT is((SELECT jsonb_array_length(j->'upserts') FROM plan1), 1, 'a confirmed appointment is to be pushed');
SELECT is((SELECT j->'upserts'->0->>'uid' FROM plan1), (SELECT j->>'appointment_id' FROM appt) || '@voxbook', '... with a stable UID');
SELECT is((SELECT j->'upserts'->0->>'title' FROM plan1), 'Cleaning - Pat', '... titled by the template, first name only');
SELECT ok((SELECT j::text NOT LIKE '%7490009%' FROM plan1), '... never with the phone');
SELECT is(api.record_calendar_push((SELECT a FROM ctx), (SELECT conn FROM ids), (SELECT (j->>'appointment_id')::uuid FROM appt),
                                   'https://dav.example.com/cal/smith/work/voxbook-1.ics', '"e1"',
                                   (SELECT (j->'upserts'->0->>'starts_at')::timestamptz FROM plan1),
                                   (SELECT (j->'upserts'->0->>'ends_at')::timestamptz FROM plan1), 'Cleaning - Pat')->>'recorded',
          'written', 'the worker records the event written');
SELECT is(jsonb_array_length(api.calendar_push_plan((SELECT a FROM ctx), (SELECT conn FROM ids))->'upserts'), 0,
          'then there is nothing left to push');
SELECT throws_ok(format('SELECT api.record_calendar_push(%L, %L, %L, %L, %L, %L, %L, %L)', (SELECT a FROM ctx), (SELECT conn FROM ids),
                        (SELECT j->>'appointment_id' FROM appt), 'h', 'e', '2030-01-16 16:00+00', '2030-01-16 15:00+00', 't'),
                 'VB400', NULL, 'a record with inverted times is refused');

-- in: busy time imported, claims refused, live holds released, appointments kept as conflicts
CREATE TEMP TABLE hold AS
SELECT api.claim_slot_atomic(org_id => (SELECT a FROM ctx), calendar_id => 'cal-a',
                             slot_time => tests.at((SELECT a FROM ctx), '2030-01-17 09:00'), call_sid => 'call-49',
                             patient_name => 'Sam', patient_phone => '+15557490008') AS j;
SELECT is(api.apply_calendar_import((SELECT a FROM ctx), (SELECT conn FROM ids), 'w2', '[]', full_read => true)->>'code',
          'not_held', 'a worker that does not hold the connection cannot import');
CREATE TEMP TABLE imp AS
SELECT api.apply_calendar_import((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', jsonb_build_array(
         jsonb_build_object('href', '/cal/golf.ics', 'etag', '"g1"', 'uid', 'golf', 'occurrences', jsonb_build_array(
             jsonb_build_object('starts_at', tests.at((SELECT a FROM ctx), '2030-01-16 09:30'),
                                'ends_at', tests.at((SELECT a FROM ctx), '2030-01-16 10:30')))),
         jsonb_build_object('href', '/cal/gym.ics', 'uid', 'gym', 'occurrences', jsonb_build_array(
             jsonb_build_object('starts_at', tests.at((SELECT a FROM ctx), '2030-01-17 09:00'),
                                'ends_at', tests.at((SELECT a FROM ctx), '2030-01-17 10:00'), 'recurrence_id', '20300117T140000Z'),
             jsonb_build_object('starts_at', tests.at((SELECT a FROM ctx), '2030-01-24 09:00'),
                                'ends_at', tests.at((SELECT a FROM ctx), '2030-01-24 10:00'), 'recurrence_id', '20300124T140000Z'),
             jsonb_build_object('starts_at', '2030-01-20T10:00:00Z', 'ends_at', '2030-01-20T09:00:00Z'),
             jsonb_build_object('starts_at', 'infinity', 'ends_at', 'infinity')))),
       full_read => true, sync_token => 'tok-1') AS j;
SELECT is((SELECT (j->>'inserted')::int FROM imp), 3, 'busy occurrences become blocks');
SELECT is((SELECT (j->>'skipped')::int FROM imp), 2, '... an inverted or infinite one is skipped, counted');
SELECT is((SELECT (j->>'released_holds')::int FROM imp), 1, 'a live hold on new busy time is released');
SELECT is((SELECT jsonb_array_length(j->'conflicts') FROM imp), 1, 'a confirmed appointment under it is a conflict');
SELECT is(api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM appt), (SELECT a FROM ctx))->>'status', 'confirmed',
          '... and stays booked');
SELECT is(api.list_calendar_conflicts((SELECT a FROM ctx))->'conflicts'->0->>'appointment_id', (SELECT j->>'appointment_id' FROM appt),
          'staff see the conflict');
SELECT throws_ok(format($$SELECT api.claim_slot_atomic(org_id => %L, calendar_id => 'cal-a', slot_time => %L,
                                                       call_sid => 'call-49b', patient_name => 'Lee', patient_phone => '+15557490007')$$,
                        (SELECT a FROM ctx), tests.at((SELECT a FROM ctx), '2030-01-24 09:00')),
                 'VB400', 'Dr. Able is not available then', 'a claim on imported busy time is refused');
SELECT ok(NOT (api.check_availability((SELECT a FROM ctx), '2030-01-24', calendar_id => 'cal-a')->'slots' @>
               jsonb_build_array(jsonb_build_object('time', internal_time)))
          , 'and the time is not offered')
  FROM (SELECT to_char(tests.at((SELECT a FROM ctx), '2030-01-24 09:30') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS internal_time) AS t;
-- imported busy time among the clinic's blocks (64_clinic_setup.sql): shown with its source, not removable here,
-- and not mistaken for the same time blocked by staff
CREATE TEMP TABLE golf AS
SELECT b FROM jsonb_array_elements(api.list_blocks((SELECT a FROM ctx), calendar_id => 'cal-a')->'blocks') AS b
 WHERE b->>'starts_at' = to_char(tests.at((SELECT a FROM ctx), '2030-01-16 09:30') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
SELECT is((SELECT b->>'source' FROM golf), 'caldav', 'list_blocks shows imported busy time with its source');
SELECT throws_ok(format('SELECT api.unblock_time(%L, %s)', (SELECT a FROM ctx), (SELECT b->>'block_id' FROM golf)),
                 'VB409', 'this busy time comes from the provider''s own calendar',
                 'staff cannot unblock it here (the next sync would put it back)');
SELECT is(api.block_time((SELECT a FROM ctx), 'cal-a', tests.at((SELECT a FROM ctx), '2030-01-16 09:30'),
                         tests.at((SELECT a FROM ctx), '2030-01-16 10:30'), 'team meeting', proceed => true)->>'created', 'true',
          'staff blocking the same time makes their own block, which outlives the event');
SELECT is((SELECT (j->>'removed')::int FROM (SELECT api.apply_calendar_import((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1',
               '[]', deleted_hrefs => '["/cal/gym.ics"]', sync_token => 'tok-2') AS j) AS x), 2,
          'an event deleted there frees its occurrences');
SELECT throws_ok(format('SELECT api.apply_calendar_import(%L, %L, %L, %L)', (SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', '{}'),
                 'VB400', 'changed and deleted_hrefs must be JSON arrays', 'an import that is not an array is refused');

-- event titles: the template and the clinic's patient-name policy
CREATE TEMP TABLE conn_b AS SELECT api.connect_calendar((SELECT b FROM ctx), 'cal-b', (SELECT url FROM ctx), 'baker',
                                                        (SELECT cipher FROM ctx), '0123456789ab',
                                                        event_title => '{patient} - {service} with {provider}') AS j;
SELECT is(api.calendar_push_plan((SELECT b FROM ctx), (SELECT (j->'connection'->>'connection_id')::uuid FROM conn_b))
          ->'upserts'->0->>'title', 'Cleaning with Dr. Baker', 'patient name policy none (the default): no name, no dangling dash');
SELECT is(api.connect_calendar((SELECT b FROM ctx), 'cal-b', (SELECT url FROM ctx), 'baker', (SELECT cipher FROM ctx), '0123456789ab',
                               event_title => '{patient} - {service} with {provider}', patient_name => 'full')->'connection'->>'patient_name',
          'full', 'the policy changes with the same URL');
SELECT is(api.calendar_push_plan((SELECT b FROM ctx), (SELECT (j->'connection'->>'connection_id')::uuid FROM conn_b))
          ->'upserts'->0->>'title', 'Lee Smith - Cleaning with Dr. Baker', '... full: the whole name');
SELECT is(api.disconnect_calendar((SELECT b FROM ctx), 'cal-b')->>'disconnected', 'true', '... (disconnected again)');

-- recurring events are expanded again as time passes: a full read once a day
SELECT is((api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1')->'connection'->>'full')::boolean, false,
          'right after a full read, the next round is incremental');
SELECT tests.freeze_time('2030-01-15 12:30:00+00');
SELECT is((api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1')->'connection'->>'full')::boolean, true,
          'a day later the whole calendar is read (and expanded) again');
SELECT tests.freeze_time('2030-01-14 12:00:00+00');

-- health: failures back off, success resets; the doctor's list
SELECT is((api.finish_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', 'unreachable', 'connection refused')
           ->>'consecutive_failures')::int, 1, 'a failed round is counted');
SELECT is(api.list_calendar_connections((SELECT a FROM ctx))->'connections'->0->>'last_error_class', 'unreachable',
          'staff see the error class');
SELECT ok((SELECT (c->>'next_attempt_at')::timestamptz > '2030-01-14 12:00:05+00'
             FROM jsonb_array_elements(api.list_calendar_connections((SELECT a FROM ctx))->'connections') AS c),
          '... and the next attempt is backed off');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.calendar_sync_problems()->'failing') AS f
            WHERE f->>'org_id' = (SELECT a FROM ctx)::text), 1, 'voxbook doctor lists it');
SELECT throws_ok(format('SELECT api.finish_calendar_sync(%L, %L, %L, %L)', (SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', 'oops'),
                 'VB400', 'unknown error_class', 'an unknown error class is refused');

-- disconnect: imported busy time goes
SELECT is((api.disconnect_calendar((SELECT a FROM ctx), 'cal-a')->>'busy_removed')::int, 1, 'disconnecting removes the imported busy time');
SELECT is(jsonb_array_length(api.list_calendar_conflicts((SELECT a FROM ctx))->'conflicts'), 0, '... and with it the conflict');

-- the worker's claim across clinics: due connections, each held by one worker
SELECT is(api.connect_calendar((SELECT b FROM ctx), 'cal-a', (SELECT url FROM ctx), 'jones', (SELECT cipher FROM ctx),
                               '0123456789ab')->>'success', 'true', 'another clinic connects a calendar');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_calendar_syncs('w1', 10, 120)->'connections') AS c
            WHERE c->>'org_id' = (SELECT b FROM ctx)::text), 1, 'a worker claims the due connection');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_calendar_syncs('w2')->'connections') AS c
            WHERE c->>'org_id' = (SELECT b FROM ctx)::text), 0, 'a second worker does not get it while leased');
SELECT is((api.release_calendar_claims('w1')->>'released')::int >= 1, true, 'a stopping worker gives its claims back');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_calendar_syncs('w2', due_before => '2030-01-14 11:00+00')->'connections') AS c
            WHERE c->>'org_id' = (SELECT b FROM ctx)::text), 0, 'a pass claims only what was due when it began (due_before)');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_calendar_syncs('w2')->'connections') AS c
            WHERE c->>'org_id' = (SELECT b FROM ctx)::text), 1, '... and another worker takes them at once');
SELECT throws_ok($$SELECT api.claim_calendar_syncs('w1', 0)$$, 'VB400', NULL, 'max_rows 0 is refused');

SELECT * FROM finish();
ROLLBACK;
