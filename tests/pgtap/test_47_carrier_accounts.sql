-- db/functions/47_carrier_accounts.sql: a clinic's own Twilio account, stored with the token's ciphertext
-- only, read by one clinic at a time; the inbound webhook's lookup. Run as the API role.
BEGIN;
SELECT plan(37);

CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Carrier A', phone => '+15557470001') AS a, tests.create_clinic('Carrier B', phone => '+15557470002') AS b,
       'AC' || repeat('a1', 16) AS sid_a, 'AC' || repeat('b2', 16) AS sid_b,
       'gAAAAAB' || repeat('Qa_1-', 24) AS cipher_a, 'gAAAAAB' || repeat('Zb_2-', 24) AS cipher_b,
       'MG' || repeat('c3', 16) AS service;
SELECT tests.set_clinic((SELECT b FROM ctx), $$sms_from = '+15557470003'$$);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- set, get, replace
CREATE TEMP TABLE set_a AS SELECT api.set_carrier_account((SELECT a FROM ctx), (SELECT sid_a FROM ctx),
                                                          (SELECT cipher_a FROM ctx), '0123456789ab',
                                                          messaging_service_sid => (SELECT service FROM ctx)) AS j;
SELECT is((SELECT j->>'created' FROM set_a), 'true', 'a clinic gets its own account');
SELECT is((SELECT j->>'account_sid' FROM set_a), (SELECT sid_a FROM ctx), '... answered with its SID');
SELECT ok((SELECT NOT j ? 'auth_token_ciphertext' FROM set_a), '... and not the ciphertext');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account'->>'auth_token_ciphertext', (SELECT cipher_a FROM ctx),
          'get_carrier_account returns the ciphertext stored');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account'->>'messaging_service_sid', (SELECT service FROM ctx),
          '... with the Messaging Service');
SELECT is(api.get_carrier_account((SELECT b FROM ctx))->'account', 'null'::jsonb,
          'another clinic has none: it uses the process-wide account');
SELECT is(api.set_carrier_account((SELECT a FROM ctx), (SELECT sid_a FROM ctx), (SELECT cipher_a FROM ctx) || 'x',
                                  'ba9876543210')->>'created', 'false', 'setting it again replaces it');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account'->>'key_id', 'ba9876543210', '... key id included');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account'->'messaging_service_sid', 'null'::jsonb,
          '... and the Messaging Service left out is gone');

-- bad input: VB400, nothing stored
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', (SELECT b FROM ctx), 'AC123',
                        (SELECT cipher_b FROM ctx), '0123456789ab'), 'VB400', 'account_sid is not a Twilio account SID',
                 'a short account SID is refused');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', (SELECT b FROM ctx), 'AC' || repeat('G', 32),
                        (SELECT cipher_b FROM ctx), '0123456789ab'), 'VB400', NULL, 'a SID that is not hex is refused');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', (SELECT b FROM ctx), 'SK' || repeat('b2', 16),
                        (SELECT cipher_b FROM ctx), '0123456789ab'), 'VB400', NULL, 'an API key SID (SK...) is not an account');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', (SELECT b FROM ctx), (SELECT sid_b FROM ctx),
                        repeat('f0', 16), '0123456789ab'), 'VB400', 'auth_token_ciphertext is not an encrypted token',
                 'a plaintext auth token is refused, not stored');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', (SELECT b FROM ctx), (SELECT sid_b FROM ctx),
                        (SELECT cipher_b FROM ctx), 'not a key'), 'VB400', NULL, 'a malformed key id is refused');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L, messaging_service_sid => %L)', (SELECT b FROM ctx),
                        (SELECT sid_b FROM ctx), (SELECT cipher_b FROM ctx), '0123456789ab', 'MG123'),
                 'VB400', NULL, 'a malformed Messaging Service SID is refused');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L, parent_account_sid => %L)', (SELECT b FROM ctx),
                        (SELECT sid_b FROM ctx), (SELECT cipher_b FROM ctx), '0123456789ab', (SELECT sid_b FROM ctx)),
                 'VB400', NULL, 'an account is not its own parent');
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, NULL, %L, %L)', (SELECT b FROM ctx),
                        (SELECT cipher_b FROM ctx), '0123456789ab'), 'VB400', 'account_sid is required', 'the SID is required');
SELECT is(api.get_carrier_account((SELECT b FROM ctx))->'account', 'null'::jsonb, 'none of these stored anything');

