-- Wake relays only for rows they may publish now. Rows written with a dispatch grace are
-- published by the process that wrote them; relays find those by polling if that fails.
-- Per-row NOTIFYs with one channel and payload are folded into one per transaction.

DROP TRIGGER outbox_events_notify ON outbox_events;

CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
  FOR EACH ROW WHEN (NEW.next_attempt_at <= now())
  EXECUTE FUNCTION outbox_events_notify();
