-- The Spanish catalogue: every key of the English one (16_messages.sql), in the usted form a clinic's front
-- desk uses. One file per language: adding a language is a file like this one (its rows, then the deletion of
-- its keys no longer listed); tests/pgtap/test_16_messages_languages.sql checks that every language has every
-- English key with the same placeholders.
-- SMS: written with their accents here and folded to GSM-7 when sent (internal.gsm7: á í ó ú -> a i o u;
-- é ñ ü ¿ ¡ are GSM-7 and stay). Common practice for Spanish SMS: readers take "codigo" for "código" at a
-- glance, while a single á would make the whole message UCS-2, 70 characters a segment instead of 160, and
-- a confirmation three segments instead of one. Spoken lines keep their accents (the voice needs them).
CREATE TEMP TABLE messages_es (key text PRIMARY KEY, template text NOT NULL) ON COMMIT DROP;
INSERT INTO messages_es (key, template) VALUES
    -- SMS
    ('sms.otp', '{code} es su código de {clinic} para confirmar su cita. Vence en {minutes} minutos.'),
    ('sms.confirmation', 'Su cita está confirmada: {local_time} con {provider}. {clinic}, {clinic_phone}. Responda C para confirmar o R para cambiarla. Llame para cancelar. Responda STOP para no recibir más mensajes.'),
    ('sms.reminder', 'Recordatorio: su cita es el {local_time} con {provider}. {clinic}, {clinic_phone}. Responda C para confirmar o R para cambiarla. Llame para cancelar. Responda STOP para no recibir más mensajes.'),
    ('sms.reply.confirmed', '¡Gracias! Le esperamos el {local_time} con {provider}. {clinic}'),
    ('sms.reply.reschedule', '{clinic} le llamará en 1 día hábil para buscar otro horario para su cita del {local_time}. Para cancelar, llame al {clinic_phone}.'),
    ('sms.reply.reschedule_reason', 'Pidió por mensaje cambiar la cita del {local_time} con {provider}.'),
    ('sms.reply.no_appointment', '{clinic} no encontró ninguna cita próxima para este número. Por favor llame al {clinic_phone}.'),
    ('sms.reply.received', 'Gracias, {clinic} recibió su mensaje y le responderá pronto. Si es urgente, llame al {clinic_phone}.'),
    ('sms.reply.forward', '{clinic} MENSAJE de {name} {phone}: "{text}" (bandeja del panel)'),
    ('sms.cancellation', 'Su cita del {local_time} con {provider} está cancelada. {clinic}, {clinic_phone}. Llame para reservar otra. Responda STOP para no recibir más mensajes.'),
    ('sms.reschedule', 'Su cita se cambió al {local_time} con {provider}. {clinic}, {clinic_phone}. Llame si tiene preguntas. Responda STOP para no recibir más mensajes.'),
    ('sms.for_patient', 'Para {patient}: {text}'),
    ('sms.help', '{clinic}: mensajes sobre sus citas. Llame al {clinic_phone} si necesita ayuda. Responda STOP para no recibir más mensajes.'),
    ('sms.hot_lead', 'CLIENTE POTENCIAL (puntuación {score}): {name} {phone}. Servicio: {service}. {outcome}'),
    ('sms.callback.transfer_failed', 'LLAMAR: {name} {phone}. Falló una transferencia a la recepción.'),
    ('sms.callback.after_hours', 'LLAMAR: {name} {phone} pidió hablar con una persona con la clínica cerrada.'),
    ('sms.callback.asked', 'LLAMAR: {name} {phone} pidió hablar con una persona.'),
    ('sms.callback.reschedule_request', 'LLAMAR: {name} {phone} pidió cambiar su cita.'),
    ('sms.callback.sms_reply', 'LLAMAR: {name} {phone} respondió por mensaje de texto.'),
    ('sms.callback.failure', 'LLAMAR: {name} {phone}. El asistente no pudo terminar su solicitud.'),
    ('spoken.transfer.connecting', 'Permítame comunicarle con la recepción. Un momento, por favor.'),
    ('spoken.transfer.closed', 'La recepción está cerrada ahora. Les he pedido que le llamen en cuanto abran.'),
    ('spoken.transfer.no_front_desk', 'No puedo transferir llamadas aquí, pero le he pedido a la recepción que le llame.'),
    ('sms.hot_lead.booked', 'Reservó {local_time}.'),
    ('sms.hot_lead.not_booked', 'Sin reserva: llame pronto.'),
    ('sms.hot_lead.unknown_caller', 'Persona desconocida'),
    ('sms.hot_lead.no_number', 'sin número'),
    ('sms.hot_lead.no_service', 'no indicado'),
    ('sms.waitlist_offer', '{clinic}: se liberó un horario: {local_time} con {provider}. Responda BOOK o 1 en {minutes} minutos para tomarlo. Responda STOP para no recibir mensajes.'),
    ('sms.waitlist_gone', '{clinic}: lo sentimos, {local_time} ya se ocupó. Sigue en la lista de espera; le escribiremos si se libera otro horario.'),
    ('sms.waitlist_expired', '{clinic}: lo sentimos, la oferta de {local_time} terminó. Sigue en la lista de espera; le escribiremos si se libera otro horario.'),
    -- joining words
    ('list.or', '{first} o {last}'),
    -- refusals
    ('refusal.slot_taken', 'Ese horario ya está reservado'),
    ('refusal.slot_taken.reschedule', 'Ese horario ya está ocupado; la cita conserva su horario'),
    ('refusal.already_confirmed', 'La reserva ya es una cita'),
    ('refusal.hold_expired', 'La reserva venció o se liberó; reserve el horario de nuevo'),
    ('refusal.not_verified', 'La persona aún no ha confirmado el código'),
    ('refusal.service_mismatch', 'El horario reservado es de {held_minutes} minutos, pero {service} dura {service_minutes} minutos; reserve un horario para ese servicio'),
    ('refusal.codes_unavailable', 'Los códigos por mensaje de texto no están disponibles ahora; la recepción puede confirmar la reserva'),
    ('refusal.rate_limited.send', 'Se pidieron demasiados códigos para este número; inténtelo más tarde'),
    ('refusal.rate_limited.failure', 'Se ingresaron demasiados códigos incorrectos para este número; inténtelo más tarde'),
    ('refusal.destination_not_allowed', 'Esta clínica solo puede enviar mensajes a números de su propio país'),
    ('refusal.resend_limit', 'Se enviaron demasiados códigos para esta reserva'),
    ('refusal.no_code', 'Aún no se ha enviado un código para esta reserva'),
    ('refusal.malformed_code', 'El código son los dígitos del mensaje de texto'),
    ('refusal.attempts_exhausted', 'Código incorrecto y no quedan intentos; el horario se liberó'),
    ('refusal.wrong_code', 'Código incorrecto'),
    ('refusal.opted_out', 'Este número se dio de baja de los mensajes de texto (respondió STOP)'),
    ('refusal.undelivered', 'No se pudo entregar el mensaje de confirmación'),
    ('refusal.cancelled', 'La cita está cancelada'),
    ('refusal.cancelled.reschedule', 'La cita está cancelada; reserve una nueva'),
    ('refusal.within_notice', 'Faltan menos de {notice_hours} horas para la cita, demasiado poco para cambiarla por teléfono; la recepción todavía puede ayudarle'),
    ('spoken.within_notice', 'Esa cita está demasiado próxima para cambiarla en esta llamada; la recepción todavía puede ayudarle.'),
    -- spoken lines: any tool
    ('spoken.failed', 'Lo siento, eso no funcionó.'),
    ('spoken.refused', 'Lo siento: {error}.'),
    ('spoken.offer.with_provider', '{spoken_time} con {provider}'),
    ('spoken.rate_limited', 'En este momento no puedo enviar ni revisar otro código para este número. Le pediré a la recepción que le llame para terminar la reserva.'),
    ('spoken.destination_not_allowed', 'Solo puedo enviar mensajes a números del país de esta clínica. ¿Tiene un número de celular local que pueda usar?'),
    ('spoken.codes_unavailable', 'En este momento no puedo enviar códigos. Le pediré a la recepción que le llame para terminar la reserva.'),
    -- check_availability
    ('spoken.check_availability.none', 'Lo siento, no hay nada libre ese día. ¿Quiere que revise otro día?'),
    ('spoken.check_availability.one_day', 'El {day} tenemos {times}.'),
    ('spoken.check_availability.days', 'Entre los horarios libres están {times}.'),
    ('spoken.check_availability.more', 'También hay otros horarios, si ninguno de esos le conviene.'),
    -- claim_slot_atomic
    ('spoken.claim_slot_atomic.success', 'Le reservé el {local_time} con {provider}.'),
    ('spoken.claim_slot_atomic.slot_taken', 'Ese horario se acaba de ocupar; le puedo ofrecer {offer}.'),
    ('spoken.claim_slot_atomic.slot_taken.none', 'Ese horario se acaba de ocupar y no hay nada más libre ese día. ¿Quiere que revise otro día?'),
    -- send_otp_code
    ('spoken.send_otp_code.success', 'Le acabo de enviar por mensaje de texto un código de {code_length} dígitos. Por favor, léamelo.'),
    ('spoken.send_otp_code.hold_expired', 'Lo siento, la reserva de ese horario venció. Permítame revisarlo de nuevo.'),
    ('spoken.send_otp_code.resend_limit', 'No puedo enviar otro código para esta reserva. Le pediré a la recepción que le llame para terminar la reserva.'),
    ('spoken.send_otp_code.opted_out', 'Su número se dio de baja de nuestros mensajes, así que no puedo enviarle un código. Le pediré a la recepción que le llame para terminar la reserva.'),
    -- verify_otp
    ('spoken.verify_otp.success', '¡Perfecto! Su cita quedó reservada para el {local_time} con {provider}.'),
    ('spoken.verify_otp.wrong_code', 'Ese código no es correcto. Le quedan {retries_left} intentos.'),
    ('spoken.verify_otp.wrong_code.one', 'Ese código no es correcto. Le queda {retries_left} intento.'),
    ('spoken.verify_otp.attempts_exhausted', 'Ese código no coincide y ya no quedan intentos, así que el horario se liberó. ¿Elegimos otro horario?'),
    ('spoken.verify_otp.hold_expired', 'Lo siento, la reserva de ese horario venció. ¿Elegimos otro horario?'),
    ('spoken.verify_otp.no_code', 'Todavía no le he enviado un código. Se lo envío ahora mismo.'),
    ('spoken.verify_otp.malformed_code', 'El código son los dígitos del mensaje de texto que le envié.'),
    ('spoken.verify_otp.service_mismatch', 'Ese servicio dura un tiempo distinto al del horario que reservé, así que voy a buscarle otro horario.'),
    -- send_confirmation_sms
    ('spoken.send_confirmation_sms.success', '¡Perfecto! Revise su mensaje de texto con los detalles.'),
    ('spoken.send_confirmation_sms.opted_out', 'Su cita está confirmada; su número se dio de baja de los mensajes, así que no recibirá ningún texto.'),
    ('spoken.send_confirmation_sms.cancelled', 'Esa cita fue cancelada.'),
    -- cancel_appointment
    ('spoken.cancel_appointment.success', 'Su cita del {local_time} quedó cancelada.'),
    -- reschedule_appointment
    ('spoken.reschedule_appointment.success', 'Listo: su cita ahora es el {local_time} con {provider}.'),
    ('spoken.reschedule_appointment.slot_taken', 'Ese horario se acaba de ocupar, así que su cita sigue como estaba; le puedo ofrecer {offer}.'),
    ('spoken.reschedule_appointment.slot_taken.none', 'Ese horario se acaba de ocupar, así que su cita sigue como estaba. ¿Quiere que revise otro día?'),
    -- join_waitlist
    ('spoken.join_waitlist.success', 'Ya está en la lista de espera. Si se libera un horario, le enviaremos un mensaje y puede responder BOOK para tomarlo.'),
    ('spoken.join_waitlist.phone_needed', 'No veo el número desde el que llama, y la lista de espera escribe a ese número, así que no puedo anotarle. Por favor, llámenos de nuevo desde su celular.'),
    -- quien vuelve a llamar (42_my_appointments.sql)
    ('sms.caller_code', '{code} es su código de {clinic} para gestionar sus citas por teléfono. Vence en {minutes} minutos.'),
    ('refusal.phone_needed', 'El número de quien llama está oculto; pregunte a qué número están sus citas'),
    ('refusal.verification_required', 'Esta llamada aún no ha comprobado ese número; llame a find_my_appointments con el número para enviarle un código'),
    ('refusal.verification_required.sent', 'Se envió un código a ese número si tiene citas aquí; llame de nuevo a find_my_appointments con el código que le lean'),
    ('refusal.code_expired', 'El código venció; pida uno nuevo'),
    ('refusal.attempts_exhausted.caller', 'Demasiados códigos incorrectos; se puede enviar un código nuevo'),
    ('refusal.no_appointments', 'No hay citas próximas con este número'),
    ('refusal.my_appointment_not_found', 'Ninguna cita próxima de este número coincide; se listan sus citas'),
    ('refusal.my_appointment_ambiguous', 'Coinciden varias citas; pregunte cuál'),
    ('spoken.my_appointment', '{local_time} con {provider}'),
    ('spoken.my_appointments.ambiguous', '¿Cuál de ellas: {appointments}?'),
    ('spoken.my_appointments.not_found', 'No veo una cita en ese momento. ¿Se refiere a {appointments}?'),
    ('spoken.phone_needed', 'No veo el número desde el que llama. ¿A qué número de teléfono están sus citas?'),
    ('spoken.verification_required', 'Antes de cambiar algo, necesito confirmar ese número con un código por mensaje de texto.'),
    ('spoken.no_appointments', 'No veo citas próximas con ese número.'),
    ('spoken.code_expired', 'Ese código venció. ¿Le envío uno nuevo?'),
    ('spoken.find_my_appointments.none', 'No veo citas próximas con ese número.'),
    ('spoken.find_my_appointments.one', 'Tiene una cita próxima: {appointments}.'),
    ('spoken.find_my_appointments.success', 'Tiene {count} citas próximas: {appointments}.'),
    ('spoken.find_my_appointments.verification_required', 'Le envié un código de {code_length} dígitos a ese número, si tiene citas con nosotros. Por favor, léamelo.'),
    ('spoken.find_my_appointments.wrong_code', 'Ese código no es correcto. Le quedan {retries_left} intentos.'),
    ('spoken.find_my_appointments.wrong_code.one', 'Ese código no es correcto. Le queda {retries_left} intento.'),
    ('spoken.find_my_appointments.attempts_exhausted', 'Ese código no coincide y ya no quedan intentos. Le puedo enviar uno nuevo.'),
    ('spoken.find_my_appointments.no_code', 'Todavía no le he enviado un código. Se lo envío ahora mismo.'),
    ('spoken.find_my_appointments.malformed_code', 'El código son los dígitos del mensaje de texto que le envié.'),
    ('spoken.find_my_appointments.resend_limit', 'No puedo enviar otro código a ese número en esta llamada.'),
    ('spoken.cancel_my_appointment.success', 'Su cita del {local_time} quedó cancelada.'),
    ('spoken.reschedule_my_appointment.success', 'Listo: su cita ahora es el {local_time} con {provider}.'),
    ('spoken.reschedule_my_appointment.slot_taken', 'Ese horario se acaba de ocupar, así que su cita sigue como estaba; le puedo ofrecer {offer}.'),
    ('spoken.reschedule_my_appointment.slot_taken.none', 'Ese horario se acaba de ocupar, así que su cita sigue como estaba. ¿Quiere que revise otro día?');

INSERT INTO voxbook.message_templates AS t (language, key, template)
SELECT 'es', m.key, m.template FROM messages_es AS m
    ON CONFLICT (language, key) DO UPDATE SET template = excluded.template
 WHERE t.template IS DISTINCT FROM excluded.template;
-- A Spanish key no longer listed is gone (the keys as a value: on Citus a DELETE on a reference table may not
-- read a local table).
DO $$
DECLARE
    keys CONSTANT text[] := ARRAY(SELECT m.key FROM messages_es AS m);
BEGIN
    DELETE FROM voxbook.message_templates AS t WHERE t.language = 'es' AND NOT t.key = ANY (keys);
END
$$;
DROP TABLE messages_es;
