-- The booking honours the clinic's rules (issue 14, part 2).
-- * holds.occupies: the time a claim keeps from every other claim of its calendar, its service's buffers
--   included (a 60-minute cleaning with 10 minutes after occupies 70), set by the claim, the reschedule and
--   the staff booking (db/functions/20_booking.sql, 40_appointments.sql). NULL -- every row made before this
--   migration, and rows written directly -- means exactly the hold's time [starts_at, ends_at): nothing to
--   backfill, no table rewrite. The exclusion constraint holds_no_overlap moves to that range, so no booking
--   can overlap another's buffers, whatever path wrote it; it keeps org_id = and calendar_id = (Citus).
-- * appointments.patient_name: the name the appointment was booked for. A contact is a phone number (its
--   opt-out, its booking source: one row per number); two people on one number (a parent and a child) are two
--   names of appointments at that number, and every reader shows the appointment's own name. Existing rows:
--   their hold's name, else their contact's.
-- depends: 0023_clinic_setup

ALTER TABLE voxbook.holds ADD COLUMN occupies tstzrange;
ALTER TABLE voxbook.holds ADD CONSTRAINT holds_occupies_covers
    CHECK (occupies IS NULL OR (occupies @> tstzrange(starts_at, ends_at, '[)')
                                AND NOT lower_inf(occupies) AND NOT upper_inf(occupies)));
COMMENT ON COLUMN voxbook.holds.occupies IS
    'The time this claim keeps from other claims of its calendar: [starts_at - buffer before, ends_at + buffer after) '
    'of its service. NULL = [starts_at, ends_at). holds_no_overlap is on this range.';

ALTER TABLE voxbook.holds DROP CONSTRAINT holds_no_overlap;
ALTER TABLE voxbook.holds ADD CONSTRAINT holds_no_overlap EXCLUDE USING gist (
    org_id WITH =, calendar_id WITH =, (coalesce(occupies, tstzrange(starts_at, ends_at, '[)'))) WITH &&
) WHERE (status IN ('held', 'confirmed'));
COMMENT ON TABLE voxbook.holds IS
    'Claims on calendar time. status held = live hold until expires_at; confirmed = an appointment''s time. '
    'holds_no_overlap forbids two active claims whose occupied time (buffers included) overlaps on one calendar.';

ALTER TABLE voxbook.appointments ADD COLUMN patient_name text CHECK (length(patient_name) <= 200);
COMMENT ON COLUMN voxbook.appointments.patient_name IS
    'The person the appointment is for, as booked (several people may share one contact, a phone number).';
UPDATE voxbook.appointments AS a
   SET patient_name = left(coalesce(h.patient_name, ct.name), 200)
  FROM voxbook.holds AS h, voxbook.contacts AS ct
 WHERE h.org_id = a.org_id AND h.id = a.hold_id AND ct.org_id = a.org_id AND ct.id = a.contact_id
   AND coalesce(h.patient_name, ct.name) IS NOT NULL;
