-- db/functions/71_staff_accounts.sql: staff accounts (invites, roles, deactivation, the last owner kept) and the
-- dashboard sign-in's two steps with its rate limit. Run as the API role; direct reads of tables as the owner.
BEGIN;
SELECT plan(53);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Staff Clinic') AS org, tests.create_clinic('Other Staff Clinic') AS other;
CREATE TEMP TABLE made (k text PRIMARY KEY, j jsonb);
CREATE TEMP TABLE hash AS SELECT '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g'::text AS h,
                                 '$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA'::text AS rehash;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- invites -------------------------------------------------------------------------------------------------------
INSERT INTO made SELECT 'owner_invite', api.invite_staff((SELECT org FROM ctx), '  Olga@Staff.Example ', ' Olga Owner ',
                                                         'owner', changed_by => 'setup script');
SELECT matches((SELECT j->>'token' FROM made WHERE k = 'owner_invite'), '^vbi_[0-9a-f]{48}$',
               'an invite carries a one-time token, 192 random bits');
SELECT is((SELECT j->>'path' FROM made WHERE k = 'owner_invite'),
          '/dashboard/invite?token=' || (SELECT j->>'token' FROM made WHERE k = 'owner_invite'), '... as a link path');
SELECT is((SELECT jsonb_build_array(j->>'email', j->>'name', j->>'role') FROM made WHERE k = 'owner_invite'),
          '["olga@staff.example", "Olga Owner", "owner"]'::jsonb, '... for the email lower-cased and trimmed, name, role');
SELECT is((SELECT j->>'expires_at' FROM made WHERE k = 'owner_invite'), '2030-01-17T12:00:00Z', '... valid 72 hours');
SELECT is(api.staff_invite((SELECT j->>'token' FROM made WHERE k = 'owner_invite'))->>'clinic', 'Staff Clinic',
          'the link says which clinic it is for');
SELECT is(api.staff_invite('vbi_' || repeat('0', 48))->>'code', 'invalid_invite', 'a made-up link is refused');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L)', (SELECT org FROM ctx), 'not-an-email', 'X', 'owner'),
                 'VB400', 'email must be an email address (at most 254 characters)', 'the email must look like one');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L)', (SELECT org FROM ctx), 'x@y.example', 'X', 'admin'),
                 'VB400', 'role must be owner or front_desk', 'the role is owner or front_desk');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L)', (SELECT org FROM ctx), 'x@y.example', '   ', 'owner'),
                 'VB400', 'name must be 1 to 100 characters', 'a name is required');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L, NULL, 0)', (SELECT org FROM ctx), 'x@y.example', 'X', 'owner'),
                 'VB400', 'valid_hours must be between 1 and 720', 'an invite lasts 1 to 720 hours');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L)', gen_random_uuid(), 'x@y.example', 'X', 'owner'),
                 'VB404', 'unknown organization', 'an unknown clinic is refused');

SELECT throws_ok(format('SELECT api.accept_staff_invite(%L, %L)', (SELECT j->>'token' FROM made WHERE k = 'owner_invite'),
                        'my-plain-password'),
                 'VB400', 'password_hash must be an argon2id hash', 'only a hash is stored, never a password');
SELECT ok(position('my-plain-password' IN tests.hint_of(format('SELECT api.accept_staff_invite(%L, %L)',
                       (SELECT j->>'token' FROM made WHERE k = 'owner_invite'), 'my-plain-password'))) = 0,
          '... and the refusal does not quote it');
INSERT INTO made SELECT 'owner_session', api.accept_staff_invite((SELECT j->>'token' FROM made WHERE k = 'owner_invite'),
                                                                 (SELECT h FROM hash));
SELECT is((SELECT jsonb_build_array(j->>'success', j->>'name', j->>'role') FROM made WHERE k = 'owner_session'),
          '["true", "Olga Owner", "owner"]'::jsonb, 'accepting the invite signs the person in');
SELECT is(api.dashboard_session((SELECT j->>'session' FROM made WHERE k = 'owner_session'))->>'staff_name', 'Olga Owner',
          '... with a session of that person');
SELECT is(api.accept_staff_invite((SELECT j->>'token' FROM made WHERE k = 'owner_invite'), (SELECT h FROM hash))->>'code',
          'invite_used', 'the link works once');
SELECT is(api.staff_invite((SELECT j->>'token' FROM made WHERE k = 'owner_invite'))->>'code', 'invite_used',
          '... and says so afterwards');
