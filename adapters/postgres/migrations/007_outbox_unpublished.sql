-- What is not yet published lives in a narrow table of its own; outbox_events is written once and
-- never updated.
--
-- Why: marking a row published used to update outbox_events. published_at is in the predicate of
-- the relay's partial index, so that update could never be HOT: every mark wrote a second copy of
-- the row (its whole jsonb envelope) and an entry in each of its indexes, and left a dead tuple of
-- the envelope's size for vacuum, twice per completion (the command, the terminal event). A mark
-- is now a DELETE of a row of a few dozen bytes. Measured (npm run bench:outbox): 3.8 KB of WAL
-- per outbox row became 2.2 KB, and the writing backend's CPU per row 0.86-0.96 of what it was,
-- with no dead copy left for vacuum.
--
-- A row here is due (next_attempt_at reached), backing off after failed attempts, or refused by
-- the bus (refused_at set: never claimed again, kept with its reason for an operator).
--
-- Upgrade: stop every process of the previous version first. Its writers would insert into
-- outbox_events only, and fail on the columns dropped below rather than write rows no relay
-- would ever see.

CREATE TABLE outbox_unpublished (
  id               uuid        PRIMARY KEY,         -- outbox_events.id
  occurred_at      timestamptz NOT NULL,             -- the event's, for publication order
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  publish_attempts integer     NOT NULL DEFAULT 0,
  publish_error    text,
  refused_at       timestamptz
);

-- The relay's "next batch" query reads only this index.
CREATE INDEX outbox_unpublished_due ON outbox_unpublished (next_attempt_at, occurred_at)
  WHERE refused_at IS NULL;

INSERT INTO outbox_unpublished (id, occurred_at, next_attempt_at, publish_attempts, publish_error)
SELECT id, occurred_at, next_attempt_at, publish_attempts, publish_error
  FROM outbox_events
 WHERE published_at IS NULL;

INSERT INTO outbox_unpublished
  (id, occurred_at, next_attempt_at, publish_attempts, publish_error, refused_at)
SELECT id, occurred_at, next_attempt_at, publish_attempts, publish_error, published_at
  FROM outbox_events
 WHERE published_at IS NOT NULL AND publish_error LIKE 'refused: %';

-- Relays are woken by rows they may publish now, as before (002), from the new table.
DROP TRIGGER outbox_events_notify ON outbox_events;
CREATE TRIGGER outbox_unpublished_notify AFTER INSERT ON outbox_unpublished
  FOR EACH ROW WHEN (NEW.next_attempt_at <= now())
  EXECUTE FUNCTION outbox_events_notify();

DROP INDEX outbox_events_due;
ALTER TABLE outbox_events
  DROP COLUMN published_at,
  DROP COLUMN publish_attempts,
  DROP COLUMN publish_error,
  DROP COLUMN next_attempt_at;
