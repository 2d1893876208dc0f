-- A stream id is a tenant's: clients may choose their own (idempotency), so two tenants can use
-- the same id. Cancellations are recorded per tenant and stream.
ALTER TABLE cancelled_streams ADD COLUMN tenant_id text NOT NULL DEFAULT '';
ALTER TABLE cancelled_streams DROP CONSTRAINT cancelled_streams_pkey;
ALTER TABLE cancelled_streams ADD PRIMARY KEY (tenant_id, stream_id);
ALTER TABLE cancelled_streams ALTER COLUMN tenant_id DROP DEFAULT;
