-- +goose Up
-- Maintenance (functions/maintenance, docs/maintenance.md).

-- One maintenance order per ticket of an external system: the same request
-- twice returns the same order, even when both arrive at once. Uncordon
-- orders copy the ticket for traceability, hence the partial index.
CREATE UNIQUE INDEX orders_maintenance_ticket ON elastic_scaling_orders (external_system, external_ticket_id)
    WHERE action_type = 'maintenance';

-- The maintenance list (newest first) without scanning the other orders.
CREATE INDEX orders_maintenance_created ON elastic_scaling_orders (created_at DESC, id DESC)
    WHERE action_type = 'maintenance';

-- HMAC signatures already accepted: a signed request is good once, and only
-- within the replay window around its timestamp; rows older than the window
-- can never match again and are pruned.
CREATE TABLE maintenance_signatures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signature   text NOT NULL UNIQUE,          -- lowercase hex HMAC-SHA256
    system      text NOT NULL,
    signed_at   timestamptz NOT NULL,          -- the request's X-Elasticpool-Timestamp
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX maintenance_signatures_signed_at ON maintenance_signatures (signed_at);

-- +goose Down
DROP TABLE maintenance_signatures;
DROP INDEX orders_maintenance_created, orders_maintenance_ticket;
