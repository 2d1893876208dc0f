-- Streams whose client left: a worker checks here before and while running a chat command.
CREATE TABLE cancelled_streams (
  stream_id    text PRIMARY KEY,
  reason       text,
  cancelled_at timestamptz NOT NULL DEFAULT now()
);
