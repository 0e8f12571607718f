-- Every language of the message catalogue (16_messages*.sql) is complete, a call's language reaches its spoken
-- lines and every text of its booking (17_locales.sql), and SMS segments are counted right in both encodings
-- (14_sms_queue.sql internal.sms_parts).
BEGIN;
SELECT plan(32);

-- Completeness: every language has every English key, with the same placeholders, and no key English lacks.
SELECT ok(EXISTS (SELECT 1 FROM voxbook.message_templates AS t WHERE t.language = 'es'), 'Spanish is catalogued');
SELECT is(ARRAY(SELECT l.language || ': ' || e.key
                  FROM (SELECT DISTINCT t.language FROM voxbook.message_templates AS t WHERE t.language <> 'en') AS l
                 CROSS JOIN voxbook.message_templates AS e
                 WHERE e.language = 'en'
                   AND NOT EXISTS (SELECT 1 FROM voxbook.message_templates AS x WHERE x.language = l.language AND x.key = e.key)
                 ORDER BY 1),
          '{}'::text[], 'every language has every English key');
SELECT is(ARRAY(SELECT x.language || ': ' || x.key FROM voxbook.message_templates AS x
                 WHERE x.language <> 'en'
                   AND NOT EXISTS (SELECT 1 FROM voxbook.message_templates AS e WHERE e.language = 'en' AND e.key = x.key)
                 ORDER BY 1),
          '{}'::text[], 'and no key English lacks');
SELECT is(ARRAY(SELECT x.language || ': ' || x.key FROM voxbook.message_templates AS x
                  JOIN voxbook.message_templates AS e ON e.language = 'en' AND e.key = x.key
                 WHERE x.language <> 'en'
                   AND ARRAY(SELECT DISTINCT m[1] FROM regexp_matches(x.template, '\{([a-z_]+)\}', 'g') AS m ORDER BY 1)
                       IS DISTINCT FROM
                       ARRAY(SELECT DISTINCT m[1] FROM regexp_matches(e.template, '\{([a-z_]+)\}', 'g') AS m ORDER BY 1)
                 ORDER BY 1),
          '{}'::text[], 'with the same placeholders');
SELECT is(ARRAY(SELECT x.key FROM voxbook.message_templates AS x
                 WHERE x.language = 'es' AND x.key IN ('sms.confirmation', 'sms.reminder', 'sms.cancellation',
                                                       'sms.reschedule', 'sms.help')
                   AND x.template NOT LIKE '%Responda STOP para no recibir más mensajes.' ORDER BY 1),
          '{}'::text[], 'every Spanish patient text ends with the opt-out line');
-- Spanish SMS fold á í ó ú (not GSM-7) and keep é ñ ü ¿ ¡ (GSM-7): one segment, not UCS-2.
SELECT is(internal.gsm7('¿Cuándo? Día, mañana, pingüino, José, ¡sí! Ú Í Ó Á'), '¿Cuando? Dia, mañana, pingüino, José, ¡si! U I O A',
          'GSM-7 folding keeps é ñ ü ¿ ¡ and folds á í ó ú');
SELECT is((SELECT count(*)::int FROM voxbook.message_templates AS t
            WHERE t.key LIKE 'sms.%' AND (internal.sms_parts(internal.gsm7(t.template))).encoding <> 'GSM-7'), 0,
          'every SMS template of every language is GSM-7 once folded');

-- Segments: GSM-7 160 septets in one, 153 each beyond; € [ ] ^ { } \ | ~ take two; UCS-2 70 / 67 UTF-16 units.
SELECT is((internal.sms_parts(repeat('a', 160))).segments, 1, 'GSM-7: 160 characters are one segment');
SELECT is((internal.sms_parts(repeat('a', 161))).segments, 2, 'GSM-7: 161 are two');
SELECT is((internal.sms_parts(repeat('a', 306))).segments, 2, 'GSM-7: 306 are two (153 each)');
SELECT is((internal.sms_parts(repeat('a', 307))).segments, 3, 'GSM-7: 307 are three');
SELECT is((internal.sms_parts(repeat('a', 159) || '€')).segments, 2, 'GSM-7: € takes two septets (159 + 2 = 161)');
SELECT is((internal.sms_parts(repeat('a', 158) || '[')).segments, 1, 'GSM-7: [ takes two septets (158 + 2 = 160)');
SELECT is((internal.sms_parts(repeat('a', 157) || ']]')).segments, 2, 'GSM-7: ] ] take four (161)');
SELECT is((internal.sms_parts(repeat('ñ', 160))).encoding, 'GSM-7', 'ñ is GSM-7');
SELECT is((SELECT p.encoding || ' ' || p.segments FROM internal.sms_parts(repeat('á', 70)) AS p), 'UCS-2 1',
          'UCS-2: 70 characters are one segment');
