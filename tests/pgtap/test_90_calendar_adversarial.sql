-- The calendar sync attacked (issue 17 review), in the database: a worker that outlived its lease (stalled on a
-- slow server, then finishing late) must not write its older view over the newer worker's (fencing by the lease on
-- api.record_calendar_push, as on api.apply_calendar_import and api.finish_calendar_sync); one clinic's worker
-- calls never reach another clinic's connection. Run as the API role.
BEGIN;
SELECT plan(14);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Fence A', phone => '+15557590001') AS a, tests.create_clinic('Fence B', phone => '+15557590002') AS b,
       'gAAAAAB' || repeat('Qa_1-', 24) AS cipher;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

CREATE TEMP TABLE appt AS
SELECT api.book_for_patient((SELECT a FROM ctx), 'cal-a', tests.at((SELECT a FROM ctx), '2030-01-16 10:00'), 'cleaning',
                            'Pat Doe', '+15557590009', 'desk') AS j;
CREATE TEMP TABLE ids AS
SELECT (api.connect_calendar((SELECT a FROM ctx), 'cal-a', 'https://dav.example.com/cal/a/', 'smith', (SELECT cipher FROM ctx),
                             '0123456789ab')->'connection'->>'connection_id')::uuid AS conn,
       (SELECT (j->>'appointment_id')::uuid FROM appt) AS appt;

-- w1 claims for 60 s and stalls; at +2 minutes w2 takes the calendar over and records the event it wrote.
SELECT is(api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', 60)->>'success', 'true', 'w1 claims the calendar');
SELECT tests.freeze_time('2030-01-14 12:02:00+00');
SELECT is(api.claim_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w2', 60)->>'success', 'true',
          'w2 takes it over once w1''s lease has run out');
SELECT is(api.record_calendar_push((SELECT a FROM ctx), (SELECT conn FROM ids), (SELECT appt FROM ids), 'https://dav.example.com/cal/a/x.ics',
                                   '"e2"', '2030-01-16 15:00+00', '2030-01-16 16:00+00', 'Cleaning', worker_id => 'w2')->>'recorded',
          'written', 'the holder records its push');

-- w1 wakes up and reports what it did with its older plan.
SELECT is(api.record_calendar_push((SELECT a FROM ctx), (SELECT conn FROM ids), (SELECT appt FROM ids), 'https://dav.example.com/cal/a/x.ics',
                                   '"e1"', '2030-01-16 14:00+00', '2030-01-16 15:00+00', 'Old title', worker_id => 'w1')->>'code',
          'not_held', 'a worker past its lease may not record a push');
RESET ROLE;   -- the tables, read as their owner
SELECT is((SELECT etag || ' ' || title FROM voxbook.calendar_pushes WHERE connection_id = (SELECT conn FROM ids)), '"e2" Cleaning',
          '... the newer record stands');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_calendar_push((SELECT a FROM ctx), (SELECT conn FROM ids), (SELECT appt FROM ids), 'https://dav.example.com/cal/a/x.ics',
                                   deleted => true, worker_id => 'w1')->>'code',
          'not_held', '... nor a deletion');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.calendar_pushes WHERE connection_id = (SELECT conn FROM ids)), 1, '... the record is still there');
SET LOCAL ROLE voxbook_api;
SELECT is(api.apply_calendar_import((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1',
                                    '[{"href": "/cal/a/b.ics", "uid": "b", "occurrences": [{"starts_at": "2030-01-16T17:00:00Z", "ends_at": "2030-01-16T18:00:00Z"}]}]',
                                    full_read => true)->>'code',
          'not_held', '... nor an import (its full read would wipe the newer one''s)');
SELECT is(api.finish_calendar_sync((SELECT a FROM ctx), (SELECT conn FROM ids), 'w1', 'unreachable', 'late')->>'code',
          'not_held', '... nor its health');
RESET ROLE;
SELECT is((SELECT locked_by FROM voxbook.calendar_connections WHERE id = (SELECT conn FROM ids)), 'w2', 'w2 still holds the calendar');
SET LOCAL ROLE voxbook_api;

-- A calendar with more busy occurrences than any person's (a hostile server's): refused whole, nothing written.
SELECT throws_ok(format('SELECT api.apply_calendar_import(%L, %L, %L, %L::jsonb, full_read => true)', (SELECT a FROM ctx), (SELECT conn FROM ids), 'w2',
                        jsonb_build_array(jsonb_build_object('href', '/cal/a/flood.ics', 'uid', 'flood', 'occurrences',
                            (SELECT jsonb_agg(jsonb_build_object('starts_at', timestamptz '2030-01-20 00:00+00' + g * interval '1 minute',
                                                                 'ends_at', timestamptz '2030-01-20 00:00+00' + g * interval '1 minute' + interval '30 seconds'))
                               FROM generate_series(1, 50001) AS g)))),
                 'VB400', 'too much busy time', 'over 50000 busy occurrences are refused');
SELECT is((api.list_calendar_connections((SELECT a FROM ctx))->'connections'->0->>'busy_imported')::int, 0, '... and nothing was imported');

-- Another clinic's id with a valid worker: nothing reached.
SELECT throws_ok(format('SELECT api.record_calendar_push(%L, %L, %L, %L, %L, %L, %L, %L, worker_id => %L)', (SELECT b FROM ctx),
                        (SELECT conn FROM ids), (SELECT appt FROM ids), 'h', 'e', '2030-01-16 15:00+00', '2030-01-16 16:00+00', 't', 'w2'),
                 'VB404', NULL, 'the holder cannot record through another clinic');
SELECT throws_ok(format('SELECT api.claim_calendar_sync(%L, %L, %L)', (SELECT b FROM ctx), (SELECT conn FROM ids), 'w3'),
                 'VB404', NULL, '... nor claim it through another clinic');

SELECT * FROM finish();
ROLLBACK;
