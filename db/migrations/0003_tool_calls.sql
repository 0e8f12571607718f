-- Answers of Vapi tool calls, so that a redelivered call (same toolCallId) gets the first answer
-- back instead of a second hold or a second SMS. Written by api.finish_tool_call.
-- depends: 0001_core

CREATE TABLE voxbook.tool_calls (
    org_id        uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    tool_call_id  text NOT NULL CHECK (length(tool_call_id) BETWEEN 1 AND 200),
    tool_name     text NOT NULL CHECK (length(tool_name) BETWEEN 1 AND 64),
    vapi_call_id  text,
    response      jsonb NOT NULL CHECK (jsonb_typeof(response) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, tool_call_id)
);
CREATE INDEX tool_calls_by_call ON voxbook.tool_calls (org_id, vapi_call_id) WHERE vapi_call_id IS NOT NULL;
CREATE INDEX tool_calls_created ON voxbook.tool_calls (created_at);
COMMENT ON TABLE voxbook.tool_calls IS
    'The answer given to each Vapi tool call (keyed by the clinic and Vapi''s toolCallId). A redelivery '
    'is answered from here. Rows are only needed while Vapi may retry; old ones can be deleted freely.';
