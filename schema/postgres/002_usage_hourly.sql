-- Usage per tenant, hour and tier, as the billing actor counts it (docs/billing.md).
--
-- Only complete hours are exported: an hour appears once the billing clock (the time of the
-- last event it consumed) is past its end, and is never changed afterwards by new events.
-- A row is left out when the tier held nothing and saw nothing that hour.
CREATE TABLE usage_hourly (
  tenant text NOT NULL,
  hour timestamptz NOT NULL,             -- the start of the hour (UTC)
  tier text NOT NULL,
  byte_seconds numeric(38, 0) NOT NULL,  -- bytes stored x seconds in the hour
  objects bigint NOT NULL,               -- objects stored at the end of the hour
  bytes bigint NOT NULL,                 -- bytes stored at the end of the hour
  requests_a bigint NOT NULL,            -- PUT, COPY, POST, LIST, transitions into the tier
  requests_b bigint NOT NULL,            -- GET, HEAD
  bytes_in bigint NOT NULL,              -- request bodies stored
  bytes_out bigint NOT NULL,             -- response bodies sent
  bytes_retrieved bigint NOT NULL,       -- GET bytes served from this tier
  restore_requests bigint NOT NULL,      -- RestoreObject requests for objects on this tier
  restores bigint NOT NULL,              -- restored copies made from this tier
  restored_bytes bigint NOT NULL,
  transitions_in bigint NOT NULL,        -- moves into this tier
  deletes bigint NOT NULL,
  PRIMARY KEY (tenant, hour, tier)
);

CREATE INDEX usage_hourly_hour ON usage_hourly (hour);
