-- Locales: how a clinic and a caller write dates and times, and which language a call's texts are in.
-- The only formatters of a date or time a person reads or hears. The formats are CLDR's (voxbook.locale_formats,
-- generated from babel into 19_locale_data.sql): a template per form with {fields}, filled here from the
-- instant on the clinic's clock, so DST is the zone's. The message catalogue takes the formatted parts
-- (internal.when_parts), so nobody splits a formatted text again.
--
-- A locale is passed around as a value (jsonb: the locale_formats row, internal.locale(tag)), fetched once by
-- the caller: the formatters below read no table, so they may run per row of any query (on Citus a helper
-- reading a table inside a shard's query would nest a distributed query).

-- The fields of a template ({weekday_abbr}, {day}, {hour12}, {minute2}, {period}, ...; voxbook/locale_data.py
-- FIELDS) filled from a local wall-clock time. A value never contains a brace, so one replace after another
-- cannot fill a field inside a value. Numbers by to_char (one call per field, FM: without the leading zero)
-- rather than extract() in numeric cast to int and text (three to five calls each): this expression is set
-- up again in every transaction of every caller (a claim's hold_json fills two), so its size is CPU per claim
-- (bench/README.md, issue 18). No TM/locale-dependent pattern is used: names come from loc.
CREATE FUNCTION internal.fill_time(template text, lt timestamp, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
           replace(replace(replace(template,
               '{weekday_abbr}', loc->'weekdays_abbr'->>(to_char(lt, 'ID')::int - 1)),
               '{weekday_wide}', loc->'weekdays_wide'->>(to_char(lt, 'ID')::int - 1)),
               '{month_abbr}', loc->'months_abbr'->>(to_char(lt, 'MM')::int - 1)),
               '{month_wide}', loc->'months_wide'->>(to_char(lt, 'MM')::int - 1)),
               '{month}', to_char(lt, 'FMMM')),
               '{month2}', to_char(lt, 'MM')),
               '{day}', to_char(lt, 'FMDD')),
               '{day2}', to_char(lt, 'DD')),
               '{hour12}', to_char(lt, 'FMHH12')),
               '{hour12_2}', to_char(lt, 'HH12')),
               '{hour24}', to_char(lt, 'FMHH24')),
               '{hour24_2}', to_char(lt, 'HH24')),
               '{minute}', to_char(lt, 'FMMI')),
               '{minute2}', to_char(lt, 'MI')),
               '{period}', CASE WHEN lt::time < time '12:00' THEN loc->>'am' ELSE loc->>'pm' END)
$$;

