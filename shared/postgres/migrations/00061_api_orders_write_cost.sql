-- +goose Up
-- Cheaper order inserts (DESIGN §10: a manual order ≥ 50% of the single-row
-- INSERT floor); measured in docs/benchmarks.md, "Orders".

-- The trigram GIN cost ≈ 30 µs of backend CPU per order insert (≈ 20 keys per
-- number; with fastupdate the cost comes back as pending-list cleanups in
-- the inserting request, without it on every insert) — the most expensive
-- index of the table. An order number is EP-YYYYMMDD-NNNNNN, and the list's
-- `q` now matches the start of the number (with or without "EP-") or of its
-- sequence part, which two btrees serve at ≈ 2 µs per insert each.
DROP INDEX orders_number_trgm;
CREATE INDEX orders_number_prefix ON elastic_scaling_orders (order_number text_pattern_ops);
CREATE INDEX orders_number_seq_prefix ON elastic_scaling_orders (split_part(order_number, '-', 3) text_pattern_ops);

-- Manual and maintenance orders have no strategy: their NULL entries served
-- no query (a strategy filter or ON DELETE SET NULL looks up strategy_id = x,
-- which implies NOT NULL), yet every insert paid for them.
DROP INDEX orders_strategy_created;
CREATE INDEX orders_strategy_created ON elastic_scaling_orders (strategy_id, created_at DESC, id DESC)
    WHERE strategy_id IS NOT NULL;

-- +goose Down
DROP INDEX orders_strategy_created;
CREATE INDEX orders_strategy_created ON elastic_scaling_orders (strategy_id, created_at DESC, id DESC);
DROP INDEX orders_number_seq_prefix, orders_number_prefix;
CREATE INDEX orders_number_trgm ON elastic_scaling_orders USING gin (order_number gin_trgm_ops);
