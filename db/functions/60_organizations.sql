-- Looking clinics up: the Vapi adapter finds the clinic by the number the caller dialled.

-- PL/pgSQL: no SQL-language function reads a table (db/README.md, "Writing functions that run on Citus too").
CREATE FUNCTION internal.organization_json(o voxbook.organizations) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'name', o.name, 'phone', o.phone, 'time_zone', o.time_zone,
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
BEGIN
    PERFORM internal.require(phone, 'phone');
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.phone = internal.normalize_phone(find_organization.phone, '1');
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'no clinic answers on this number',
                              'The number must be a clinic''s phone in E.164, as Vapi sends it in phoneNumber.number.');
    END IF;
    RETURN internal.organization_json(o);
END
$$;
COMMENT ON FUNCTION api.find_organization(text) IS
$$The clinic answering on a phone number (E.164 or national NANP): its settings, calendars and services,
as api.get_organization. Errors: VB404 no clinic on that number; VB400 malformed number.
Example: SELECT api.find_organization('+15551234567');$$;

CREATE FUNCTION api.get_organization(org_id uuid)
    RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
    SELECT internal.organization_json(internal.require_org(org_id))
$$;
COMMENT ON FUNCTION api.get_organization(uuid) IS
$$A clinic's settings with its calendars and services: {"success": true, "org_id", "name", "phone",
"time_zone", "hold_minutes", "code_length", "max_code_attempts", "max_code_sends", "min_notice_minutes",
"booking_horizon_days", "hot_lead_threshold", "help_text", "calendars": [{"calendar_id", "provider",
"slot_minutes", "default_duration_minutes"}], "services": [{"service", "name", "duration_minutes",
"price_cents", "value_tier"}]}. Errors: VB404 unknown org.$$;