-- tenancy
SELECT throws_ok(format('SELECT api.set_carrier_account(%L, %L, %L, %L)', gen_random_uuid(), (SELECT sid_b FROM ctx),
                        (SELECT cipher_b FROM ctx), '0123456789ab'), 'VB404', 'unknown organization', 'an unknown clinic: VB404');
SELECT throws_ok(format('SELECT api.get_carrier_account(%L)', gen_random_uuid()), 'VB404', NULL, '... to read');
SELECT throws_ok(format('SELECT api.clear_carrier_account(%L)', gen_random_uuid()), 'VB404', NULL, '... to clear');
SELECT is(api.set_carrier_account((SELECT b FROM ctx), (SELECT sid_a FROM ctx), (SELECT cipher_b FROM ctx),
                                  '0123456789ab', parent_account_sid => (SELECT sid_b FROM ctx))->>'created', 'true',
          'two clinics may share an account (a subaccount of a network)');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account'->>'auth_token_ciphertext', (SELECT cipher_a FROM ctx) || 'x',
          '... each keeps its own row: setting one never changes the other');
SELECT throws_ok('SELECT count(*) FROM voxbook.carrier_accounts', '42501', NULL,
                 'the API role cannot read the table itself');

-- a key rotation's list
SELECT ok(api.list_carrier_accounts(key_id_not => 'ba9876543210')->'org_ids' @> jsonb_build_array((SELECT b FROM ctx))
          AND NOT api.list_carrier_accounts(key_id_not => 'ba9876543210')->'org_ids' @> jsonb_build_array((SELECT a FROM ctx)),
          'the clinics whose token another key encrypted are listed for re-encryption, the others not');
SELECT throws_ok($$SELECT api.list_carrier_accounts(max_rows => 0)$$, 'VB400', NULL, 'max_rows is bounded');

-- the inbound webhook's lookup
SELECT is((SELECT jsonb_path_query_array(api.find_inbound_carrier_accounts('+15557470001', (SELECT sid_a FROM ctx)),
                                         '$.to_clinics[*].org_id')), jsonb_build_array((SELECT a FROM ctx)),
          'To = a clinic''s phone: that clinic');
SELECT is(api.find_inbound_carrier_accounts('+15557470001', (SELECT sid_a FROM ctx))->'to_clinics'->0->'account'->>'account_sid',
          (SELECT sid_a FROM ctx), '... with its account');
SELECT is((SELECT jsonb_path_query_array(api.find_inbound_carrier_accounts('+15557470003', (SELECT sid_b FROM ctx)),
                                         '$.to_clinics[*].org_id')), jsonb_build_array((SELECT b FROM ctx)),
          'To = a clinic''s sms_from: that clinic');
SELECT is(api.find_inbound_carrier_accounts('+15557470003', (SELECT sid_b FROM ctx))->'account_clinics', '[]'::jsonb,
          '... and no other clinic on the account');
SELECT is((SELECT jsonb_path_query_array(api.find_inbound_carrier_accounts('+15557479999', (SELECT sid_a FROM ctx)),
                                         '$.account_clinics[*].org_id')),
          (SELECT jsonb_agg(x ORDER BY x) FROM unnest(ARRAY[(SELECT a FROM ctx), (SELECT b FROM ctx)]) AS x),
          'a number no clinic owns: the clinics on the account that received it');
SELECT is(api.find_inbound_carrier_accounts('+15557479999', 'AC' || repeat('0', 32)),
          '{"success": true, "to_clinics": [], "account_clinics": []}'::jsonb, 'an unknown account: nobody');
SELECT is(api.find_inbound_carrier_accounts('12345', NULL)->'to_clinics', '[]'::jsonb, 'a short code is no clinic''s number');
SELECT throws_ok($$SELECT api.find_inbound_carrier_accounts(repeat('1', 65), NULL)$$, 'VB400', NULL, 'an oversized To: VB400');

-- clear
SELECT is(api.clear_carrier_account((SELECT a FROM ctx))->>'cleared', 'true', 'a clinic''s account is cleared');
SELECT is(api.get_carrier_account((SELECT a FROM ctx))->'account', 'null'::jsonb,
          '... it uses the process-wide account again');
SELECT is(api.clear_carrier_account((SELECT a FROM ctx))->>'cleared', 'false', 'clearing again changes nothing');

SELECT * FROM finish();
ROLLBACK;
