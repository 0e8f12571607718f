-- Phone numbers and how times and texts are written: E.164 in, display and spoken forms out, GSM-7 text.

-- A phone number as said or typed in a country (ISO code: the clinic's organizations.country), in E.164.
-- Accepts what people and models say: '+1 (555) 123-4567', '555.123.4567', '07700 900456' in GB, '0044 20 7946
-- 0958', '011 44 20 7946 0958' in the US (the country's international prefix). The rules are libphonenumber's
-- (voxbook.countries, written by db/functions/18_country_data.sql), read as voxbook/phones.py reads them:
-- * international ('+', the country's international prefix, or '00'): the calling code (calling codes are
--   prefix-free) and its main region's rules ('+44 (0)20 ...' loses the 0 as a national number does);
-- * national: the country's trunk prefix stripped by its rule (0 in GB/DE/FR/AU/IN, 1 in the US; Italy keeps
--   its 0), unless only the number with the prefix matches the country's pattern; then the calling code;
-- * the national significant number must have a possible length for the calling code (its main region's, as
--   libphonenumber's is_possible_number; lengths a number has only when dialled locally, without the area code,
--   are not enough: nobody can be texted at them), and fit the region's general pattern (a trunk 0 left in a
--   number too short to lose it is refused: '07700 9004' in GB). No check of ranges or types (not
--   is_valid_number): fictional numbers (555-01xx, the UK's 07700 900xxx) are numbers.
-- country NULL: international forms only (numbers Twilio and Vapi send). Empty or NULL raw: NULL.
-- VB400 'malformed phone number' with a HINT naming the country's format; VB400 'unknown country'.
CREATE FUNCTION internal.normalize_phone(raw text, country text)
    RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    s text := regexp_replace(coalesce(raw, ''), '[\s().\-/]', '', 'g');
    home voxbook.countries;        -- the country the number was said in
    rules voxbook.countries;       -- the region whose rules read it: home, or the main region of its code
    lengths int[];
    pattern text;
    code text;
    nsn text;                      -- national significant number
    stripped text;
    m text[];
BEGIN
    IF raw IS NULL OR s = '' THEN
        RETURN NULL;
    END IF;
    -- The common case first, in one query: a '+' number (what Twilio, Vapi and most callers' numbers are), read
    -- by its calling code's main region, the country only checked to exist. Anything else, or no such code,
    -- takes the general path below, which also says what is wrong. The hint is built only on failure
    -- (internal.phone_hint). One query instead of two and no format(): a claim is the hot path (issue 18).
    IF s ~ '^\+[1-9][0-9]{0,16}$' THEN
        SELECT * INTO rules FROM voxbook.countries AS c
         WHERE c.main_region AND c.calling_code IN (substr(s, 2, 1), substr(s, 2, 2), substr(s, 2, 3))
           AND (normalize_phone.country IS NULL
                OR EXISTS (SELECT 1 FROM voxbook.countries AS h WHERE h.iso_code = upper(normalize_phone.country)));
        IF FOUND THEN
            code := rules.calling_code;
            nsn := substr(s, length(code) + 2);
        END IF;
    END IF;
    IF code IS NULL THEN
        IF country IS NOT NULL THEN
            SELECT * INTO home FROM voxbook.countries AS c WHERE c.iso_code = upper(normalize_phone.country);
            IF NOT FOUND THEN
                PERFORM internal.fail('VB400', 'unknown country',
                                      'Give an ISO 3166 alpha-2 country code such as US or GB (voxbook.countries).');
            END IF;
        END IF;
        IF s LIKE '+%' THEN
            nsn := substr(s, 2);
        ELSIF home.international_prefix IS NOT NULL
              AND s ~ ('^(?:' || home.international_prefix || ')[1-9][0-9]*$') THEN
            m := regexp_match(s, '^(?:' || home.international_prefix || ')([1-9][0-9]*)$');
            nsn := m[1];
        ELSIF s ~ '^00[1-9]' THEN
            nsn := substr(s, 3);
        ELSIF home.iso_code IS NOT NULL THEN
            rules := home;
            code := home.calling_code;
            nsn := s;
        ELSE
            PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
        END IF;
        IF nsn !~ '^[0-9]{1,17}$' THEN
            PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
        END IF;
        IF code IS NULL THEN
            SELECT * INTO rules FROM voxbook.countries AS c
             WHERE c.main_region AND c.calling_code IN (left(nsn, 1), left(nsn, 2), left(nsn, 3));
            IF NOT FOUND OR nsn !~ '^[1-9]' THEN
                PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
            END IF;
            code := rules.calling_code;
            nsn := substr(nsn, length(code) + 1);
        END IF;
    END IF;
    -- The trunk prefix, as libphonenumber strips it: the match of national_prefix_for_parsing at the start goes
    -- (or is rewritten by the transform rule when its last group matched), unless the number matched the
    -- region's pattern with it and no longer does without it.
    IF rules.national_prefix_for_parsing IS NOT NULL THEN
        m := regexp_match(nsn, '^(' || rules.national_prefix_for_parsing || ')');
        IF m IS NOT NULL THEN
            IF rules.national_prefix_transform_rule IS NOT NULL AND cardinality(m) > 1
               AND m[cardinality(m)] IS NOT NULL THEN
                stripped := regexp_replace(nsn, '^(?:' || rules.national_prefix_for_parsing || ')',
                                           rules.national_prefix_transform_rule);
            ELSE
                stripped := substr(nsn, length(m[1]) + 1);
            END IF;
            -- ... and, as libphonenumber's parse, only when what is left is not too short to be a number.
            IF (nsn !~ ('^(?:' || rules.national_number_pattern || ')$')
                OR stripped ~ ('^(?:' || rules.national_number_pattern || ')$'))
               AND (length(stripped) = ANY (rules.possible_lengths)
                    OR length(stripped) > rules.possible_lengths[cardinality(rules.possible_lengths)]) THEN
                nsn := stripped;
            END IF;
        END IF;
    END IF;
    lengths := rules.possible_lengths;
    pattern := rules.national_number_pattern;
    IF NOT rules.main_region THEN
        SELECT c.possible_lengths, c.national_number_pattern INTO lengths, pattern
          FROM voxbook.countries AS c WHERE c.main_region AND c.calling_code = code;
    END IF;
    IF NOT (length(nsn) = ANY (lengths)) OR nsn !~ ('^(?:' || pattern || ')$')
       OR '+' || code || nsn !~ '^\+[1-9][0-9]{7,14}$' THEN
        PERFORM internal.fail('VB400', 'malformed phone number', internal.phone_hint(country));
    END IF;
    RETURN '+' || code || nsn;
END
$$;

-- The HINT of a malformed number (internal.normalize_phone), built only when one is refused: the country's
-- calling code and example when it is known, else E.164.
CREATE FUNCTION internal.phone_hint(country text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    home voxbook.countries;
BEGIN
    IF country IS NOT NULL THEN
        SELECT * INTO home FROM voxbook.countries AS c WHERE c.iso_code = upper(phone_hint.country);
    END IF;
    IF home.iso_code IS NULL THEN
        RETURN 'Give the number in E.164 with its +, e.g. +15551234567 (spaces, dashes and brackets are fine).';
    END IF;
    RETURN format('Give the number with +%s, or as dialled in %s%s (spaces, dashes and brackets are fine).',
                  home.calling_code, home.iso_code, ', e.g. ' || home.example);
END
$$;

-- '+15551234567' -> '(555) 123-4567' for NANP numbers; others stay in E.164.
CREATE FUNCTION internal.display_phone(e164 text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e164 ~ '^\+1[0-9]{10}$'
                THEN format('(%s) %s-%s', substr(e164, 3, 3), substr(e164, 6, 3), substr(e164, 9, 4))
                ELSE e164 END
$$;

-- A number as people of a country read it: in that country's national format when it is one of its numbers
-- ('+442079460958' in GB: '020 7946 0958'; '+15551234567' in the US: '(555) 123-4567'), else in E.164 (a
-- foreign caller's number). The format is libphonenumber's format_number(NATIONAL): the formats of the calling
-- code's main region (internal.national_formats(), generated into 18_country_data.sql), the first whose leading
-- digits start the national significant number and whose pattern matches all of it (none: its digits).
-- tests/test_phones.py checks it against phonenumbers for every region's example numbers. Reads no table (a
-- value function), so it runs per row of any query. PL/pgSQL: resolved when called (18_ comes later).
CREATE FUNCTION internal.display_phone(e164 text, country text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    data constant jsonb := internal.national_formats();
    code text := data->'regions'->>upper(country);
    nsn text;
    f jsonb;
BEGIN
    IF e164 IS NULL OR code IS NULL OR e164 !~ ('^\+' || code || '[0-9]+$') THEN
        RETURN e164;
    END IF;
    nsn := substr(e164, length(code) + 2);
    FOR f IN SELECT x.value FROM jsonb_array_elements(data->'codes'->code) AS x LOOP
        IF (f->>0 IS NULL OR nsn ~ ('^(?:' || (f->>0) || ')')) AND nsn ~ ('^(?:' || (f->>1) || ')$') THEN
            RETURN regexp_replace(nsn, '^(?:' || (f->>1) || ')$', f->>2);
        END IF;
    END LOOP;
    RETURN nsn;   -- as libphonenumber: a national number no format fits is its digits
END
$$;

-- How a customer reads a date and time (local_day, local_text, spoken_time, when_parts): 17_locales.sql.

-- ISO 8601 in UTC with a Z, the format tools and the seed use for slot ids.
-- Small SQL helpers here are declared no stricter than what they call (to_char, format and
-- jsonb_build_object are STABLE): only then does the planner inline them. A helper declared IMMUTABLE
-- over a STABLE call runs as a separate SQL function, parsed and planned again in every transaction
-- (seen with perf as base_yyparse in every claim).
CREATE FUNCTION internal.utc_iso(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- A name or note as one clean line, NULL when nothing is left: control characters (newlines, tabs, C1), zero-width
-- and bidi-override characters become a space, then it is trimmed. Names go into texts to the front desk and the
-- patient and onto the staff's screens: a newline in a spoken or typed name must not start a line of its own there,
-- nor a U+202E turn the text around.
CREATE FUNCTION internal.one_line(t text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(btrim(regexp_replace(t, '[\x01-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+', ' ', 'g')), '')
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
