-- +goose Up
-- The REST API's needs beyond 00001: order numbers, and indexes that keep the
-- list pages of devices, orders and the audit log on an index at 1M rows.

-- EP-YYYYMMDD-nnnnnn: one global sequence (not reset daily), so a number is
-- unique even when two processes disagree about the date.
CREATE SEQUENCE order_number_seq;

-- pg_trgm is a trusted extension (PG ≥ 13): a database owner may create it.
-- It serves the substring searches (hostname, order number) with GIN.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX devices_hostname_trgm ON devices USING gin (hostname gin_trgm_ops);
CREATE INDEX orders_number_trgm ON elastic_scaling_orders USING gin (order_number gin_trgm_ops);

-- The list's keyset pages order by (created_at, id): with id in the index a
-- cluster+pool (or strategy) page is one ordered index scan, not a sort of
-- the pool's whole history. Same names, so cooldown lookups keep their index.
DROP INDEX orders_cluster_pool_created;
CREATE INDEX orders_cluster_pool_created ON elastic_scaling_orders (cluster_id, pool_id, created_at DESC, id DESC);
DROP INDEX orders_strategy_created;
CREATE INDEX orders_strategy_created ON elastic_scaling_orders (strategy_id, created_at DESC, id DESC);
-- A pool determines its cluster; without this the planner multiplies the two
-- selectivities and underestimates a cluster+pool filter ~100-fold.
CREATE STATISTICS orders_cluster_pool_deps (dependencies) ON cluster_id, pool_id FROM elastic_scaling_orders;

-- Sorting the order list by updatedAt, alone or with a status filter.
CREATE INDEX orders_updated ON elastic_scaling_orders (updated_at DESC, id DESC);
CREATE INDEX orders_status_updated ON elastic_scaling_orders (status, updated_at DESC, id DESC);

-- Every order that ever touched a device (the unique index only covers open ones).
CREATE INDEX order_devices_device ON order_devices (device_id);

-- Audit log filtered by actor.
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC, id DESC);

-- +goose Down
DROP STATISTICS orders_cluster_pool_deps;
DROP INDEX orders_cluster_pool_created, orders_strategy_created;
CREATE INDEX orders_cluster_pool_created ON elastic_scaling_orders (cluster_id, pool_id, created_at DESC);
CREATE INDEX orders_strategy_created ON elastic_scaling_orders (strategy_id, created_at DESC);
DROP INDEX audit_log_actor, order_devices_device,
    orders_status_updated, orders_updated, orders_number_trgm, devices_hostname_trgm;
DROP SEQUENCE order_number_seq;