-- 'Wed, Jan 15' (en-US), 'mié, 15 ene' (es), 'Wed 15 Jan' (en-GB): the day of an instant in the clinic's zone.
CREATE FUNCTION internal.local_day(ts timestamptz, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.fill_time(loc->>'day_template', ts AT TIME ZONE tz, loc)
$$;

-- 'Wed, Jan 15 at 10:00 AM' (en-US), 'mié, 15 ene, 10:00' (es), 'mié 15 de ene, 10:00 a.m.' (es-MX).
-- local_text_of and spoken_time_of take the local wall-clock time itself: inlined, a SQL function's argument is
-- copied into every use of its parameter, so `ts AT TIME ZONE tz` passed down to fill_time was converted once
-- per field (some 17 times per text). A caller holding the local time in a variable (internal.hold_json, a
-- claim's answer) converts it once; local_text and spoken_time stay the same rule for everyone else.
CREATE FUNCTION internal.local_text_of(lt timestamp, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.fill_time(loc->>'day_time_template', lt, loc)
$$;

CREATE FUNCTION internal.local_text(ts timestamptz, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.local_text_of(ts AT TIME ZONE tz, loc)
$$;

-- How the assistant says a time: '10 AM', '3:30 PM' on a 12-hour locale, '10:00', '15:30' on a 24-hour one.
CREATE FUNCTION internal.spoken_time_of(lt timestamp, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.fill_time(CASE WHEN extract(minute FROM lt) = 0
                                   THEN loc->>'spoken_hour_template' ELSE loc->>'spoken_time_template' END,
                              lt, loc)
$$;

CREATE FUNCTION internal.spoken_time(ts timestamptz, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.spoken_time_of(ts AT TIME ZONE tz, loc)
$$;

-- The parts of an instant that messages use, as internal.message() arguments: {"day", "spoken_time",
-- "local_time"}. A template says "{day}" or "{local_time}".
CREATE FUNCTION internal.when_parts(ts timestamptz, tz text, loc jsonb) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('day', internal.local_day(ts, tz, loc), 'spoken_time', internal.spoken_time(ts, tz, loc),
                              'local_time', internal.local_text(ts, tz, loc))
$$;

-- The same in the default locale (en-US, internal.default_locale_formats() from 19_locale_data.sql), for what
-- has no clinic or caller to ask. The API's own fields take the clinic's locale (internal.field_locale below).
-- PL/pgSQL: resolved when called, so they may name a function a later file creates; they read no table.
CREATE FUNCTION internal.local_day(ts timestamptz, tz text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN internal.local_day(ts, tz, internal.default_locale_formats());
END
$$;

CREATE FUNCTION internal.local_text(ts timestamptz, tz text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN internal.local_text(ts, tz, internal.default_locale_formats());
END
$$;

CREATE FUNCTION internal.spoken_time(ts timestamptz, tz text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN internal.spoken_time(ts, tz, internal.default_locale_formats());
END
$$;

CREATE FUNCTION internal.when_parts(ts timestamptz, tz text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN internal.when_parts(ts, tz, internal.default_locale_formats());
END
$$;

-- The formats of a locale tag as a value: its own row, else its language's ('es-PE' -> 'es'), else en-US.
CREATE FUNCTION internal.locale(tag text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    lang constant text := split_part(coalesce(tag, ''), '-', 1);
    loc jsonb;
BEGIN
    SELECT to_jsonb(l) INTO loc FROM voxbook.locale_formats AS l
     WHERE l.locale IN (tag, lang, 'en-US')
     ORDER BY l.locale = tag DESC, l.locale = lang DESC LIMIT 1;
    RETURN coalesce(loc, internal.default_locale_formats());
END
$$;

-- The formats of the API's own date and time fields (local_time, spoken_time of a hold, a slot, an appointment,
-- the dashboard) as a value: the caller's locale when the result is for a call that said one (a hold's or an
-- appointment's locale), else the clinic's text locale (internal.clinic_locale: a London clinic's en-GB, a
-- Spanish clinic's es-MX). en-US, the default, without reading a table (claims are the hot path). Fetched once
-- into a variable by the caller: it reads tables, so it is never called per row of a query.
CREATE FUNCTION internal.field_locale(clinic_locale text, tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    chosen text := tag;
BEGIN
    IF chosen IS NULL THEN
        chosen := CASE WHEN clinic_locale = 'en-US' THEN 'en-US' ELSE internal.clinic_locale(clinic_locale) END;
    END IF;
    IF chosen = 'en-US' THEN
        RETURN internal.default_locale_formats();
    END IF;
    RETURN internal.locale(chosen);
END
$$;

-- Whether the message catalogue speaks a language (has its rows): a locale is only used for texts in a
-- language we can write, so that no German date lands in an English sentence.
CREATE FUNCTION internal.catalogued(language text) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN language = 'en' OR EXISTS (SELECT 1 FROM voxbook.message_templates AS m WHERE m.language = catalogued.language);
END
$$;

-- The locale a clinic's texts are in by default: its own, when the catalogue has its language; else English in
-- the clinic's region (en-<region> when we have its formats), else en-US.
CREATE FUNCTION internal.clinic_locale(clinic_locale text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    region constant text := nullif(split_part(coalesce(clinic_locale, ''), '-', 2), '');
BEGIN
    IF clinic_locale IS NOT NULL AND internal.catalogued(split_part(clinic_locale, '-', 1)) THEN
        RETURN clinic_locale;
    END IF;
    IF region IS NOT NULL AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = 'en-' || region) THEN
        RETURN 'en-' || region;
    END IF;
    RETURN 'en-US';
END
$$;

-- The locale of a caller's texts, from what they asked for (a language or locale tag as an assistant or a model
-- says it: 'es', 'es-MX', 'es_419', 'ES'): the caller's language in the clinic's region ('es' at an en-US
-- clinic: 'es-US'; at an es-MX clinic: 'es-MX'), else in the region asked for, else the bare language. A language
-- the clinic does not offer, or the catalogue cannot write, or NULL, gives the clinic's own (internal.clinic_locale).
CREATE FUNCTION internal.resolve_locale(clinic_locale text, languages text[], requested text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    tag constant text := replace(btrim(coalesce(requested, '')), '_', '-');
    lang constant text := lower(split_part(tag, '-', 1));
    asked_region constant text := upper(split_part(tag, '-', 2));
    clinic_region constant text := split_part(coalesce(clinic_locale, ''), '-', 2);
BEGIN
    IF lang !~ '^[a-z]{2,3}$' OR NOT lang = ANY (coalesce(languages, '{}')) OR NOT internal.catalogued(lang) THEN
        RETURN internal.clinic_locale(clinic_locale);
    END IF;
    IF lang = split_part(clinic_locale, '-', 1) THEN
        RETURN clinic_locale;
    END IF;
    IF clinic_region <> '' AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = lang || '-' || clinic_region) THEN
        RETURN lang || '-' || clinic_region;
    END IF;
    IF asked_region ~ '^[A-Z]{2}$' AND EXISTS (SELECT 1 FROM voxbook.locale_formats AS l WHERE l.locale = lang || '-' || asked_region) THEN
        RETURN lang || '-' || asked_region;
    END IF;
    RETURN lang;
END
$$;

-- The locale a running call's texts are in: what the call said (voxbook.call_locales), else the clinic's.
CREATE FUNCTION internal.call_locale(o voxbook.organizations, vapi_call_id text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_locale text;
BEGIN
    IF vapi_call_id IS NOT NULL THEN
        SELECT c.locale INTO found_locale FROM voxbook.call_locales AS c
         WHERE c.org_id = o.id AND c.vapi_call_id = internal.vapi_call_key(call_locale.vapi_call_id);
    END IF;
    RETURN coalesce(found_locale, internal.clinic_locale(o.locale));
END
$$;

-- Records the caller's language for a call (source: 'detected' by the assistant, or a tool's 'argument') and
-- returns the locale it resolves to. The call's live hold follows, so its code and appointment texts do too.
CREATE FUNCTION internal.set_call_locale(o voxbook.organizations, vapi_call_id text, requested text, source text)
    RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    resolved constant text := internal.resolve_locale(o.locale, o.languages, requested);
    call_key constant text := internal.vapi_call_key(vapi_call_id);
    -- A value: Citus takes only IMMUTABLE functions in the DO UPDATE of an INSERT on a distributed table.
    now_ts constant timestamptz := now();
BEGIN
    IF call_key IS NULL THEN
        RETURN resolved;
    END IF;
    INSERT INTO voxbook.call_locales AS x (org_id, vapi_call_id, locale, source, updated_at)
    VALUES (o.id, call_key, resolved, source, now_ts)
    ON CONFLICT ON CONSTRAINT call_locales_pkey
        DO UPDATE SET locale = excluded.locale, source = excluded.source, updated_at = now_ts
     WHERE x.locale IS DISTINCT FROM excluded.locale OR x.source IS DISTINCT FROM excluded.source;
    UPDATE voxbook.holds AS h SET locale = resolved, updated_at = now_ts
     WHERE h.org_id = o.id AND h.vapi_call_id = set_call_locale.vapi_call_id AND (h.status = 'held') IS TRUE
       AND h.locale IS DISTINCT FROM resolved;
    RETURN resolved;
END
$$;
