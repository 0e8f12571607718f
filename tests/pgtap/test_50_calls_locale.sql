-- The owner's hot-lead alert (50_calls.sql) in the clinic's language, its booked time as the clinic's locale
-- writes it; the HELP reply (45_sms_delivery.sql) in the language the patient last booked in at that clinic,
-- else the clinic's. The api calls run as the API role; set-up and direct table reads as the owner.
BEGIN;
SELECT plan(11);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Clinica Sol', phone => '+15557500001') AS mx,
       tests.create_clinic('Thames Dental', phone => '+15557500002', time_zone => 'Europe/London') AS gb,
       tests.create_clinic('Bright Smile', phone => '+15557500003') AS us;
SELECT tests.set_clinic((SELECT mx FROM ctx), $$locale = 'es-MX', languages = '{es,en}', sms_from = '+15557500011'$$);
SELECT tests.set_clinic((SELECT gb FROM ctx), $$locale = 'en-GB'$$);
SELECT tests.set_clinic((SELECT us FROM ctx), $$languages = '{en,es}', sms_from = '+15557500013'$$);
-- Read as the owner (SECURITY DEFINER): the API role cannot read the outbox.
CREATE FUNCTION pg_temp.alert_body(org uuid) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN RETURN (SELECT m.body FROM voxbook.sms_outbox AS m WHERE m.org_id = org AND m.kind = 'hot_lead'); END $$;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- A booked eight-minute whitening call at each clinic (hot: 85); the US clinic's caller spoke Spanish.
SELECT is(api.set_call_language((SELECT us FROM ctx), 'call-us', 'es')->>'locale', 'es-US', 'the US caller speaks Spanish');
-- One clinic per statement: each call is then delegated to its clinic's node on Citus.
CREATE FUNCTION pg_temp.book_and_end(org uuid, call text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    PERFORM api.confirm_held_slot((api.claim_slot_atomic(org, 'cal-a', tests.at(org, '2030-01-20 10:00'), call, 'Ana Ruiz',
                                                         '+15557500100', service => 'Teeth Whitening')->>'hold_id')::uuid,
                                  org, staff_user => 'desk');
    RETURN api.record_call_end(org, call, '2030-01-14 11:52:00+00', '2030-01-14 12:00:00+00', '+15557500100',
                               'blanqueamiento', 'Booked whitening', '{}');
END
$$;
CREATE TEMP TABLE ended (j jsonb);
INSERT INTO ended SELECT pg_temp.book_and_end((SELECT mx FROM ctx), 'call-mx');
INSERT INTO ended SELECT pg_temp.book_and_end((SELECT gb FROM ctx), 'call-gb');
INSERT INTO ended SELECT pg_temp.book_and_end((SELECT us FROM ctx), 'call-us');
SELECT is((SELECT count(*) FROM ended WHERE (j->>'hot')::boolean AND j->>'alert_sms_id' IS NOT NULL), 3::bigint,
          'three hot leads, each with the owner''s SMS');
SELECT is(pg_temp.alert_body((SELECT mx FROM ctx)),
          'CLIENTE POTENCIAL (puntuacion 85): Ana Ruiz (555) 750-0100. Servicio: Teeth Whitening. Reservo dom 20 de ene, 10:00 a.m.',
          'a Spanish clinic''s owner reads the alert in Spanish, the time as es-MX writes it (GSM-7)');
SELECT is(pg_temp.alert_body((SELECT gb FROM ctx)),
          'HOT LEAD (score 85): Ana Ruiz (555) 750-0100. Service: Teeth Whitening. Booked Sun 20 Jan at 10:00.',
          'a London clinic''s alert writes the time as en-GB does');
SELECT is(pg_temp.alert_body((SELECT us FROM ctx)),
          'HOT LEAD (score 85): Ana Ruiz (555) 750-0100. Service: Teeth Whitening. Booked Sun, Jan 20 at 10:00 AM.',
          'the owner of a US clinic reads English even when the caller spoke Spanish');

-- HELP: the patient booked in Spanish at the US clinic (the hold and appointment carry es-US).
SELECT matches(api.record_inbound_sms('+15557500013', '+15557500100', 'HELP', 'SMhelp1')->>'reply',
               '^Bright Smile: mensajes sobre sus citas\. Llame al \(555\) 750-0003 .*STOP',
               'HELP from a patient who booked in Spanish is answered in Spanish');
SELECT matches(api.record_inbound_sms('+15557500013', '+15557500199', 'HELP', 'SMhelp2')->>'reply',
               '^Bright Smile: appointment texts\.', 'a number without bookings there gets the clinic''s language');
SELECT matches(api.record_inbound_sms('+15557500011', '+15557500199', 'help', 'SMhelp3')->>'reply',
               '^Clinica Sol: mensajes sobre sus citas\.', '... Spanish at a Spanish clinic');
-- The same patient at the London clinic booked in its (English) language: its HELP is English.
SELECT matches(api.record_inbound_sms('+15557500002', '+15557500100', 'HELP', 'SMhelp4')->>'reply',
               '^Thames Dental: appointment texts\.', 'the language is the patient''s at that clinic, not elsewhere');

-- A clinic in the UK: its own number and a caller's from the UK in the national format (libphonenumber's),
-- a caller from abroad in E.164.
RESET ROLE;
CREATE TEMP TABLE uk AS SELECT tests.create_clinic('Soho Smiles', phone => '+442079460958', time_zone => 'Europe/London') AS org;
SELECT tests.set_clinic((SELECT org FROM uk), $$country = 'GB', country_code = '44', locale = 'en-GB', sms_from = '+447700900123', hot_lead_threshold = 60$$);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+447700900123', '+447700900456', 'HELP', 'SMhelp5')->>'reply',
          'Soho Smiles: appointment texts. Call 020 7946 0958 for help. Reply STOP to unsubscribe.',
          'a UK clinic''s number is written as in the UK');
CREATE TEMP TABLE uk_end AS
SELECT api.record_call_end((SELECT org FROM uk), 'call-uk', '2030-01-14 11:52:00+00', '2030-01-14 12:00:00+00', '07700 900456',
                           'How much is whitening?', 'Price question', '{"patientName": "Sam Hill"}') AS j;
SELECT is(pg_temp.alert_body((SELECT org FROM uk)),
          'HOT LEAD (score 65): Sam Hill 07700 900456. Service: not stated. Not booked: call back soon.',
          '... and so is a UK caller''s number in its owner''s alert');

SELECT * FROM finish();
ROLLBACK;
