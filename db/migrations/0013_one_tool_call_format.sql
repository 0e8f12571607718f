-- One record format for Vapi tool calls (issue 11). api.run_tool_call stores {"answer": <the booking
-- function's result>} and the adapter words the spoken line from that result on every delivery.
-- api.finish_tool_call (now gone) stored the adapter's finished answer instead: {"result": "<the result as
-- camelCase JSON text>", "message": "<spoken line>"}. Such a row matters only while Vapi may still
-- redeliver its call, but then it must replay, so each becomes {"answer": <the result, keys snake_case
-- again>}; one that cannot be read back is deleted (it was never a valid answer). From now on the table
-- accepts the one format only.
-- depends: 0003_tool_calls

CREATE FUNCTION pg_temp.snake_keys(j jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(j)
           WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(lower(regexp_replace(e.k, '([A-Z])', '_\1', 'g')),
                                                                pg_temp.snake_keys(e.v)), '{}')
                                 FROM jsonb_each(j) AS e(k, v))
           WHEN 'array' THEN (SELECT coalesce(jsonb_agg(pg_temp.snake_keys(e.v) ORDER BY e.i), '[]')
                                FROM jsonb_array_elements(j) WITH ORDINALITY AS e(v, i))
           ELSE j END
$$;

CREATE FUNCTION pg_temp.old_answer(response jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    r jsonb;
BEGIN
    r := (response->>'result')::jsonb;
    RETURN CASE WHEN jsonb_typeof(r) = 'object' THEN pg_temp.snake_keys(r) END;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END
$$;

UPDATE voxbook.tool_calls AS t SET response = jsonb_build_object('answer', pg_temp.old_answer(t.response))
 WHERE NOT t.response ? 'answer' AND pg_temp.old_answer(t.response) IS NOT NULL;
DELETE FROM voxbook.tool_calls AS t WHERE NOT t.response ? 'answer';

ALTER TABLE voxbook.tool_calls
    ADD CONSTRAINT tool_calls_one_format CHECK (response ? 'answer');
COMMENT ON TABLE voxbook.tool_calls IS
    'The result of each Vapi tool call (keyed by the clinic and Vapi''s toolCallId), stored by api.run_tool_call '
    'as {"answer": <the booking function''s result>}. A redelivery is answered from here. Rows are only needed '
    'while Vapi may retry; old ones can be deleted freely.';
COMMENT ON COLUMN voxbook.tool_calls.response IS
    '{"answer": <the result of the api function the tool call ran>}: the spoken line is worded from it.';
