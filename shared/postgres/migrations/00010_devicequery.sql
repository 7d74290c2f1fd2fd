-- +goose Up
-- Device matching (shared/devicequery/pgquery, docs/benchmarks.md).
--
-- A pool_entry query is always status = 'idle' AND idc = X AND <template>.
-- With the table-wide GIN indexes, a frequent label (kubernetes.io/os=linux,
-- a big team) makes Postgres read and intersect posting lists covering most
-- of the table before the LIMIT can stop anything: 4-5× more buffers than
-- one GIN holding only the idle devices (about a sixth of the fleet), keyed
-- by idc as well, so a single index scan answers idc, labels and taints.
-- btree_gin supplies the GIN operator class for the text column; it is a
-- trusted contrib extension (Postgres 13+), creatable without superuser.
-- The index is partial, so it needs custom plans (the literal 'idle' must be
-- visible to the planner): pgquery sends unnamed statements for that reason.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX devices_idle_match ON devices USING gin (idc, labels, taints) WHERE status = 'idle';

-- +goose Down
DROP INDEX devices_idle_match;
-- btree_gin stays: another object may use it.
