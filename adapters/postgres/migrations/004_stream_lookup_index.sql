-- Stream lookups (resume) find a chat command by stream id and tenant.
CREATE INDEX outbox_events_aggregate ON outbox_events (aggregate_id, tenant_id);
