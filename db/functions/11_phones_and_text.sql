-- Phone numbers and how times and texts are written: E.164 in, display and spoken forms out, GSM-7 text.

-- Accepts what people and models say: '+1 (555) 123-4567', '555.123.4567', '0044 20 7946 0958'.
-- National numbers without '+' get the clinic's country code; NANP (+1) numbers must have 10 digits.
CREATE FUNCTION internal.normalize_phone(raw text, country_code text DEFAULT '1')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    s text := regexp_replace(coalesce(raw, ''), '[\s().\-/]', '', 'g');
BEGIN
    IF raw IS NULL OR s = '' THEN
        RETURN NULL;
    END IF;
    IF s LIKE '00%' THEN
        s := '+' || substr(s, 3);
    ELSIF s !~ '^\+' THEN
        IF country_code = '1' AND s ~ '^1[0-9]{10}$' THEN
            s := '+' || s;
        ELSE
            s := '+' || country_code || s;
        END IF;
    END IF;
    IF s !~ '^\+[1-9][0-9]{7,14}$' OR (s LIKE '+1%' AND s !~ '^\+1[2-9][0-9]{9}$') THEN
        PERFORM internal.fail('VB400', 'malformed phone number',
                              'Give an E.164 number such as +15551234567 (spaces, dashes and brackets are fine).');
    END IF;
    RETURN s;
END
$$;

-- '+15551234567' -> '(555) 123-4567' for NANP numbers; others stay in E.164.
CREATE FUNCTION internal.display_phone(e164 text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e164 ~ '^\+1[0-9]{10}$'
                THEN format('(%s) %s-%s', substr(e164, 3, 3), substr(e164, 6, 3), substr(e164, 9, 4))
                ELSE e164 END
$$;

-- How a customer reads a date and time: the only formatters (the message catalogue takes their parts,
-- so nobody splits a formatted text again). All on the clinic's clock, so DST is the zone's.
-- 'Wed, Jan 15': the day of an instant in the clinic's time zone.
CREATE FUNCTION internal.local_day(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'Dy, Mon FMDD')
$$;

-- 'Wed, Jan 15 at 10:00 AM' in the clinic's time zone.
CREATE FUNCTION internal.local_text(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT internal.local_day(ts, tz) || to_char(ts AT TIME ZONE tz, ' "at" FMHH12:MI AM')
$$;

-- '10 AM', '3:30 PM': how the assistant says a time.
CREATE FUNCTION internal.spoken_time(ts timestamptz, tz text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN extract(minute FROM ts AT TIME ZONE tz) = 0
                THEN to_char(ts AT TIME ZONE tz, 'FMHH12 AM')
                ELSE to_char(ts AT TIME ZONE tz, 'FMHH12:MI AM') END
$$;

-- The parts of an instant that messages use, as internal.message() arguments: {"day", "spoken_time",
-- "local_time"} (see the three formatters above). A template says "{day}" or "{local_time}".
CREATE FUNCTION internal.when_parts(ts timestamptz, tz text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('day', internal.local_day(ts, tz), 'spoken_time', internal.spoken_time(ts, tz),
                              'local_time', internal.local_text(ts, tz))
$$;

-- ISO 8601 in UTC with a Z, the format tools and the seed use for slot ids.
-- Small SQL helpers here are declared no stricter than what they call (to_char, format and
-- jsonb_build_object are STABLE): only then does the planner inline them. A helper declared IMMUTABLE
-- over a STABLE call runs as a separate SQL function, parsed and planned again in every transaction
-- (seen with perf as base_yyparse in every claim).
CREATE FUNCTION internal.utc_iso(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Keeps message text in the GSM-7 alphabet: one character outside it (an emoji, a curly quote)
-- makes the whole SMS UCS-2 and triples its cost. Names are folded to ASCII where GSM-7 lacks the letter.
CREATE FUNCTION internal.gsm7(t text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(
             translate(t, '‘’‚“”„–—…ÀÁÂÃÈÊËÌÍÎÏÒÓÔÕÙÚÛÝáâãêëíîïóôõúûýÿçšžŠŽ',
                          '''''''"""--.AAAAEEEIIIIOOOOUUUYaaaeeiiiooouuyycszSZ'),
             '[^@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&''()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\\[~\]|€]',
             '?', 'g')
$$;
