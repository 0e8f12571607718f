-- The dashboard's SQL side under attack (issue 16's adversarial review): what an attacker could do with the
-- sign-in's rate limit. Run as the API role, as api/dashboard.py calls it.
BEGIN;
SELECT plan(5);

SELECT tests.freeze_time('2030-02-11 12:00:00+00');
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

SELECT * FROM finish();
ROLLBACK;
