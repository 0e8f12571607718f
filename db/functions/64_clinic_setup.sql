-- Setting up a clinic through the api (issue 14): the clinic, its providers (calendars), services, weekly hours,
-- date exceptions and time off, every change recorded in voxbook.audit_log (internal.audit, 63_audit.sql).
-- db/README.md "Setting up a clinic" walks through them in psql.
--
-- Race with the voice path (db/README.md "Guarantees"): what changes which times are bookable -- block_time,
-- deactivate_provider, set_working_hours, set_hours_exception, upsert_provider -- first takes the provider's
-- calendar lock exclusively (internal.lock_calendar_change; a clinic-wide closure: every calendar of the
-- clinic, in id order), then reads the holds. A claim (claim_slot_atomic, reschedule_appointment,
-- book_for_patient) takes it shared (internal.lock_calendar) before it checks the time and inserts its hold.
-- The two conflict, so of a block and a claim on the same time one waits for the other to commit and then sees
-- it (READ COMMITTED: each later statement reads what was committed meanwhile): never both. Claims share the
-- lock. 12_lookups.sql lists every function that must take it, and how it is taken (an advisory lock on a
-- single node, the calendars row on Citus).

-- ---------------------------------------------------------------------------------------------------------------
-- Small helpers

-- The day keys of a week of hours, ISO order (1 = Monday): {"mon": [["09:00","12:00"]], ...}.
CREATE FUNCTION internal.day_keys() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] $$;

-- A clock time as hours are written: 'HH:MM' ('HH:MM:SS' when it has seconds; midnight at the end of a day '24:00').
CREATE FUNCTION internal.hhmm(t time) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t = TIME '24:00' THEN '24:00'
                WHEN extract(second FROM t) <> 0 THEN to_char(t, 'HH24:MI:SS')
                ELSE to_char(t, 'HH24:MI') END
$$;

-- The settings a clinic takes in settings => jsonb (create_clinic, update_clinic): organizations columns.
-- A key with JSON null clears an optional value (hot_lead_alert_phone, sms_from, help_text,
-- allowed_sms_calling_codes, front_desk_phone); the others cannot be cleared.
CREATE FUNCTION internal.clinic_setting_keys() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['hold_minutes', 'code_length', 'max_code_attempts', 'max_code_sends', 'min_notice_minutes',
                 'cancellation_notice_minutes', 'booking_horizon_days', 'reminder_hours', 'hot_lead_threshold',
                 'hot_lead_alert_phone', 'sms_from', 'help_text', 'allowed_sms_calling_codes',
                 'code_sends_per_phone_hour', 'code_failures_per_phone_hour', 'code_sends_per_call',
                 'code_failures_per_call', 'code_sends_per_clinic_hour', 'code_failures_per_clinic_hour',
                 'front_desk_phone']
$$;

-- A refused write: the table's CHECK (or NOT NULL) turned into VB400 naming the value and what is allowed.
-- Called from the EXCEPTION handlers of the set-up functions with what GET STACKED DIAGNOSTICS gave.
CREATE FUNCTION internal.setup_invalid(state text, constraint_name text, table_name text, column_name text,
                                       message text)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    what text;
    def text;
BEGIN
    -- On Citus the error comes from a shard: names carry its id (calendars_slot_minutes_check_102037), and the
    -- fields may be missing from the error relayed: read them from the message then.
    constraint_name := coalesce(constraint_name, substring(message FROM 'constraint "([^"]+)"'));
    table_name := coalesce(table_name, substring(message FROM 'relation "([^"]+)"'));
    column_name := coalesce(column_name, substring(message FROM 'column "([^"]+)"'));
    -- (no name of ours ends in _<digits>; a shard's always does, and may exist here too: the coordinator's)
    constraint_name := regexp_replace(constraint_name, '_[0-9]+$', '');
    table_name := regexp_replace(table_name, '_[0-9]+$', '');
    IF state = '23502' THEN   -- not_null_violation
        PERFORM internal.fail('VB400', format('%s cannot be empty', column_name),
                              format('Give a value for %s, or leave it out to keep the current one.', column_name));
    END IF;
    SELECT pg_catalog.pg_get_constraintdef(c.oid) INTO def FROM pg_catalog.pg_constraint AS c
     WHERE c.conname = constraint_name AND c.conrelid = to_regclass('voxbook.' || quote_ident(table_name));
    what := regexp_replace(regexp_replace(coalesce(constraint_name, 'value'), '^' || table_name || '_', ''), '_check$', '');
    PERFORM internal.fail('VB400', format(CASE WHEN def ~ '[<>]' THEN '%s is out of range' ELSE 'invalid %s' END, what),
                          format('Allowed: %s', coalesce(def, 'see the COMMENT of the function')));
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Reading a clinic

-- A clinic row as the audit log keeps it.
CREATE FUNCTION internal.clinic_row(o voxbook.organizations) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$ SELECT to_jsonb(o) - 'created_at' $$;

-- A provider's week: {"mon": [["09:00","12:00"],["13:00","17:00"]], ...}; a day without hours is left out.
CREATE FUNCTION internal.week_json(org_id uuid, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_object_agg((internal.day_keys())[d.iso_dow], d.intervals), '{}')
              FROM (SELECT w.iso_dow,
                           jsonb_agg(jsonb_build_array(internal.hhmm(w.starts), internal.hhmm(w.ends)) ORDER BY w.starts) AS intervals
                      FROM voxbook.working_hours AS w
                     WHERE w.org_id = week_json.org_id AND w.calendar_id = week_json.calendar_id
                     GROUP BY w.iso_dow) AS d);
END
$$;

-- A provider's exceptions from a date on: [{"on_date", "hours": [["10:00","14:00"]] | [] (closed), "reason"}].
CREATE FUNCTION internal.exceptions_json(org_id uuid, calendar_id text, from_date date) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('on_date', d.on_date, 'hours', d.intervals, 'reason', d.reason)
                                      ORDER BY d.on_date), '[]')
              FROM (SELECT e.on_date,
                           coalesce(jsonb_agg(jsonb_build_array(internal.hhmm(e.starts), internal.hhmm(e.ends)) ORDER BY e.starts)
                                        FILTER (WHERE e.starts IS NOT NULL), '[]') AS intervals,
                           max(e.reason) AS reason
                      FROM voxbook.hours_exceptions AS e
                     WHERE e.org_id = exceptions_json.org_id AND e.calendar_id = exceptions_json.calendar_id
                       AND e.on_date >= from_date
                     GROUP BY e.on_date) AS d);
END
$$;

CREATE FUNCTION internal.provider_json(c voxbook.calendars, from_date date) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object('calendar_id', c.id, 'display_name', c.display_name, 'slot_minutes', c.slot_minutes,
                              'default_duration_minutes', c.default_duration_minutes, 'active', c.active,
                              'hours', internal.week_json(c.org_id, c.id),
                              'exceptions', internal.exceptions_json(c.org_id, c.id, from_date));
END
$$;

CREATE FUNCTION internal.service_json(s voxbook.services) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object('service_id', s.id, 'name', s.name, 'duration_minutes', s.duration_minutes,
                              'buffer_before_minutes', s.buffer_before_minutes,
                              'buffer_after_minutes', s.buffer_after_minutes, 'price_cents', s.price_cents,
                              'value_tier', s.value_tier, 'active', s.active,
                              'providers', (SELECT coalesce(jsonb_agg(p.calendar_id ORDER BY p.calendar_id), '[]')
                                              FROM voxbook.service_providers AS p
                                             WHERE p.org_id = s.org_id AND p.service_id = s.id));
END
$$;

