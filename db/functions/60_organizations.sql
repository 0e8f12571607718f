-- Looking clinics up: the Vapi adapter finds the clinic by the number the caller dialled.

-- PL/pgSQL: no SQL-language function reads a table (db/README.md, "Writing functions that run on Citus too").
CREATE FUNCTION internal.organization_json(o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'name', o.name, 'phone', o.phone, 'time_zone', o.time_zone,
        'country', o.country, 'locale', o.locale, 'languages', to_jsonb(o.languages),
        'hold_minutes', o.hold_minutes, 'code_length', o.code_length,
        'max_code_attempts', o.max_code_attempts, 'max_code_sends', o.max_code_sends,
        'min_notice_minutes', o.min_notice_minutes, 'booking_horizon_days', o.booking_horizon_days,
        'hot_lead_threshold', o.hot_lead_threshold, 'help_text', o.help_text,
        'calendars', (SELECT coalesce(jsonb_agg(jsonb_build_object('calendar_id', c.id, 'provider', c.display_name,
                                                                   'slot_minutes', c.slot_minutes,
                                                                   'default_duration_minutes', c.default_duration_minutes)
                                                ORDER BY c.id), '[]')
                        FROM voxbook.calendars AS c WHERE c.org_id = o.id AND c.active),
        'services', (SELECT coalesce(jsonb_agg(jsonb_build_object('service', s.id, 'name', s.name,
                                                                  'duration_minutes', s.duration_minutes,
                                                                  'price_cents', s.price_cents,
                                                                  'value_tier', s.value_tier)
                                               ORDER BY s.id), '[]')
                       FROM voxbook.services AS s WHERE s.org_id = o.id));
END
$$;

CREATE FUNCTION api.find_organization(phone text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations;
    hit voxbook.organizations;
    e164 text;
    c text;
    readable boolean := false;
BEGIN
    PERFORM internal.require(phone, 'phone');
    IF regexp_replace(phone, '[\s().\-/]', '', 'g') ~ '^(\+|00)' THEN   -- E.164, as Vapi sends it
        e164 := internal.normalize_phone(find_organization.phone, NULL);
        SELECT * INTO o FROM voxbook.organizations AS x WHERE x.phone = e164;
    ELSE
        -- A national number (psql): read in each clinic's country, it must lead to one clinic of that country.
        FOR c IN SELECT DISTINCT x.country FROM voxbook.organizations AS x LOOP
            BEGIN
                e164 := internal.normalize_phone(find_organization.phone, c);
            EXCEPTION WHEN SQLSTATE 'VB400' THEN
                CONTINUE;
            END;
            readable := true;
            SELECT * INTO hit FROM voxbook.organizations AS x WHERE x.phone = e164 AND x.country = c;
            IF FOUND THEN
                IF o.id IS NOT NULL THEN
                    PERFORM internal.fail('VB400', 'ambiguous national number',
                                          'Two clinics in different countries have this national number: give it with + and the calling code.');
                END IF;
                o := hit;
            END IF;
        END LOOP;
        IF NOT readable THEN
            PERFORM internal.normalize_phone(find_organization.phone, NULL);   -- VB400 with the E.164 hint
        END IF;
    END IF;
    IF o.id IS NULL THEN
        PERFORM internal.fail('VB404', 'no clinic answers on this number',
                              'The number must be a clinic''s phone in E.164, as Vapi sends it in phoneNumber.number.');
    END IF;
    RETURN internal.organization_json(o);
END
$$;
COMMENT ON FUNCTION api.find_organization(text) IS
$$The clinic answering on a phone number: E.164 (as Vapi sends it), or national as dialled in the clinic's
country ('(555) 123-4567' for a US clinic, '020 7946 0958' for a GB one). Its settings, calendars and services,
as api.get_organization. Errors: VB404 no clinic on that number; VB400 malformed number, or a national number
two clinics of different countries have.
Example: SELECT api.find_organization('+15551234567');$$;

CREATE FUNCTION api.get_organization(org_id uuid)
    RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
    SELECT internal.organization_json(internal.require_org(org_id))
$$;
COMMENT ON FUNCTION api.get_organization(uuid) IS
$$A clinic's settings with its calendars and services: {"success": true, "org_id", "name", "phone",
"time_zone", "country" (ISO 3166 alpha-2: national numbers are read by its rules), "hold_minutes", "code_length", "max_code_attempts", "max_code_sends", "min_notice_minutes",
"booking_horizon_days", "hot_lead_threshold", "help_text", "calendars": [{"calendar_id", "provider",
"slot_minutes", "default_duration_minutes"}], "services": [{"service", "name", "duration_minutes",
"price_cents", "value_tier"}]}. Errors: VB404 unknown org.$$;
