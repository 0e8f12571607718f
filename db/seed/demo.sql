-- The seed document's sample clinic, "Smile Dental". Idempotent: `voxbook db seed-demo` may run any
-- number of times; it (re)sets the demo clinic's settings and schedule and never touches bookings.
INSERT INTO voxbook.organizations (id, name, phone, time_zone, hot_lead_alert_phone, help_text, code_length)
VALUES ('a0000000-0000-0000-0000-000000000001', 'Smile Dental', '+15551234567', 'America/New_York',
        '+15551230000', 'Smile Dental: call (555) 123-4567 to book or change an appointment. Reply STOP to unsubscribe.', 6)
ON CONFLICT (id) DO UPDATE
    SET name = excluded.name, phone = excluded.phone, time_zone = excluded.time_zone,
        hot_lead_alert_phone = excluded.hot_lead_alert_phone, help_text = excluded.help_text,
        code_length = excluded.code_length;

INSERT INTO voxbook.calendars (org_id, id, display_name, slot_minutes, default_duration_minutes)
VALUES ('a0000000-0000-0000-0000-000000000001', 'cal-smith', 'Dr. Smith', 30, 30),
       ('a0000000-0000-0000-0000-000000000001', 'cal-jones', 'Dr. Jones', 30, 30)
ON CONFLICT (org_id, id) DO UPDATE
    SET display_name = excluded.display_name, slot_minutes = excluded.slot_minutes,
        default_duration_minutes = excluded.default_duration_minutes, active = true;

INSERT INTO voxbook.services (org_id, id, name, duration_minutes, price_cents, value_tier)
VALUES ('a0000000-0000-0000-0000-000000000001', 'consultation', 'Consultation', 30, 9900, 'standard'),
       ('a0000000-0000-0000-0000-000000000001', 'cleaning', 'Cleaning', 60, 14900, 'standard'),
       ('a0000000-0000-0000-0000-000000000001', 'teeth-whitening', 'Teeth Whitening', 60, 49900, 'high')
ON CONFLICT (org_id, id) DO UPDATE
    SET name = excluded.name, duration_minutes = excluded.duration_minutes,
        price_cents = excluded.price_cents, value_tier = excluded.value_tier;

-- Mon-Fri 09:00-12:00 and 13:00-17:00 (lunch 12-13) for both providers.
DELETE FROM voxbook.working_hours WHERE org_id = 'a0000000-0000-0000-0000-000000000001';
INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends)
SELECT 'a0000000-0000-0000-0000-000000000001', cal, dow, s, e
  FROM unnest(ARRAY['cal-smith', 'cal-jones']) AS cal,
       generate_series(1, 5) AS dow,
       (VALUES (time '09:00', time '12:00'), (time '13:00', time '17:00')) AS v(s, e);
