-- The event log, one row per event, in sequence order (docs/export.md).
--
-- `payload` is the event exactly as `vaultctl events ... --json` prints it (event_to_json):
-- envelope and type-specific fields. The other columns repeat what SQL users filter and sum on.
-- Strings are valid UTF-8: bytes that are not (and NUL, which PostgreSQL text cannot hold)
-- are replaced by U+FFFD, in the columns and in the payload alike.
CREATE TABLE events (
  seq bigint PRIMARY KEY,                 -- the log's sequence number: 1, 2, 3, ... no gaps
  time timestamptz NOT NULL,              -- the commit time (microseconds)
  time_unix_nanos bigint NOT NULL,        -- the commit time, exactly
  type text NOT NULL,                     -- artifact_committed, artifact_read, ...
  tenant text NOT NULL,
  container text NOT NULL,                -- the S3 bucket ('' for tenant and identity events)
  path text NOT NULL,                     -- the S3 key ('' for container events)
  principal text NOT NULL,                -- the access key that signed the request
  source_address text NOT NULL,           -- the client's ip:port
  request_id text NOT NULL,               -- x-amz-request-id
  user_agent text NOT NULL,
  spoke_id text NOT NULL,
  size bigint,        -- object bytes: committed, part, read (the object's), migrated
  etag text,          -- artifact_committed, part_uploaded
  tier text,          -- the tier written, read from, restored from, or moved to
  bytes_sent bigint,  -- artifact_read: body bytes sent
  payload jsonb NOT NULL
);

CREATE INDEX events_time ON events (time);
CREATE INDEX events_object ON events (tenant, container, path, seq);
CREATE INDEX events_type_time ON events (type, time);
