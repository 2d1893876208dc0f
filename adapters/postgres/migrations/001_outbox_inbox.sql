-- The transactional outbox and the deduplicating inbox of one bounded context.

CREATE TABLE outbox_events (
  id               uuid PRIMARY KEY,              -- = envelope event_id = Nats-Msg-Id
  aggregate_type   text        NOT NULL,
  aggregate_id     text        NOT NULL,
  event_type       text        NOT NULL,
  event_version    integer     NOT NULL,
  subject          text        NOT NULL,          -- where the relay publishes it
  tenant_id        text        NOT NULL,
  payload          jsonb       NOT NULL,          -- the whole envelope, published as is
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  trace_id         text,
  correlation_id   text,                          -- text: client request ids need not be uuids
  causation_id     text,
  published_at     timestamptz,
  publish_attempts integer     NOT NULL DEFAULT 0,
  publish_error    text,
  next_attempt_at  timestamptz NOT NULL DEFAULT now()  -- backoff after a failed publish
);

-- The relay's "next batch" query reads only this partial index.
CREATE INDEX outbox_events_due ON outbox_events (next_attempt_at, occurred_at)
  WHERE published_at IS NULL;
CREATE INDEX outbox_events_occurred_at ON outbox_events (occurred_at);

-- Wakes relays at commit time; they also poll, so a lost notification only delays.
CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify();

CREATE TABLE inbox_messages (
  message_id       text        PRIMARY KEY,       -- Nats-Msg-Id (other services' ids need not be uuids)
  event_type       text        NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  processed_at     timestamptz,
  process_attempts integer     NOT NULL DEFAULT 0,
  last_error       text,
  locked_until     timestamptz                    -- lease of the worker running it
);

CREATE INDEX inbox_messages_unprocessed ON inbox_messages (received_at)
  WHERE processed_at IS NULL;
