-- A conversation's runs (and a tenant's conversations) are found by the conversation id their
-- commands carry (X-Conversation-Id → payload.conversation_id); only such commands are indexed.
CREATE INDEX outbox_events_conversation
  ON outbox_events (tenant_id, ((payload -> 'payload' ->> 'conversation_id')), occurred_at)
  WHERE (payload -> 'payload' ->> 'conversation_id') IS NOT NULL;
