-- db/functions/70_dashboard.sql: dashboard sessions and what the page shows, and calendar feeds, each scoped
-- to one clinic; secrets stored as hashes only; phone numbers masked unless revealed. Run as the API role.
BEGIN;
SELECT plan(26);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Dash Clinic') AS org, tests.create_clinic('Other Clinic') AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- sessions: a staff member's (sign-in itself and the accounts: test_71_staff_accounts.sql)
CREATE TEMP TABLE inv AS SELECT api.invite_staff((SELECT org FROM ctx), 'dana@dash.example', 'Dana Desk', 'front_desk',
                                                 'tests') AS j;
CREATE TEMP TABLE sess AS SELECT api.accept_staff_invite((SELECT j->>'token' FROM inv),
                                                         '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g') AS j;
SELECT matches((SELECT j->>'session' FROM sess), '^vbs_[0-9a-f]{48}$', 'a session secret: 192 random bits');
SELECT is(api.dashboard_session((SELECT j->>'session' FROM sess))->>'org_id', (SELECT org::text FROM ctx),
          'the session resolves to exactly that clinic');
SELECT is((SELECT jsonb_build_array(x->>'staff_name', x->>'role', x->>'staff_email', x->>'staff_id')
             FROM (SELECT api.dashboard_session((SELECT j->>'session' FROM sess)) AS x) AS y),
          jsonb_build_array('Dana Desk', 'front_desk', 'dana@dash.example', (SELECT j->>'staff_id' FROM inv)),
          '... and to the person, with the role read at this request');
SELECT is(api.dashboard_session('vbs_' || repeat('0', 48))->>'code', 'invalid_session', 'a made-up session is refused');
SELECT is(api.dashboard_session(NULL)->>'code', 'invalid_session', '... and no session at all');
SELECT is(api.dashboard_logout((SELECT j->>'session' FROM sess))->>'ended', 'true', 'logout ends the session');
SELECT is(api.dashboard_session((SELECT j->>'session' FROM sess))->>'code', 'invalid_session', '... which no longer resolves');
SELECT is(api.dashboard_logout((SELECT j->>'session' FROM sess))->>'ended', 'false', 'logout is idempotent');
-- Clinic tokens are still issued and revoked in psql, but no longer sign in (no person to audit).
CREATE TEMP TABLE tok AS SELECT api.issue_dashboard_token((SELECT org FROM ctx), 'front desk') AS j;
SELECT matches((SELECT j->>'token' FROM tok), '^vbd_[0-9a-f]{48}$', 'a dashboard token is shown once, 192 random bits');
SELECT is(api.dashboard_session((SELECT j->>'token' FROM tok))->>'code', 'invalid_session', 'a token is no session');
SELECT throws_ok(format('SELECT api.revoke_dashboard_token(%L, %L)', (SELECT other FROM ctx), (SELECT j->>'token_id' FROM tok)),
                 'VB404', 'unknown dashboard token', 'another clinic cannot revoke the token');
SELECT is(api.revoke_dashboard_token((SELECT org FROM ctx), (SELECT (j->>'token_id')::uuid FROM tok))->>'revoked', 'true',
          'the clinic revokes its token');

-- what the page shows
CREATE TEMP TABLE call AS SELECT api.record_call_end((SELECT org FROM ctx), 'call-dash-1', '2030-01-14 11:50:00+00',
                                                     '2030-01-14 11:58:00+00', '+15557010001', 'How much is whitening?',
                                                     'Asked about whitening', '{"sentiment": "positive"}') AS j;
CREATE TEMP TABLE leads AS SELECT api.dashboard_hot_leads((SELECT org FROM ctx)) AS j;
SELECT is((SELECT jsonb_array_length(j->'leads') FROM leads), 1, 'a hot call is listed as a lead');
SELECT is((SELECT j->'leads'->0->>'phone_masked' FROM leads), '(***) ***-0001', 'with its number masked');
SELECT ok((SELECT position('7010001' IN j::text) = 0 FROM leads), 'the full number is nowhere in the list');
SELECT is(api.dashboard_hot_leads((SELECT other FROM ctx))->'leads', '[]'::jsonb, 'another clinic sees none of it');
SELECT is(api.dashboard_reveal_phone((SELECT org FROM ctx), call_id => 'call-dash-1')->>'phone', '+15557010001',
          'the number is revealed on request');
SELECT throws_ok($$SELECT api.dashboard_reveal_phone((SELECT other FROM ctx), call_id => 'call-dash-1')$$, 'VB404', NULL,
                 '... only to its own clinic');
SELECT throws_ok($$SELECT api.dashboard_reveal_phone((SELECT org FROM ctx))$$, 'VB400', NULL, 'exactly one id is required');
SELECT is(api.dashboard_lead((SELECT org FROM ctx), 'call-dash-1')->>'transcript', 'How much is whitening?',
          'the lead view has the transcript');

CREATE TEMP TABLE held AS SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-14 09:00') + interval '1 day',
                                                       'call-dash-2', 'Holly', '+15557010002') AS j;
SELECT is((SELECT h->>'hold_id' FROM jsonb_array_elements(api.dashboard_live_holds((SELECT org FROM ctx))->'holds') AS h),
          (SELECT j->>'hold_id' FROM held), 'a live hold is shown');
SELECT is((SELECT count(*) FROM jsonb_path_query(api.dashboard_schedule((SELECT org FROM ctx)),
                                                 '$.days[1].providers[*].entries[*] ? (@.kind == "hold")')),
          1::bigint, 'tomorrow''s schedule has the hold');

-- calendar feeds
CREATE TEMP TABLE feed AS SELECT api.issue_calendar_feed_token((SELECT org FROM ctx), 'cal-a') AS j;
SELECT is(api.calendar_feed('cal-a', (SELECT j->>'token' FROM feed))->>'success', 'true', 'a feed token opens its calendar');
SELECT is(api.calendar_feed('cal-b', (SELECT j->>'token' FROM feed))->>'code', 'invalid_token', '... and no other');
SELECT is(api.revoke_calendar_feed_tokens((SELECT org FROM ctx), 'cal-a')->>'revoked', '1', 'feed tokens can be revoked');
SELECT is(api.calendar_feed('cal-a', (SELECT j->>'token' FROM feed))->>'code', 'invalid_token', '... and then open nothing');

SELECT * FROM finish();
ROLLBACK;