SELECT is((internal.sms_parts(repeat('á', 71))).segments, 2, 'UCS-2: 71 are two');
SELECT is((internal.sms_parts(repeat('á', 134))).segments, 2, 'UCS-2: 134 are two (67 each)');
SELECT is((internal.sms_parts(repeat('😀', 35))).segments, 1, 'UCS-2: an emoji is two units (35 = 70 units)');
SELECT is((internal.sms_parts(repeat('😀', 36))).segments, 2, 'UCS-2: 36 emoji are 72 units, two segments');

-- A call's language: taken in the clinic's region, offered languages only, unknown ones fall back.
SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Clínica Sonrisa', '+15552100001', 'America/Mexico_City') AS mx,
                                tests.create_clinic('Bright Smile', '+15552100002') AS us;
SELECT tests.set_clinic((SELECT mx FROM ctx), $$locale = 'es-MX', languages = '{es,en}', reminder_hours = 24$$);
SELECT tests.set_clinic((SELECT us FROM ctx), $$languages = '{en,es}'$$);
SELECT is(internal.resolve_locale('en-US', '{en,es}', 'es'), 'es-US', 'Spanish at a US clinic is es-US');
SELECT is(internal.resolve_locale('es-MX', '{es,en}', 'es-ES'), 'es-MX', 'the clinic''s own language keeps its region');
SELECT is(internal.resolve_locale('en-US', '{en}', 'es'), 'en-US', 'a language the clinic does not offer: its default');
SELECT is(internal.resolve_locale('en-US', '{en,de}', 'de'), 'en-US', 'a language without a catalogue: the default');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.set_call_language((SELECT mx FROM ctx), 'call-es1', 'es')->>'locale', 'es-MX', 'the detected language is recorded');
CREATE TEMP TABLE held AS
    SELECT api.run_tool_call((SELECT mx FROM ctx), 'tc-es1', 'reserve_atomic', 'claim_slot_atomic',
                             jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT mx FROM ctx), '2030-01-20 10:00'),
                                                'patient_name', 'Ana López', 'patient_phone', '+15552100003',
                                                'call_sid', 'call-es1'), 'call-es1') AS j;
SELECT is((SELECT j #>> '{response,spoken}' FROM held), 'Le reservé el dom 20 de ene, 10:00 a.m. con Dr. Able.',
          'the spoken line is Spanish, the time in es-MX');
SELECT is((SELECT j #>> '{response,answer,local_time}' FROM held), 'dom 20 de ene, 10:00 a.m.',
          'the API''s own local_time field is in the caller''s locale too');
SELECT is(api.run_tool((SELECT mx FROM ctx), 'send_otp_code', jsonb_build_object('hold_id', (SELECT j #>> '{response,answer,hold_id}' FROM held)))
              #>> '{response,spoken}',
          'Le acabo de enviar por mensaje de texto un código de 6 dígitos. Por favor, léamelo.',
          'api.run_tool without a call: the clinic''s default, Spanish here');
CREATE TEMP TABLE appt AS
    SELECT api.verify_otp((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM held), (SELECT mx FROM ctx),
                          tests.code_of((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM held))) AS j;
SELECT is(api.run_tool_call((SELECT us FROM ctx), 'tc-us1', 'check_availability',
                            'check_availability', '{"date": "2030-01-20", "max_slots": "1", "language": "es"}', 'call-us1')
              #>> '{response,spoken}',
          'El dom, 20 de ene tenemos 9 a.m. También hay otros horarios, si ninguno de esos le conviene.',
          'a language argument: Spanish at a US clinic, es-US dates');
SELECT is(api.run_tool_call((SELECT us FROM ctx), 'tc-us2', 'check_availability',
                            'check_availability', '{"date": "2030-01-20", "max_slots": "1", "language": "fr"}', 'call-us2')
              #>> '{response,spoken}',
          'On Sun, Jan 20 we have 9 AM. There are other times too, if none of those suits.',
          'a language the clinic does not offer: English');
RESET ROLE;
SELECT is(ARRAY(SELECT m.kind || ': ' || m.body FROM voxbook.sms_outbox AS m
                 WHERE m.org_id = (SELECT mx FROM ctx) AND m.kind IN ('confirmation', 'reminder') ORDER BY m.kind),
          ARRAY['confirmation: Su cita esta confirmada: dom 20 de ene, 10:00 a.m. con Dr. Able. Clinica Sonrisa, (555) 210-0001. Responda C para confirmar o R para cambiarla. Llame para cancelar. Responda STOP para no recibir mas mensajes.',
                'reminder: Recordatorio: su cita es el dom 20 de ene, 10:00 a.m. con Dr. Able. Clinica Sonrisa, (555) 210-0001. Responda C para confirmar o R para cambiarla. Llame para cancelar. Responda STOP para no recibir mas mensajes.'],
          'the confirmation and the reminder are Spanish, GSM-7, with es-MX times');
SELECT is((SELECT m.body ~ '^[0-9]{6} es su codigo de Clinica Sonrisa para confirmar su cita\. Vence en [0-9]+ minutos\.$'
             FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT mx FROM ctx) AND m.kind = 'otp'), true,
          'the code SMS is Spanish');

SELECT * FROM finish();
ROLLBACK;