SELECT throws_ok(format('SELECT api.invite_staff(%L, %L, %L, %L)', (SELECT org FROM ctx), 'OLGA@staff.example', 'Olga', 'front_desk'),
                 'VB409', 'this email already has an active account in this clinic', 'an active account is not invited again');

INSERT INTO made SELECT 'desk_invite', api.invite_staff((SELECT org FROM ctx), 'dan@staff.example', 'Dan Desk', 'front_desk',
                                                        'Olga Owner', valid_hours => 1);
SELECT tests.freeze_time('2030-01-14 13:00:01+00');
SELECT is(api.staff_invite((SELECT j->>'token' FROM made WHERE k = 'desk_invite'))->>'code', 'invite_expired',
          'an invite expires');
SELECT is(api.accept_staff_invite((SELECT j->>'token' FROM made WHERE k = 'desk_invite'), (SELECT h FROM hash))->>'code',
          'invite_expired', '... and then cannot be accepted');
INSERT INTO made SELECT 'desk_invite2', api.invite_staff((SELECT org FROM ctx), 'dan@staff.example', 'Dan Desk', 'front_desk',
                                                         'Olga Owner');
SELECT is((SELECT j->>'staff_id' FROM made WHERE k = 'desk_invite2'), (SELECT j->>'staff_id' FROM made WHERE k = 'desk_invite'),
          'inviting again the same person: the same account, a new link');
INSERT INTO made SELECT 'desk_session', api.accept_staff_invite((SELECT j->>'token' FROM made WHERE k = 'desk_invite2'),
                                                                (SELECT h FROM hash));
SELECT is((SELECT j->>'role' FROM made WHERE k = 'desk_session'), 'front_desk', 'the new link works');

-- managing accounts ---------------------------------------------------------------------------------------------
INSERT INTO made SELECT 'list', api.list_staff((SELECT org FROM ctx));
SELECT is((SELECT jsonb_agg(jsonb_build_array(s->>'name', s->>'role', s->>'status') ORDER BY s->>'name')
             FROM made, jsonb_array_elements(j->'staff') AS s WHERE k = 'list'),
          '[["Dan Desk", "front_desk", "active"], ["Olga Owner", "owner", "active"]]'::jsonb, 'list_staff lists the accounts');
SELECT ok((SELECT position('argon2' IN j::text) = 0 AND NOT j::text LIKE '%password%' FROM made WHERE k = 'list'),
          '... without their password hashes');
SELECT is(api.list_staff((SELECT other FROM ctx))->'staff', '[]'::jsonb, 'another clinic sees none of them');

SELECT throws_ok(format('SELECT api.set_staff_role(%L, %L, %L)', (SELECT other FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'desk_invite'), 'owner'),
                 'VB404', 'unknown staff account', 'another clinic cannot change the role of this clinic''s staff');
SELECT throws_ok(format('SELECT api.deactivate_staff(%L, %L)', (SELECT other FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'desk_invite')),
                 'VB404', 'unknown staff account', '... nor deactivate them');
SELECT throws_ok(format('SELECT api.set_staff_role(%L, %L, %L)', (SELECT org FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'owner_invite'), 'front_desk'),
                 'VB409', 'a clinic keeps at least one active owner', 'the last owner cannot be demoted');
SELECT throws_ok(format('SELECT api.deactivate_staff(%L, %L)', (SELECT org FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'owner_invite')),
                 'VB409', 'a clinic keeps at least one active owner', '... nor deactivated');
SELECT throws_ok(format('SELECT api.set_staff_role(%L, %L, %L)', (SELECT org FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'desk_invite'), 'boss'),
                 'VB400', 'role must be owner or front_desk', 'a role is owner or front_desk');
SELECT is(api.set_staff_role((SELECT org FROM ctx), (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'desk_invite'), 'owner',
                             'Olga Owner')->'staff'->>'role', 'owner', 'an owner promotes the front desk');
SELECT is(api.dashboard_session((SELECT j->>'session' FROM made WHERE k = 'desk_session'))->>'role', 'owner',
          '... which their open session sees at once');
SELECT is(api.set_staff_role((SELECT org FROM ctx), (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'owner_invite'),
                             'front_desk', 'Dan Desk')->'staff'->>'role', 'front_desk',
          'with two owners, one may be demoted');
SELECT is(api.deactivate_staff((SELECT org FROM ctx), (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'owner_invite'),
                               'Dan Desk')->>'sessions_ended', '1', 'deactivating an account ends its sessions');
SELECT is(api.dashboard_session((SELECT j->>'session' FROM made WHERE k = 'owner_session'))->>'code', 'invalid_session',
          '... at once');
