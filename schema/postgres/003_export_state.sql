-- Where each exporter stands. It is updated in the same transaction as the rows it accounts
-- for, so the tables and the position can never disagree: that is the exactly-once guarantee.
CREATE TABLE export_state (
  name text PRIMARY KEY,                 -- [export.postgres] name (default "default")
  last_seq bigint NOT NULL DEFAULT 0,    -- events up to here are in `events`
  usage_until_hour timestamptz,          -- usage_hourly holds every complete hour before this
  updated_at timestamptz NOT NULL DEFAULT now()
);
