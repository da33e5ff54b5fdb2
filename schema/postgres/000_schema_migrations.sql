-- Which migrations of schema/postgres/ have been applied to this database.
--
-- The exporter runs this file first on every start (it is idempotent) so it can read the
-- table, then applies, in one transaction, every later file whose version is not listed here.
-- Files are numbered NNN_name.sql; a file is never edited once released: a change is a new file.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