SELECT is(api.deactivate_staff((SELECT org FROM ctx), (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'owner_invite'),
                               'Dan Desk')->>'sessions_ended', '0', 'deactivating is idempotent');
SELECT throws_ok(format('SELECT api.set_staff_role(%L, %L, %L)', (SELECT org FROM ctx),
                        (SELECT j->>'staff_id' FROM made WHERE k = 'owner_invite'), 'owner'),
                 'VB409', 'this account is deactivated', 'a deactivated account gets no role');

RESET ROLE;
SELECT is((SELECT jsonb_agg(jsonb_build_array(a.action, a.changed_by) ORDER BY a.action, a.changed_by)
             FROM voxbook.audit_log AS a WHERE a.org_id = (SELECT org FROM ctx) AND a.entity = 'staff_account'),
          '[["accept_staff_invite", "Dan Desk"], ["accept_staff_invite", "Olga Owner"], ["deactivate_staff", "Dan Desk"],
            ["invite_staff", "Olga Owner"], ["invite_staff", "Olga Owner"], ["invite_staff", "setup script"],
            ["set_staff_role", "Dan Desk"], ["set_staff_role", "Olga Owner"]]'::jsonb,
          'every change is audited with the person''s name');
SELECT ok((SELECT bool_and(position('argon2' IN coalesce(a.before::text, '') || coalesce(a.after::text, '')) = 0)
             FROM voxbook.audit_log AS a WHERE a.org_id = (SELECT org FROM ctx)), '... and no hash in the audit');
SELECT is((SELECT s.password_hash FROM voxbook.staff_accounts AS s
            WHERE s.org_id = (SELECT org FROM ctx) AND s.email = 'olga@staff.example'), NULL,
          'a deactivated account keeps no password hash');
SET LOCAL ROLE voxbook_api;

-- sign-in -------------------------------------------------------------------------------------------------------
SELECT is(api.dashboard_login_accounts(' DAN@staff.example ', '192.0.2.1')->'accounts'->0->>'password_hash', (SELECT h FROM hash),
          'sign-in finds the email''s account and hash for the api layer to verify');
SELECT is(api.dashboard_login_accounts('olga@staff.example', '192.0.2.1')->'accounts', '[]'::jsonb,
          'a deactivated account is not offered');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.1', (SELECT other FROM ctx))->'accounts', '[]'::jsonb,
          'limited to a clinic, only that clinic''s account');
SELECT is(api.dashboard_login('dan@staff.example', '192.0.2.1', (SELECT other FROM ctx),
                              (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'desk_invite'))->>'code',
          'invalid_credentials', 'an account of another clinic than named signs nothing in');
INSERT INTO made SELECT 'login', api.dashboard_login('dan@staff.example', '192.0.2.1', (SELECT org FROM ctx),
                                                     (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'desk_invite'),
                                                     password_rehash => (SELECT rehash FROM hash));
SELECT is((SELECT jsonb_build_array(j->>'success', j->>'name') FROM made WHERE k = 'login'), '["true", "Dan Desk"]'::jsonb,
          'the account whose hash matched is signed in');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.1')->'accounts'->0->>'password_hash',
          (SELECT rehash FROM hash), '... and a rehash replaces the stored hash');
SELECT is((SELECT count(*) FROM generate_series(1, 4) AS i
            WHERE api.dashboard_login('dan@staff.example', '192.0.2.2')->>'code' = 'invalid_credentials'), 4::bigint,
          'failures are counted');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.3')->>'success', 'false',
          'five failures of an email (one counted above) close it for 15 minutes, from any address');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.3')->>'retry_after_seconds', '900',
          '... saying how long');
SELECT is(api.dashboard_login('dan@staff.example', '192.0.2.3', (SELECT org FROM ctx),
                              (SELECT (j->>'staff_id')::uuid FROM made WHERE k = 'desk_invite'))->>'code',
          'too_many_attempts', 'the second step refuses too, even for a matching account');
SELECT tests.freeze_time('2030-01-14 13:15:02+00');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.3')->>'success', 'true',
          'the limit lifts as the failures age out');
SELECT is((SELECT count(*) FROM generate_series(1, 30) AS i
            WHERE api.dashboard_login(format('guess%s@staff.example', i), '192.0.2.9')->>'code' = 'invalid_credentials'),
          30::bigint, 'thirty failures from one address, each for another email');
SELECT is(api.dashboard_login_accounts('dan@staff.example', '192.0.2.9')->>'code', 'too_many_attempts',
          '... close that address');

SELECT * FROM finish();
ROLLBACK;