CREATE FUNCTION internal.block_json(b voxbook.blocked_periods, tz text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('block_id', b.id, 'calendar_id', b.calendar_id,
                              'starts_at', internal.utc_iso(lower(b.during)), 'ends_at', internal.utc_iso(upper(b.during)),
                              'local_starts', internal.local_text(lower(b.during), tz),
                              'local_ends', internal.local_text(upper(b.during), tz),
                              'reason', b.reason, 'created_by', b.created_by, 'source', b.source)
$$;

-- A future appointment or a live hold as set-up functions list them (what a change would strand).
CREATE FUNCTION internal.booking_json(h voxbook.holds, appointment_id uuid, patient_name text, tz text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('appointment_id', appointment_id, 'hold_id', h.id, 'status', h.status,
                              'calendar_id', h.calendar_id, 'service', h.service_id, 'patient_name', patient_name,
                              'starts_at', internal.utc_iso(h.starts_at), 'ends_at', internal.utc_iso(h.ends_at),
                              'local_time', internal.local_text(h.starts_at, tz))
$$;

-- The whole clinic (api.get_clinic): settings, providers with hours and exceptions, services, upcoming blocks.
CREATE FUNCTION internal.clinic_json(o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    today date := (now_ts AT TIME ZONE o.time_zone)::date;
    providers jsonb := '[]';
    services jsonb := '[]';
    blocks jsonb := '[]';
    c voxbook.calendars;
    s voxbook.services;
    b voxbook.blocked_periods;
BEGIN
    FOR c IN SELECT * FROM voxbook.calendars AS x WHERE x.org_id = o.id ORDER BY x.id LOOP
        providers := providers || jsonb_build_array(internal.provider_json(c, today));
    END LOOP;
    FOR s IN SELECT * FROM voxbook.services AS x WHERE x.org_id = o.id ORDER BY x.id LOOP
        services := services || jsonb_build_array(internal.service_json(s));
    END LOOP;
    FOR b IN SELECT * FROM voxbook.blocked_periods AS x
              WHERE x.org_id = o.id AND upper(x.during) > now_ts ORDER BY lower(x.during), x.id LOOP
        blocks := blocks || jsonb_build_array(internal.block_json(b, o.time_zone));
    END LOOP;
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'name', o.name, 'phone', o.phone, 'time_zone', o.time_zone,
        'country', o.country, 'country_code', o.country_code, 'locale', o.locale, 'languages', to_jsonb(o.languages),
        'hot_lead_phone', o.hot_lead_alert_phone, 'sms_from', o.sms_from,
        'settings', (SELECT jsonb_object_agg(k, r.v) FROM jsonb_each(internal.clinic_row(o)) AS r(k, v)
                      WHERE r.k = ANY (internal.clinic_setting_keys())
                        AND r.k NOT IN ('hot_lead_alert_phone', 'sms_from')),
        'providers', providers, 'services', services, 'blocks', blocks);
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Clinics

-- The locale a clinic gets when none is given: its first language in its country (en + GB: en-GB; es + MX:
-- es-MX), else that language alone (en + MX: en); without languages, the country's locale, English first (US:
-- en-US, not es-US). VB400 when voxbook.locale_formats has none.
CREATE FUNCTION internal.derive_locale(country text, languages text[]) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_locale text;
BEGIN
    SELECT l.locale INTO found_locale FROM voxbook.locale_formats AS l
     WHERE (split_part(l.locale, '-', 2) = country AND (languages IS NULL OR split_part(l.locale, '-', 1) = languages[1]))
        OR l.locale = languages[1]
     ORDER BY split_part(l.locale, '-', 2) = country DESC, split_part(l.locale, '-', 1) = 'en' DESC, l.locale LIMIT 1;
    IF found_locale IS NULL THEN
        PERFORM internal.fail('VB400', format('no locale for country %s', country)
                                       || CASE WHEN languages IS NULL THEN '' ELSE ' and language ' || languages[1] END,
                              'Pass locale => one of: ' || (SELECT string_agg(l.locale, ', ' ORDER BY l.locale)
                                                             FROM voxbook.locale_formats AS l));
    END IF;
    RETURN found_locale;
END
$$;

-- Applies what create_clinic / update_clinic were given to a clinic row (NULL = unchanged) and checks it.
CREATE FUNCTION internal.apply_clinic(o voxbook.organizations, name text, phone text, time_zone text, country text,
                                      locale text, languages text[], hot_lead_phone text, sms_from text,
                                      settings jsonb)
    RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    k text;
    v jsonb;
    lang text;
    n voxbook.countries;
BEGIN
    IF country IS NOT NULL THEN
        SELECT * INTO n FROM voxbook.countries AS x WHERE x.iso_code = upper(btrim(apply_clinic.country));
        IF NOT FOUND THEN
            PERFORM internal.fail('VB400', 'unknown country',
                                  'Give an ISO 3166 alpha-2 country code such as US, GB or MX (voxbook.countries).');
        END IF;
        o.country := n.iso_code;
        o.country_code := n.calling_code;
    END IF;
    IF name IS NOT NULL THEN
        IF btrim(name) = '' OR length(name) > 200 OR internal.one_line(name) IS DISTINCT FROM btrim(name) THEN
            PERFORM internal.fail('VB400', 'name must be 1 to 200 characters on one line', 'Give the clinic''s name as patients know it (it is in every text).');
        END IF;
        o.name := btrim(name);
    END IF;
    IF phone IS NOT NULL THEN
        o.phone := internal.normalize_phone(phone, o.country);
    END IF;
    IF time_zone IS NOT NULL THEN
        o.time_zone := internal.require_time_zone(time_zone);
    END IF;
    IF hot_lead_phone IS NOT NULL THEN
        o.hot_lead_alert_phone := internal.normalize_phone(hot_lead_phone, o.country);
    END IF;
    IF sms_from IS NOT NULL THEN
        o.sms_from := internal.normalize_phone(sms_from, o.country);
    END IF;
    IF settings IS NOT NULL THEN
        IF jsonb_typeof(settings) <> 'object' THEN
            PERFORM internal.fail('VB400', 'settings must be a JSON object',
                                  'e.g. settings => ''{"hold_minutes": 10, "min_notice_minutes": 120}''');
        END IF;
        FOR k, v IN SELECT e.key, e.value FROM jsonb_each(settings) AS e ORDER BY e.key LOOP
            IF NOT k = ANY (internal.clinic_setting_keys()) THEN
                PERFORM internal.fail('VB400', format('unknown setting %s', k),
                                      'Known settings: ' || array_to_string(internal.clinic_setting_keys(), ', ') || '.');
            END IF;
            IF v = 'null'::jsonb AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = 'voxbook.organizations'::regclass AND a.attname = k
                                                AND a.attnotnull) THEN
                PERFORM internal.fail('VB400', format('%s cannot be empty', k),
                                      format('Give a value for %s, or leave it out to keep the current one.', k));
            END IF;
            IF k IN ('hot_lead_alert_phone', 'sms_from', 'front_desk_phone') AND jsonb_typeof(v) = 'string' THEN
                v := to_jsonb(internal.normalize_phone(v #>> '{}', o.country));
            END IF;
            BEGIN
                o := jsonb_populate_record(o, jsonb_build_object(k, v));
            EXCEPTION WHEN data_exception OR check_violation THEN
                PERFORM internal.fail('VB400', format('setting %s has a value of the wrong type', k),
                                      'Numbers for the minutes, counts and thresholds, text for help_text, '
                                      || 'a phone number for hot_lead_alert_phone and sms_from, an array of calling codes '
                                      || 'such as ["1", "44"] for allowed_sms_calling_codes.');
            END;
        END LOOP;
    END IF;
    IF languages IS NOT NULL THEN
        IF cardinality(languages) = 0
           OR EXISTS (SELECT 1 FROM unnest(languages) AS l(x) WHERE x IS NULL OR lower(btrim(x)) !~ '^[a-z]{2,3}$') THEN
            PERFORM internal.fail('VB400', 'languages must be ISO 639 codes',
                                  'e.g. languages => ''{en,es}'' (the first is the clinic''s own unless locale says otherwise).');
        END IF;
        SELECT array_agg(x ORDER BY min_pos) INTO o.languages
          FROM (SELECT lower(btrim(l.x)) AS x, min(l.pos) AS min_pos
                  FROM unnest(languages) WITH ORDINALITY AS l(x, pos) GROUP BY 1) AS d;
    END IF;
    IF locale IS NOT NULL THEN
        SELECT l.locale INTO lang FROM voxbook.locale_formats AS l WHERE lower(l.locale) = lower(replace(btrim(apply_clinic.locale), '_', '-'));
        IF lang IS NULL THEN
            PERFORM internal.fail('VB400', 'unknown locale',
                                  'Give one of: ' || (SELECT string_agg(l.locale, ', ' ORDER BY l.locale) FROM voxbook.locale_formats AS l));
        END IF;
        o.locale := lang;
    END IF;
    IF o.locale IS NOT NULL AND o.languages IS NOT NULL AND NOT split_part(o.locale, '-', 1) = ANY (o.languages) THEN
        IF languages IS NULL THEN   -- a new locale's language is offered too
            o.languages := ARRAY[split_part(o.locale, '-', 1)] || o.languages;
        ELSE
            PERFORM internal.fail('VB400', format('languages must include %s, the language of locale %s',
                                                  split_part(o.locale, '-', 1), o.locale),
                                  'A clinic always offers its own language: add it to languages, or change locale.');
        END IF;
    END IF;
    RETURN o;
END
$$;

-- INSERT or UPDATE of the columns that differ between two clinic rows, with the CHECKs turned into VB400 and a
-- taken phone number into VB409. Returns the stored row.
CREATE FUNCTION internal.store_clinic(o voxbook.organizations, old voxbook.organizations) RETURNS voxbook.organizations
    LANGUAGE plpgsql AS $$
DECLARE
    cols text[];
    stored voxbook.organizations;
    st text; cn text; tn text; col text; msg text;
BEGIN
    SELECT array_agg(n.key ORDER BY n.key) INTO cols
      FROM jsonb_each(to_jsonb(o)) AS n
      LEFT JOIN jsonb_each(to_jsonb(old)) AS p ON p.key = n.key
     WHERE n.key <> 'created_at' AND (old.id IS NULL AND n.value <> 'null'::jsonb OR old.id IS NOT NULL AND p.value IS DISTINCT FROM n.value);
    IF old.id IS NULL THEN
        EXECUTE format('INSERT INTO voxbook.organizations AS x (%s) SELECT %s FROM jsonb_populate_record(NULL::voxbook.organizations, $1) AS n RETURNING x.*',
                       (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) AS c),
                       (SELECT string_agg('n.' || quote_ident(c), ', ') FROM unnest(cols) AS c))
           INTO stored USING to_jsonb(o);
    ELSIF cols IS NULL THEN
        RETURN old;
    ELSE
        EXECUTE format('UPDATE voxbook.organizations AS x SET %s FROM jsonb_populate_record(NULL::voxbook.organizations, $1) AS n WHERE x.id = $2 RETURNING x.*',
                       (SELECT string_agg(format('%I = n.%I', c, c), ', ') FROM unnest(cols) AS c))
           INTO stored USING to_jsonb(o), old.id;
    END IF;
    RETURN stored;
EXCEPTION
    WHEN unique_violation THEN
        PERFORM internal.fail('VB409', 'another clinic answers on this phone number',
                              'Each clinic has its own number callers dial; check the number, or update that clinic.');
    WHEN check_violation OR not_null_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
END
$$;

CREATE FUNCTION api.create_clinic(name text, phone text, time_zone text, country text DEFAULT 'US',
                                  locale text DEFAULT NULL, languages text[] DEFAULT NULL,
                                  hot_lead_phone text DEFAULT NULL, sms_from text DEFAULT NULL,
                                  settings jsonb DEFAULT NULL, changed_by text DEFAULT NULL, org_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations;
    blank voxbook.organizations;
BEGIN
    PERFORM internal.require(name, 'name');
    PERFORM internal.require(phone, 'phone');
    PERFORM internal.require(time_zone, 'time_zone');
    PERFORM internal.require(country, 'country');
    IF create_clinic.org_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.organizations AS x WHERE x.id = create_clinic.org_id) THEN
        PERFORM internal.fail('VB409', 'a clinic with this org_id exists',
                              'Leave org_id out to get a new id, or change that clinic with api.update_clinic.');
    END IF;
    -- The defaults of the table, then what was given.
    o.id := coalesce(create_clinic.org_id, gen_random_uuid());
    o := internal.apply_clinic(o, name, phone, time_zone, country, locale, languages, hot_lead_phone, sms_from, settings);
    IF o.locale IS NULL THEN
        o.locale := internal.derive_locale(o.country, o.languages);
    END IF;
    IF o.languages IS NULL THEN
        o.languages := ARRAY[split_part(o.locale, '-', 1)];
    ELSIF NOT split_part(o.locale, '-', 1) = ANY (o.languages) THEN
        PERFORM internal.fail('VB400', format('languages must include %s, the language of locale %s',
                                              split_part(o.locale, '-', 1), o.locale),
                              'A clinic always offers its own language: add it to languages, or change locale.');
    END IF;
    o := internal.store_clinic(o, blank);
    PERFORM internal.audit(o.id, changed_by, 'create_clinic', 'clinic', o.id::text, NULL, internal.clinic_row(o));
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'clinic', internal.clinic_json(o));
END
$$;
COMMENT ON FUNCTION api.create_clinic(text, text, text, text, text, text[], text, text, jsonb, text, uuid) IS
$$Creates a clinic: name, phone (the number callers dial: E.164, or national as dialled in country), time_zone
(IANA, e.g. America/New_York), country (ISO 3166 alpha-2, default US; sets the calling code), locale (BCP 47,
one of voxbook.locale_formats; default: the first of languages, else English, in country: en-US, en-GB,
es-MX), languages (ISO 639, default the locale's; always includes it), hot_lead_phone (the owner's alert
number), sms_from (the SMS sender; NULL = the carrier's default), settings (jsonb of organizations settings:
hold_minutes, code_length, max_code_attempts, max_code_sends, min_notice_minutes, cancellation_notice_minutes,
booking_horizon_days, reminder_hours, hot_lead_threshold, help_text, allowed_sms_calling_codes, the code_* rate
limits; others keep the table's defaults), changed_by (for the audit log; default: the database user), org_id
(optional: a fixed id, e.g. the demo's). Not one clinic's function yet, so org_id is not first (the listed
exception). Recorded in voxbook.audit_log.
Returns {"success": true, "org_id", "clinic": <api.get_clinic>}.
Errors: VB400 a value missing or invalid (unknown time zone, country, locale or setting, malformed phone,
a setting out of range: the HINT gives the allowed range); VB409 another clinic has this phone, or this org_id.
Example: SELECT api.create_clinic('Bright Smile', '+1 555 123 4567', 'America/New_York', languages => '{en,es}');$$;

CREATE FUNCTION api.update_clinic(org_id uuid, name text DEFAULT NULL, phone text DEFAULT NULL,
                                  time_zone text DEFAULT NULL, country text DEFAULT NULL, locale text DEFAULT NULL,
                                  languages text[] DEFAULT NULL, hot_lead_phone text DEFAULT NULL,
                                  sms_from text DEFAULT NULL, settings jsonb DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    old voxbook.organizations := internal.require_org(org_id);
    o voxbook.organizations;
    before jsonb;
    after jsonb;
BEGIN
    o := internal.apply_clinic(old, name, phone, time_zone, country, locale, languages, hot_lead_phone, sms_from, settings);
    o := internal.store_clinic(o, old);
    -- Only what changed goes into the audit log.
    SELECT jsonb_object_agg(n.key, p.value), jsonb_object_agg(n.key, n.value) INTO before, after
      FROM jsonb_each(internal.clinic_row(o)) AS n JOIN jsonb_each(internal.clinic_row(old)) AS p ON p.key = n.key
     WHERE p.value IS DISTINCT FROM n.value;
    PERFORM internal.audit(o.id, changed_by, 'update_clinic', 'clinic', o.id::text, before, after);
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'changed', coalesce(after, '{}'),
                              'clinic', internal.clinic_json(o));
END
$$;
COMMENT ON FUNCTION api.update_clinic(uuid, text, text, text, text, text, text[], text, text, jsonb, text) IS
$$Changes a clinic: only what is passed changes (NULL = unchanged); arguments as api.create_clinic. To clear
an optional value pass it as JSON null in settings: settings => '{"hot_lead_alert_phone": null}' (also sms_from,
help_text, allowed_sms_calling_codes). A new country changes the calling code (stored numbers stay as they
are); a new locale whose language the clinic does not offer adds it to languages; languages must include the
locale's language. Recorded in voxbook.audit_log (the changed values, before and after).
Returns {"success": true, "org_id", "changed": {column: new value} ({} when nothing changed), "clinic": <api.get_clinic>}.
Errors: VB404 unknown org; VB400 as api.create_clinic; VB409 another clinic has this phone.
Example: SELECT api.update_clinic(:org, settings => '{"min_notice_minutes": 120, "help_text": null}', changed_by => 'ana');$$;

CREATE FUNCTION api.get_clinic(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
BEGIN
    RETURN internal.clinic_json(internal.require_org(org_id));
END
$$;
COMMENT ON FUNCTION api.get_clinic(uuid) IS
$$Everything a clinic is, in the shape the set-up functions take (db/README.md "Setting up a clinic"):
{"success": true, "org_id", "name", "phone", "time_zone", "country", "country_code", "locale", "languages",
"hot_lead_phone", "sms_from", "settings": {<every key api.create_clinic's settings takes but the two phones>},
"providers": [{"calendar_id", "display_name", "slot_minutes", "default_duration_minutes", "active",
"hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...} (a day without hours is left out),
"exceptions": [{"on_date", "hours": [[from, to], ...] ([] = not working), "reason"}] (today on)}],
"services": [{"service_id", "name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
"price_cents", "value_tier", "active", "providers": [calendar ids] ([] = every active provider)}],
"blocks": [{"block_id", "calendar_id" (null = the whole clinic), "starts_at", "ends_at", "local_starts",
"local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider's calendar)}] (those not over yet)}. Providers and services by id, blocks by start.
Errors: VB404 unknown org.$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Providers

-- A provider of this clinic, active or not; under the exclusive calendar lock when asked (what changes
-- bookable time: internal.lock_calendar_change, 12_lookups.sql).
CREATE FUNCTION internal.setup_calendar(org_id uuid, calendar_id text, lock boolean) RETURNS voxbook.calendars
    LANGUAGE plpgsql AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    IF lock THEN
        c := internal.lock_calendar_change(setup_calendar.org_id, setup_calendar.calendar_id);
    ELSE
        SELECT * INTO c FROM voxbook.calendars AS x
         WHERE x.org_id = setup_calendar.org_id AND x.id = setup_calendar.calendar_id;
    END IF;
    IF c.id IS NULL THEN
        PERFORM internal.fail('VB404', 'unknown calendar',
                              'Calendar ids are per clinic (api.get_clinic lists them); api.upsert_provider adds one.', calendar_id);
    END IF;
    RETURN c;
END
$$;

-- Takes the exclusive calendar lock of every calendar of a clinic (a clinic-wide closure against every claim),
-- one at a time in id order: two closures, or a closure and a change of one provider, never deadlock.
CREATE FUNCTION internal.lock_clinic_calendars(org_id uuid) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    cal text;
BEGIN
    FOR cal IN SELECT x.id FROM voxbook.calendars AS x WHERE x.org_id = lock_clinic_calendars.org_id ORDER BY x.id LOOP
        PERFORM internal.lock_calendar_change(lock_clinic_calendars.org_id, cal);
    END LOOP;
END
$$;

-- The confirmed appointments and live holds of a clinic's calendar (NULL: every calendar) overlapping a time
-- range, in time order: {"appointments": [...], "holds": [...]} (internal.booking_json).
CREATE FUNCTION internal.bookings_during(o voxbook.organizations, calendar_id text, during tstzrange) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    appts jsonb := '[]';
    holds jsonb := '[]';
    r record;
    h voxbook.holds;
BEGIN
    FOR r IN
        SELECT x AS h, a.id AS appointment_id, coalesce(a.patient_name, ct.name, x.patient_name) AS patient
          FROM voxbook.holds AS x
          LEFT JOIN voxbook.appointments AS a ON a.org_id = x.org_id AND a.hold_id = x.id AND a.status = 'confirmed'
          LEFT JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE x.org_id = o.id AND (bookings_during.calendar_id IS NULL OR x.calendar_id = bookings_during.calendar_id)
           AND (x.status = 'confirmed' OR x.status = 'held' AND x.expires_at > now_ts)
           AND tstzrange(x.starts_at, x.ends_at, '[)') && during
         ORDER BY x.starts_at, x.calendar_id, x.id
    LOOP
        h := r.h;
        IF h.status = 'confirmed' THEN
            appts := appts || jsonb_build_array(internal.booking_json(h, r.appointment_id, r.patient, o.time_zone));
        ELSE
            holds := holds || jsonb_build_array(internal.booking_json(h, NULL, r.patient, o.time_zone));
        END IF;
    END LOOP;
    RETURN jsonb_build_object('appointments', appts, 'holds', holds);
END
$$;

-- The DETAIL of a refusal over bookings: their JSON without the patients' names (an error may be logged).
CREATE FUNCTION internal.bookings_detail(bookings jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(bookings) = 'array'
                THEN (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings) AS e)
                ELSE jsonb_build_object(
                         'appointments', (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings -> 'appointments') AS e),
                         'holds', (SELECT coalesce(jsonb_agg(e - 'patient_name'), '[]') FROM jsonb_array_elements(bookings -> 'holds') AS e))
           END::text
$$;

-- "3 appointments: Mon, Jan 5 at 9:00 AM, Mon, Jan 5 at 10:00 AM, Tue, Jan 6 at 9:00 AM, ..." for a HINT.
CREATE FUNCTION internal.bookings_phrase(bookings jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('; ',
        CASE WHEN jsonb_array_length(bookings -> 'appointments') > 0 THEN
            format('%s appointment%s: %s%s', jsonb_array_length(bookings -> 'appointments'),
                   CASE WHEN jsonb_array_length(bookings -> 'appointments') > 1 THEN 's' ELSE '' END,
                   (SELECT string_agg(e ->> 'local_time', ', ' ORDER BY n)
                      FROM jsonb_array_elements(bookings -> 'appointments') WITH ORDINALITY AS t(e, n) WHERE n <= 3),
                   CASE WHEN jsonb_array_length(bookings -> 'appointments') > 3 THEN ', ...' ELSE '' END) END,
        CASE WHEN jsonb_array_length(bookings -> 'holds') > 0 THEN
            format('%s caller%s holding a time now', jsonb_array_length(bookings -> 'holds'),
                   CASE WHEN jsonb_array_length(bookings -> 'holds') > 1 THEN 's' ELSE '' END) END)
$$;

-- Releases the live holds listed in bookings (a block or a deactivation made over them): their callers get
-- hold_expired when they try to confirm.
CREATE FUNCTION internal.release_listed_holds(org_id uuid, bookings jsonb, reason text) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    hold uuid;
    now_ts timestamptz := internal.clock();   -- a value: Citus refuses the clock inside the UPDATE
BEGIN
    FOR hold IN SELECT (e ->> 'hold_id')::uuid FROM jsonb_array_elements(bookings -> 'holds') AS e ORDER BY 1 LOOP
        UPDATE voxbook.holds AS x SET status = 'released', release_reason = reason, updated_at = now_ts
         WHERE x.org_id = release_listed_holds.org_id AND x.id = hold AND x.status = 'held';
        PERFORM internal.cancel_unsent_codes(release_listed_holds.org_id, hold, reason);
    END LOOP;
END
$$;

-- What stops a provider from being deactivated: its future confirmed appointments. on_future 'refuse': VB409
-- naming them; 'cancel': cancels them (patients texted); 'keep': leaves them booked, for staff to move (the
-- result lists them). Live holds are released in every case. Returns the list.
-- The caller must hold the calendar lock exclusively (internal.setup_calendar(..., lock => true)).
CREATE FUNCTION internal.clear_future(o voxbook.organizations, c voxbook.calendars, on_future text, changed_by text)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    future jsonb := internal.bookings_during(o, c.id, tstzrange(internal.clock(), NULL));
    e jsonb;
BEGIN
    IF jsonb_array_length(future -> 'appointments') > 0 AND on_future = 'refuse' THEN
        PERFORM internal.fail('VB409', format('%s has future appointments', c.display_name),
                              format('%s. Move or cancel them first, or pass on_future => ''cancel''.',
                                     internal.bookings_phrase(future - 'holds' || '{"holds": []}')),
                              internal.bookings_detail(future -> 'appointments'));
    END IF;
    -- The one cancellation path (40_appointments.sql): time freed, reminder cancelled, patient texted, recorded
    -- as staff (appointments.cancelled_by, the audit log); staff are never held to the cancellation notice.
    FOR e IN SELECT x FROM jsonb_array_elements(future -> 'appointments') AS t(x) WHERE on_future = 'cancel' LOOP
        PERFORM api.cancel_appointment(appointment_id => (e ->> 'appointment_id')::uuid, org_id => o.id,
                                       reason => format('%s is no longer available', c.display_name),
                                       staff_user => internal.changed_by(changed_by));
    END LOOP;
    PERFORM internal.release_listed_holds(o.id, future, 'provider deactivated');
    RETURN future;
END
$$;

CREATE FUNCTION api.upsert_provider(org_id uuid, calendar_id text, display_name text DEFAULT NULL,
                                    slot_minutes int DEFAULT NULL, default_duration_minutes int DEFAULT NULL,
                                    active boolean DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    old voxbook.calendars;
    c voxbook.calendars;
    st text; cn text; tn text; col text; msg text;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
    IF calendar_id !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM internal.fail('VB400', 'malformed calendar_id',
                              'Small letters, digits, - and _, starting with a letter or digit, up to 63: e.g. cal-smith.');
    END IF;
    IF display_name IS NOT NULL AND (btrim(display_name) = '' OR length(display_name) > 200
                                     OR internal.one_line(display_name) IS DISTINCT FROM btrim(display_name)) THEN
        PERFORM internal.fail('VB400', 'display_name must be 1 to 200 characters on one line', 'The name callers hear, e.g. Dr. Smith.');
    END IF;
    -- The exclusive calendar lock: a claim reads this row (slot length, duration, active), and deactivating
    -- (active => false) is deactivate_provider's check against claims. A new id: two creations wait in turn.
    old := internal.lock_calendar_change(o.id, upsert_provider.calendar_id);
    BEGIN
        IF old.id IS NULL THEN
            PERFORM internal.require(display_name, 'display_name');
            INSERT INTO voxbook.calendars AS x (org_id, id, display_name, slot_minutes, default_duration_minutes, active)
            VALUES (o.id, calendar_id, btrim(display_name), coalesce(slot_minutes, 30),
                    coalesce(default_duration_minutes, 30), coalesce(active, true))
            RETURNING x.* INTO c;
        ELSE
            IF active IS FALSE AND old.active THEN
                PERFORM internal.clear_future(o, old, 'refuse', changed_by);
            END IF;
            UPDATE voxbook.calendars AS x
               SET display_name = coalesce(btrim(upsert_provider.display_name), x.display_name),
                   slot_minutes = coalesce(upsert_provider.slot_minutes, x.slot_minutes),
                   default_duration_minutes = coalesce(upsert_provider.default_duration_minutes, x.default_duration_minutes),
                   active = coalesce(upsert_provider.active, x.active)
             WHERE x.org_id = o.id AND x.id = old.id
            RETURNING x.* INTO c;
        END IF;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
    END;
    PERFORM internal.audit(o.id, changed_by, 'upsert_provider', 'provider', c.id,
                           CASE WHEN old.id IS NULL THEN NULL ELSE to_jsonb(old) - 'org_id' END, to_jsonb(c) - 'org_id');
    RETURN jsonb_build_object('success', true, 'created', old.id IS NULL,
                              'provider', internal.provider_json(c, (internal.clock() AT TIME ZONE o.time_zone)::date));
END
$$;
COMMENT ON FUNCTION api.upsert_provider(uuid, text, text, int, int, boolean, text) IS
$$Adds a provider (a calendar: calendar_id such as cal-smith, the id every booking function takes) or changes
one: only what is passed changes (NULL = unchanged). A new one needs display_name (the name callers hear);
slot_minutes (5-240, default 30: slots start every slot_minutes from the start of each working interval),
default_duration_minutes (5-480, default 30: a booking without a service), active (default true). It works no
hours until api.set_working_hours. active => false is refused while it has future appointments (as
api.deactivate_provider). Recorded in voxbook.audit_log.
Returns {"success": true, "created": true|false, "provider": {"calendar_id", "display_name", "slot_minutes",
"default_duration_minutes", "active", "hours", "exceptions"}}.
Errors: VB404 unknown org; VB400 malformed calendar_id, display_name missing for a new provider, a value out of
range (the HINT gives the range); VB409 deactivating with future appointments.
Example: SELECT api.upsert_provider(:org, 'cal-smith', 'Dr. Smith', slot_minutes => 30);$$;

CREATE FUNCTION api.deactivate_provider(org_id uuid, calendar_id text, on_future text DEFAULT 'refuse',
                                        changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    future jsonb;
BEGIN
    IF on_future IS NULL OR on_future NOT IN ('refuse', 'cancel', 'keep') THEN
        PERFORM internal.fail('VB400', 'on_future must be refuse, cancel or keep',
                              '''refuse'' (the default) stops while future appointments exist; ''cancel'' cancels them and texts the patients; ''keep'' leaves them booked for staff to move.');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    IF NOT c.active THEN
        RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'active', false, 'cancelled', '[]'::jsonb, 'kept', '[]'::jsonb,
                                  'released_holds', '[]'::jsonb, 'message', 'Provider was already inactive');
    END IF;
    future := internal.clear_future(o, c, on_future, changed_by);
    UPDATE voxbook.calendars AS x SET active = false WHERE x.org_id = o.id AND x.id = c.id;
    PERFORM internal.audit(o.id, changed_by, 'deactivate_provider', 'provider', c.id,
                           jsonb_build_object('active', true), jsonb_build_object('active', false));
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'active', false,
                              'cancelled', CASE WHEN on_future = 'cancel' THEN future -> 'appointments' ELSE '[]' END,
                              'kept', CASE WHEN on_future = 'keep' THEN future -> 'appointments' ELSE '[]' END,
                              'released_holds', future -> 'holds', 'message', 'Provider deactivated');
END
$$;
COMMENT ON FUNCTION api.deactivate_provider(uuid, text, text, text) IS
$$Stops offering a provider (calendars.active = false; its past appointments stay). on_future 'refuse' (default):
VB409 while it has future confirmed appointments, with a HINT naming how many and the first three times and
the DETAIL a JSON array of them ({"appointment_id", "hold_id", "status", "calendar_id", "service", "starts_at",
"ends_at", "local_time"}: no patient names in an error). 'cancel': cancels them as staff (patients texted, cancelled_by =
changed_by). 'keep': deactivates and leaves them booked (listed in "kept", for staff to move; `voxbook clinic
apply --allow-stranding`). Live holds on it are released in every case. Idempotent. Recorded in voxbook.audit_log. Race-safe
against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "active": false, "cancelled": [...], "kept": [...], "released_holds": [...],
"message"}.
Errors: VB404 unknown org or calendar; VB400 bad on_future; VB409 future appointments (on_future 'refuse').$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Services

CREATE FUNCTION api.upsert_service(org_id uuid, service_id text, name text DEFAULT NULL,
                                   duration_minutes int DEFAULT NULL, buffer_before_minutes int DEFAULT NULL,
                                   buffer_after_minutes int DEFAULT NULL, price_cents int DEFAULT NULL,
                                   value_tier text DEFAULT NULL, providers text[] DEFAULT NULL,
                                   active boolean DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    old voxbook.services;
    s voxbook.services;
    before jsonb;
    missing text;
    st text; cn text; tn text; col text; msg text;
BEGIN
    PERFORM internal.require(service_id, 'service_id');
    IF service_id !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM internal.fail('VB400', 'malformed service_id',
                              'Small letters, digits, - and _, starting with a letter or digit, up to 63: e.g. teeth-whitening.');
    END IF;
    IF name IS NOT NULL AND (btrim(name) = '' OR length(name) > 200 OR internal.one_line(name) IS DISTINCT FROM btrim(name)) THEN
        PERFORM internal.fail('VB400', 'name must be 1 to 200 characters on one line', 'The name callers say, e.g. Teeth Whitening.');
    END IF;
    IF providers IS NOT NULL THEN
        SELECT p INTO missing FROM unnest(providers) AS p
         WHERE p IS NULL OR NOT EXISTS (SELECT 1 FROM voxbook.calendars AS x WHERE x.org_id = o.id AND x.id = p)
         LIMIT 1;
        IF FOUND THEN
            PERFORM internal.fail('VB400', format('unknown provider %s', coalesce(missing, 'NULL')),
                                  'providers names calendar ids of this clinic (api.get_clinic); ''{}'' = every active provider.');
        END IF;
    END IF;
    SELECT * INTO old FROM voxbook.services AS x WHERE x.org_id = o.id AND x.id = upsert_service.service_id FOR UPDATE;
    IF old.id IS NOT NULL THEN
        before := internal.service_json(old);
    END IF;
    BEGIN
        IF old.id IS NULL THEN
            PERFORM internal.require(name, 'name');
            PERFORM internal.require(duration_minutes, 'duration_minutes');
            INSERT INTO voxbook.services AS x (org_id, id, name, duration_minutes, buffer_before_minutes,
                                               buffer_after_minutes, price_cents, value_tier, active)
            VALUES (o.id, service_id, btrim(name), duration_minutes, coalesce(buffer_before_minutes, 0),
                    coalesce(buffer_after_minutes, 0), price_cents, coalesce(value_tier, 'standard'), coalesce(active, true))
            RETURNING x.* INTO s;
        ELSE
            UPDATE voxbook.services AS x
               SET name = coalesce(btrim(upsert_service.name), x.name),
                   duration_minutes = coalesce(upsert_service.duration_minutes, x.duration_minutes),
                   buffer_before_minutes = coalesce(upsert_service.buffer_before_minutes, x.buffer_before_minutes),
                   buffer_after_minutes = coalesce(upsert_service.buffer_after_minutes, x.buffer_after_minutes),
                   price_cents = coalesce(upsert_service.price_cents, x.price_cents),
                   value_tier = coalesce(upsert_service.value_tier, x.value_tier),
                   active = coalesce(upsert_service.active, x.active)
             WHERE x.org_id = o.id AND x.id = old.id
            RETURNING x.* INTO s;
        END IF;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, cn = CONSTRAINT_NAME, tn = TABLE_NAME, col = COLUMN_NAME, msg = MESSAGE_TEXT;
        PERFORM internal.setup_invalid(st, nullif(cn, ''), nullif(tn, ''), nullif(col, ''), msg);
    END;
    IF providers IS NOT NULL THEN
        DELETE FROM voxbook.service_providers AS x
         WHERE x.org_id = o.id AND x.service_id = s.id AND NOT x.calendar_id = ANY (providers);
        FOREACH missing IN ARRAY providers LOOP
            INSERT INTO voxbook.service_providers (org_id, service_id, calendar_id) VALUES (o.id, s.id, missing)
            ON CONFLICT DO NOTHING;
        END LOOP;
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'upsert_service', 'service', s.id, before, internal.service_json(s));
    RETURN jsonb_build_object('success', true, 'created', old.id IS NULL, 'service', internal.service_json(s));
END
$$;
COMMENT ON FUNCTION api.upsert_service(uuid, text, text, int, int, int, int, text, text[], boolean, text) IS
$$Adds a service (service_id such as teeth-whitening: what the booking functions' service takes, as do its
name) or changes one: only what is passed changes (NULL = unchanged). A new one needs name and duration_minutes
(5-480); buffer_before_minutes / buffer_after_minutes (0-240, default 0: kept free around each booking of it),
price_cents (>= 0, default none), value_tier (low, standard (default), high: lead scoring), providers (calendar
ids offering it: NULL = unchanged, '{}' = every active provider), active (default true; an inactive service is
never offered). Recorded in voxbook.audit_log.
Returns {"success": true, "created": true|false, "service": {"service_id", "name", "duration_minutes",
"buffer_before_minutes", "buffer_after_minutes", "price_cents", "value_tier", "active", "providers"}}.
Errors: VB404 unknown org; VB400 malformed service_id, name or duration missing for a new service, a value out
of range (the HINT gives the range), unknown provider (named).
Example: SELECT api.upsert_service(:org, 'cleaning', 'Cleaning', 60, buffer_after_minutes => 10, providers => '{cal-smith}');$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Hours

-- The intervals of one day as given ([["09:00","12:00"],["13:00","17:00"]]), checked: each [from, to] is two
-- 'HH:MM' times (to may be 24:00), from before to, none overlapping another. VB400 naming the day otherwise.
CREATE FUNCTION internal.parse_intervals(day text, intervals jsonb)
    RETURNS TABLE (starts time, ends time)
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    e jsonb;
    s time;
    t time;
    prev_end time;
    prev_start time;
    hint constant text := 'Hours are {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}: each day a list of '
                          || '[from, to] local times, from before to, not overlapping; a day left out is closed.';
BEGIN
    IF intervals IS NULL OR jsonb_typeof(intervals) <> 'array' THEN
        PERFORM internal.fail('VB400', format('%s: hours must be a list of [from, to] pairs', day), hint);
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(intervals) AS a(x) LOOP
        IF jsonb_typeof(e) <> 'array' OR jsonb_array_length(e) <> 2
           OR jsonb_typeof(e -> 0) <> 'string' OR jsonb_typeof(e -> 1) <> 'string'
           OR (e ->> 0) !~ '^\s*([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?\s*$'
           OR (e ->> 1) !~ '^\s*(([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|24:00(:00)?)\s*$' THEN
            PERFORM internal.fail('VB400', format('%s: %s is not a [from, to] pair of times', day, e::text), hint);
        END IF;
        s := (e ->> 0)::time;
        t := (e ->> 1)::time;
        IF s >= t THEN
            PERFORM internal.fail('VB400', format('%s: %s-%s ends before it starts', day, internal.hhmm(s), internal.hhmm(t)), hint);
        END IF;
        starts := s;
        ends := t;
        RETURN NEXT;
    END LOOP;
    FOR s, t IN SELECT x.a, x.b FROM (SELECT (v ->> 0)::time AS a, (v ->> 1)::time AS b
                                        FROM jsonb_array_elements(intervals) AS j(v)) AS x ORDER BY x.a, x.b LOOP
        IF prev_end IS NOT NULL AND s < prev_end THEN
            PERFORM internal.fail('VB400', format('%s: %s-%s and %s-%s overlap', day, internal.hhmm(prev_start),
                                                  internal.hhmm(prev_end), internal.hhmm(s), internal.hhmm(t)), hint);
        END IF;
        prev_start := s;
        prev_end := t;
    END LOOP;
END
$$;

-- The future confirmed appointments of a provider that its hours (weekly, or the date's exception) no longer
-- cover: what a change of hours strands (listed, not refused: staff decide).
CREATE FUNCTION internal.outside_hours(o voxbook.organizations, calendar_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    h voxbook.holds;
    local_s timestamp;
    local_e timestamp;
    result jsonb := '[]';
    now_ts timestamptz := internal.clock();
BEGIN
    FOR r IN
        SELECT x AS h, a.id AS appointment_id, coalesce(a.patient_name, ct.name) AS patient
          FROM voxbook.holds AS x
          JOIN voxbook.appointments AS a ON a.org_id = x.org_id AND a.hold_id = x.id AND a.status = 'confirmed'
          JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
         WHERE x.org_id = o.id AND x.calendar_id = outside_hours.calendar_id AND x.status = 'confirmed'
           AND x.starts_at > now_ts
         ORDER BY x.starts_at, x.id
    LOOP
        h := r.h;
        local_s := h.starts_at AT TIME ZONE o.time_zone;
        local_e := h.ends_at AT TIME ZONE o.time_zone;
        IF EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                    WHERE e.org_id = o.id AND e.calendar_id = outside_hours.calendar_id AND e.on_date = local_s::date) THEN
            CONTINUE WHEN EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                                   WHERE e.org_id = o.id AND e.calendar_id = outside_hours.calendar_id
                                     AND e.on_date = local_s::date AND e.starts IS NOT NULL
                                     AND local_s >= local_s::date + e.starts AND local_e <= local_s::date + e.ends);
        ELSE
            CONTINUE WHEN EXISTS (SELECT 1 FROM voxbook.working_hours AS w
                                   WHERE w.org_id = o.id AND w.calendar_id = outside_hours.calendar_id
                                     AND w.iso_dow = extract(isodow FROM local_s)
                                     AND local_s >= local_s::date + w.starts AND local_e <= local_s::date + w.ends);
        END IF;
        result := result || jsonb_build_array(internal.booking_json(h, r.appointment_id, r.patient, o.time_zone));
    END LOOP;
    RETURN result;
END
$$;

CREATE FUNCTION api.set_working_hours(org_id uuid, calendar_id text, hours jsonb, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    before jsonb;
    after jsonb;
    k text;
    days constant text[] := internal.day_keys();
    day_names constant text[] := ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
    dow int;
    seen int[] := '{}';
    s time;
    t time;
BEGIN
    PERFORM internal.require(hours, 'hours');
    IF jsonb_typeof(hours) <> 'object' THEN
        PERFORM internal.fail('VB400', 'hours must be a JSON object of days',
                              'e.g. hours => ''{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]]}'' (a day left out is closed).');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    before := internal.week_json(o.id, c.id);
    DELETE FROM voxbook.working_hours AS x WHERE x.org_id = o.id AND x.calendar_id = c.id;
    FOR k IN SELECT e.key FROM jsonb_each(hours) AS e ORDER BY e.key LOOP
        dow := coalesce(array_position(days, lower(btrim(k))), array_position(day_names, lower(btrim(k))));
        IF dow IS NULL THEN
            PERFORM internal.fail('VB400', format('unknown day %s', k), 'Days are mon, tue, wed, thu, fri, sat, sun.');
        END IF;
        IF dow = ANY (seen) THEN
            PERFORM internal.fail('VB400', format('%s is given twice', days[dow]), 'Give each day once.');
        END IF;
        seen := seen || dow;
        FOR s, t IN SELECT p.starts, p.ends FROM internal.parse_intervals(days[dow], hours -> k) AS p LOOP
            INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends) VALUES (o.id, c.id, dow, s, t);
        END LOOP;
    END LOOP;
    after := internal.week_json(o.id, c.id);
    PERFORM internal.audit(o.id, changed_by, 'set_working_hours', 'hours', c.id, before, after);
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'hours', after, 'changed', before <> after,
                              'outside_hours', internal.outside_hours(o, c.id));
END
$$;
COMMENT ON FUNCTION api.set_working_hours(uuid, text, jsonb, text) IS
$$Replaces a provider's weekly hours, local wall-clock times of the clinic's zone:
hours => '{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]], ...}' (several
intervals a day, breaks between; a day left out is closed; '{}' = no hours; "monday" also works; "24:00" ends
a day). Appointments already booked stay: those the new hours no longer cover are listed in "outside_hours"
for staff to move. Recorded in voxbook.audit_log. Race-safe against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "hours" (as stored), "changed": true|false, "outside_hours": [{"appointment_id",
"hold_id", "calendar_id", "service", "patient_name", "starts_at", "ends_at", "local_time"}]}.
Errors: VB404 unknown org or calendar; VB400 hours missing or not an object, an unknown day, an interval that is
malformed, ends before it starts or overlaps another (the message names the day).$$;

CREATE FUNCTION api.set_hours_exception(org_id uuid, calendar_id text, on_date date, hours jsonb,
                                        reason text DEFAULT NULL, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    before jsonb;
    after jsonb;
    label text;
    s time;
    t time;
BEGIN
    PERFORM internal.require_date(on_date, 'on_date');
    IF length(reason) > 500 THEN
        PERFORM internal.fail('VB400', 'reason is limited to 500 characters', 'Shorten the reason.');
    END IF;
    c := internal.setup_calendar(o.id, calendar_id, lock => true);
    label := to_char(on_date, 'YYYY-MM-DD');
    before := internal.exceptions_json(o.id, c.id, on_date) -> 0;
    IF before ->> 'on_date' IS DISTINCT FROM label THEN
        before := NULL;
    END IF;
    DELETE FROM voxbook.hours_exceptions AS x WHERE x.org_id = o.id AND x.calendar_id = c.id AND x.on_date = set_hours_exception.on_date;
    IF hours IS NOT NULL THEN
        IF jsonb_typeof(hours) = 'array' AND jsonb_array_length(hours) = 0 THEN
            INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, reason)
            VALUES (o.id, c.id, on_date, nullif(btrim(reason), ''));
        ELSE
            FOR s, t IN SELECT p.starts, p.ends FROM internal.parse_intervals(label, hours) AS p LOOP
                INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, starts, ends, reason)
                VALUES (o.id, c.id, on_date, s, t, nullif(btrim(reason), ''));
            END LOOP;
        END IF;
        after := internal.exceptions_json(o.id, c.id, on_date) -> 0;
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'set_hours_exception', 'hours_exception', c.id || ' ' || label, before, after);
    RETURN jsonb_build_object('success', true, 'calendar_id', c.id, 'on_date', label,
                              'exception', after, 'outside_hours', internal.outside_hours(o, c.id));
END
$$;
COMMENT ON FUNCTION api.set_hours_exception(uuid, text, date, jsonb, text, text) IS
$$Sets a provider's hours on one date, replacing that weekday's hours then (a Saturday clinic, a short day, a
day off): hours => '[["10:00", "14:00"]]' (several intervals allowed, as api.set_working_hours takes a day),
'[]' = not working that day, NULL = remove the exception (the weekly hours apply again). Local times of the
clinic's zone. Appointments already booked stay: those no longer covered are listed in "outside_hours".
Recorded in voxbook.audit_log. Race-safe against claims (takes the calendar lock).
Returns {"success": true, "calendar_id", "on_date", "exception": {"on_date", "hours", "reason"} | null (removed),
"outside_hours": [...] (as api.set_working_hours)}.
Errors: VB404 unknown org or calendar; VB400 on_date missing or out of range, a malformed, inverted or
overlapping interval (named), reason over 500 characters.$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Time off

CREATE FUNCTION api.block_time(org_id uuid, calendar_id text, starts timestamptz, ends timestamptz,
                               reason text DEFAULT NULL, proceed boolean DEFAULT false, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    c voxbook.calendars;
    span tstzrange;
    affected jsonb;
    b voxbook.blocked_periods;
    created boolean := true;
    now_ts timestamptz := internal.clock();
    who text := internal.changed_by(changed_by);
BEGIN
    PERFORM internal.require_instant(starts, 'starts');
    PERFORM internal.require_instant(ends, 'ends');
    IF ends <= starts THEN
        PERFORM internal.fail('VB400', 'ends must be after starts', 'Give the time off as [starts, ends), e.g. a day: 2026-12-24 00:00 to 2026-12-25 00:00 local.');
    END IF;
    IF ends - starts > interval '366 days' THEN
        PERFORM internal.fail('VB400', 'time off is limited to 366 days', 'Deactivate a provider who leaves (api.deactivate_provider).');
    END IF;
    IF length(reason) > 500 THEN
        PERFORM internal.fail('VB400', 'reason is limited to 500 characters', 'Shorten the reason.');
    END IF;
    span := tstzrange(starts, ends, '[)');
    -- The calendar lock a claim shares, exclusively, before the holds are read (db/README.md "Guarantees").
    IF calendar_id IS NULL THEN
        PERFORM internal.lock_clinic_calendars(o.id);
    ELSE
        c := internal.setup_calendar(o.id, calendar_id, lock => true);
    END IF;
    SELECT * INTO b FROM voxbook.blocked_periods AS x
     WHERE x.org_id = o.id AND x.calendar_id IS NOT DISTINCT FROM c.id AND x.during = span
       AND x.source IS NULL   -- busy time imported from the provider's calendar comes and goes with it
     ORDER BY x.id LIMIT 1;
    IF FOUND THEN   -- the same time off again: idempotent
        created := false;
        affected := internal.bookings_during(o, c.id, span);
    ELSE
        affected := internal.bookings_during(o, c.id, span);
        IF NOT coalesce(proceed, false)
           AND (jsonb_array_length(affected -> 'appointments') > 0 OR jsonb_array_length(affected -> 'holds') > 0) THEN
            PERFORM internal.fail('VB409', 'the time has bookings',
                                  internal.bookings_phrase(affected)
                                  || '. Move them first, or pass proceed => true to block anyway (appointments stay, listed to reschedule).',
                                  internal.bookings_detail(affected));
        END IF;
        INSERT INTO voxbook.blocked_periods AS x (org_id, calendar_id, during, reason, created_by, created_at)
        VALUES (o.id, c.id, span, nullif(btrim(reason), ''), who, now_ts)
        RETURNING x.* INTO b;
        PERFORM internal.release_listed_holds(o.id, affected, 'time blocked');
        PERFORM internal.audit(o.id, changed_by, 'block_time', 'blocked_period', b.id::text, NULL,
                               internal.block_json(b, o.time_zone));
    END IF;
    RETURN jsonb_build_object('success', true, 'created', created, 'block', internal.block_json(b, o.time_zone),
                              'to_reschedule', affected -> 'appointments',
                              'released_holds', CASE WHEN created THEN affected -> 'holds' ELSE '[]'::jsonb END);
END
$$;
COMMENT ON FUNCTION api.block_time(uuid, text, timestamptz, timestamptz, text, boolean, text) IS
$$Blocks time off: no slot overlapping [starts, ends) is offered or claimable. calendar_id: one provider (a
vacation); NULL: the whole clinic (a holiday). Refused (VB409) when confirmed appointments or live holds fall
inside: the HINT says how many and the first three times, the DETAIL is JSON {"appointments": [...], "holds":
[...]} (each {"appointment_id", "hold_id", "status", "calendar_id", "service", "starts_at", "ends_at",
"local_time"}: no patient names in an error; the results list them with "patient_name"). proceed => true blocks anyway: the appointments stay and are returned in
"to_reschedule" (staff decide), live holds are released (their callers cannot confirm). The same block again
(same provider and times) is not made twice ("created": false). Race-safe against claims: it takes the
provider's calendar lock (a closure: every provider's) before reading the holds, and claims share it, so a
block and a claim on the same time never both succeed. Recorded in voxbook.audit_log.
Returns {"success": true, "created", "block": {"block_id", "calendar_id", "starts_at", "ends_at",
"local_starts", "local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider's calendar)}, "to_reschedule": [...], "released_holds": [...]}.
Errors: VB404 unknown org or calendar; VB400 starts/ends missing or out of range, ends not after starts, over 366
days, reason over 500 characters; VB409 bookings inside (without proceed).
Example: SELECT api.block_time(:org, 'cal-smith', '2026-07-06 00:00 America/New_York', '2026-07-11 00:00 America/New_York', 'vacation');$$;

CREATE FUNCTION api.unblock_time(org_id uuid, block_id bigint, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    b voxbook.blocked_periods;
BEGIN
    PERFORM internal.require(block_id, 'block_id');
    IF EXISTS (SELECT 1 FROM voxbook.blocked_periods AS x
                WHERE x.org_id = o.id AND x.id = unblock_time.block_id AND x.source IS NOT NULL) THEN
        -- Deleting it here would only last until the next sync put it back.
        PERFORM internal.fail('VB409', 'this busy time comes from the provider''s own calendar',
                              'Remove or move the event in that calendar (or mark it free); the sync follows within a minute.');
    END IF;
    DELETE FROM voxbook.blocked_periods AS x WHERE x.org_id = o.id AND x.id = unblock_time.block_id RETURNING x.* INTO b;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown block', 'Use a block_id of this clinic (api.list_blocks).');
    END IF;
    PERFORM internal.audit(o.id, changed_by, 'unblock_time', 'blocked_period', b.id::text,
                           internal.block_json(b, o.time_zone), NULL);
    RETURN jsonb_build_object('success', true, 'removed', internal.block_json(b, o.time_zone));
END
$$;
COMMENT ON FUNCTION api.unblock_time(uuid, bigint, text) IS
$$Removes a block (api.block_time): its time is bookable again. Recorded in voxbook.audit_log.
Returns {"success": true, "removed": <the block, as api.list_blocks>}.
Errors: VB404 unknown org or block (also another clinic's); VB400 block_id missing; VB409 busy time imported from
the provider's own calendar (source "caldav": remove it there, the sync follows).$$;

CREATE FUNCTION api.list_blocks(org_id uuid, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                                calendar_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    lo timestamptz := coalesce(from_time, internal.clock());
    hi timestamptz := to_time;
    b voxbook.blocked_periods;
    blocks jsonb := '[]';
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    IF hi IS NOT NULL AND hi < lo THEN
        PERFORM internal.fail('VB400', 'to_time is before from_time', 'Give from_time <= to_time.');
    END IF;
    IF calendar_id IS NOT NULL THEN
        PERFORM internal.setup_calendar(o.id, calendar_id, lock => false);
    END IF;
    FOR b IN SELECT * FROM voxbook.blocked_periods AS x
              WHERE x.org_id = o.id AND x.during && tstzrange(lo, hi, '[)')
                AND (list_blocks.calendar_id IS NULL OR x.calendar_id = list_blocks.calendar_id OR x.calendar_id IS NULL)
              ORDER BY lower(x.during), x.id LOOP
        blocks := blocks || jsonb_build_array(internal.block_json(b, o.time_zone));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'blocks', blocks);
END
$$;
COMMENT ON FUNCTION api.list_blocks(uuid, timestamptz, timestamptz, text) IS
$$The blocks (time off, closures) overlapping [from_time, to_time) (default: from now on, no end), by start;
with calendar_id, that provider's and the clinic-wide ones (calendar_id null).
Returns {"success": true, "blocks": [{"block_id", "calendar_id", "starts_at", "ends_at", "local_starts",
"local_ends", "reason", "created_by", "source" (null: made by staff; "caldav": busy time from the provider's calendar)}]}.
Errors: VB404 unknown org or calendar; VB400 a time out of range, to_time before from_time.$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The audit log

CREATE FUNCTION api.list_audit(org_id uuid, from_time timestamptz DEFAULT NULL, to_time timestamptz DEFAULT NULL,
                               entity text DEFAULT NULL, max_rows int DEFAULT 200)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_instant(from_time, 'from_time', optional => true);
    PERFORM internal.require_instant(to_time, 'to_time', optional => true);
    -- The same list as the CHECK of voxbook.audit_log.entity (migrations 0031, 0030).
    IF entity IS NOT NULL AND entity NOT IN ('clinic', 'provider', 'service', 'hours', 'hours_exception',
                                             'blocked_period', 'appointment', 'sms', 'waitlist', 'staff_account') THEN
        PERFORM internal.fail('VB400', 'unknown entity',
                              'One of clinic, provider, service, hours, hours_exception, blocked_period, appointment, sms, waitlist, staff_account (or NULL: all).');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 10000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 10000', 'Narrow from_time/to_time for more.');
    END IF;
    RETURN jsonb_build_object('success', true, 'entries', (
        SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'at', internal.utc_iso(a.at), 'changed_by', a.changed_by,
                                                     'action', a.action, 'entity', a.entity, 'entity_id', a.entity_id,
                                                     'before', a.before, 'after', a.after)
                                  ORDER BY a.at DESC, a.id), '[]')
          FROM (SELECT * FROM voxbook.audit_log AS x
                 WHERE x.org_id = o.id
                   AND (from_time IS NULL OR x.at >= from_time) AND (to_time IS NULL OR x.at < to_time)
                   AND (list_audit.entity IS NULL OR x.entity = list_audit.entity)
                 ORDER BY x.at DESC, x.id LIMIT max_rows) AS a));
END
$$;
COMMENT ON FUNCTION api.list_audit(uuid, timestamptz, timestamptz, text, int) IS
$$Who changed what in a clinic (voxbook.audit_log), newest first: the changes made through the set-up functions
(and staff actions on appointments), in [from_time, to_time) (default: all), of one entity kind (clinic,
provider, service, hours, hours_exception, blocked_period, appointment, sms, waitlist, staff_account; NULL: all), at most max_rows (200).
Returns {"success": true, "entries": [{"id", "at", "changed_by", "action", "entity", "entity_id", "before",
"after"}]} (before null = created, after null = removed).
Errors: VB404 unknown org; VB400 a time out of range, unknown entity, max_rows not 1-10000.$$;
