-- The message catalogue (issue 11): every customer-facing text, SMS and spoken line, as a template per
-- language and key, rendered by voxbook.message(key, language, args). The rows are code, not data: they are
-- written from db/functions/16_messages.sql on every `voxbook db migrate`, so a wording change is an edit
-- of that file and needs no migration. Adding a language is adding rows; a key missing in a language falls
-- back to English. No org_id: the same for every clinic (on Citus, a reference table).
-- depends: 0013_one_tool_call_format 0014_sql_hygiene

CREATE TABLE voxbook.message_templates (
    language text NOT NULL CHECK (language ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    key      text NOT NULL CHECK (key ~ '^[a-z_]+(\.[a-z_]+)*$'),
    template text NOT NULL,
    PRIMARY KEY (language, key)
);
COMMENT ON TABLE voxbook.message_templates IS
    'Every customer-facing text (SMS bodies, the assistant''s spoken lines, refusal texts) by language and key, '
    'with {name} placeholders; rendered by voxbook.message(). Written by db/functions/16_messages.sql on every migrate.';

COMMENT ON TABLE voxbook.tool_calls IS
    'The result of each Vapi tool call (keyed by the clinic and Vapi''s toolCallId), stored by api.run_tool_call '
    'as {"answer": <the booking function''s result>, "spoken": <the line the assistant says>}. A redelivery is '
    'answered from here. Rows are only needed while Vapi may retry; old ones can be deleted freely.';
COMMENT ON COLUMN voxbook.tool_calls.response IS
    '{"answer": <the result of the api function the tool call ran>, "spoken": <its line from the message '
    'catalogue (voxbook.spoken_line)>}; rows stored before 0015 have no "spoken" and get it worded on replay.';
