-- +goose Up
-- The whole data model of DESIGN.md §4. Quantities are bigint (millicores, bytes)
-- or float8, never numeric: decoding numeric in Go costs more than the scan.
-- Every mutable row carries a version for optimistic concurrency (If-Match).

CREATE TABLE clusters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' AND length(name) <= 63),
    display_name  text NOT NULL DEFAULT '',
    region        text NOT NULL DEFAULT '',
    zone          text NOT NULL DEFAULT '',
    idc           text NOT NULL DEFAULT '',
    labels        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    api_endpoint  text NOT NULL DEFAULT '',
    -- kubeconfig or token+CA, encrypted with the SECRETS_KEEPER_URL keeper; never returned by the API.
    credentials   bytea,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    version       integer NOT NULL DEFAULT 1,
    created_by    text NOT NULL DEFAULT '',
    updated_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resource_pools (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id     bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name <> ''),
    pool_type      text NOT NULL CHECK (pool_type ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
    -- Kubernetes label selector that picks this pool's nodes, e.g. "pool=general".
    node_selector  text NOT NULL DEFAULT '',
    -- labels applied to a node when it enters the pool.
    node_labels    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(node_labels) = 'object'),
    min_nodes      integer NOT NULL DEFAULT 1 CHECK (min_nodes >= 0),
    max_nodes      integer CHECK (max_nodes IS NULL OR max_nodes >= min_nodes),
    version        integer NOT NULL DEFAULT 1,
    created_by     text NOT NULL DEFAULT '',
    updated_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cluster_id, name),
    UNIQUE (cluster_id, id) -- lets other tables reference (cluster, pool) pairs
);
CREATE INDEX resource_pools_pool_type ON resource_pools (pool_type);

-- Raw snapshots as ingested or collected (the seed's k8s_cluster_resource_snapshot).
CREATE TABLE cluster_resource_snapshots (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id     bigint NOT NULL,
    pool_id        bigint NOT NULL,
    captured_at    timestamptz NOT NULL,
    -- calendar day of captured_at in the configured TIMEZONE, set at ingest.
    day            date NOT NULL,
    cpu_capacity   bigint NOT NULL CHECK (cpu_capacity >= 0),   -- millicores
    cpu_allocated  bigint NOT NULL CHECK (cpu_allocated >= 0),
    cpu_usage      bigint CHECK (cpu_usage >= 0),               -- null: metrics not served
    mem_capacity   bigint NOT NULL CHECK (mem_capacity >= 0),   -- bytes
    mem_allocated  bigint NOT NULL CHECK (mem_allocated >= 0),
    mem_usage      bigint CHECK (mem_usage >= 0),
    node_count     integer NOT NULL DEFAULT 0 CHECK (node_count >= 0),
    source         text NOT NULL DEFAULT 'api',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (cluster_id, pool_id) REFERENCES resource_pools (cluster_id, id) ON DELETE CASCADE,
    UNIQUE (pool_id, captured_at)
);
CREATE INDEX cluster_resource_snapshots_cluster_time ON cluster_resource_snapshots (cluster_id, captured_at DESC);

-- The latest snapshot of each pool on each day, upserted at ingest, so evaluation
-- reads exactly one row per pool-day (no DISTINCT ON sort at read time).
CREATE TABLE pool_daily_snapshots (
    pool_id        bigint NOT NULL REFERENCES resource_pools (id) ON DELETE CASCADE,
    day            date NOT NULL,
    cluster_id     bigint NOT NULL,
    captured_at    timestamptz NOT NULL,
    cpu_capacity   bigint NOT NULL,
    cpu_allocated  bigint NOT NULL,
    cpu_usage      bigint,
    mem_capacity   bigint NOT NULL,
    mem_allocated  bigint NOT NULL,
    mem_usage      bigint,
    node_count     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, day)
);

CREATE TABLE query_templates (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name <> ''),
    description  text NOT NULL DEFAULT '',
    groups       jsonb NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_by   text NOT NULL DEFAULT '',
    updated_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resource_pool_device_matching_policies (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name <> ''),
    description         text NOT NULL DEFAULT '',
    resource_pool_type  text NOT NULL CHECK (resource_pool_type <> ''),
    action_type         text NOT NULL CHECK (action_type IN ('pool_entry', 'pool_exit')),
    query_template_id   bigint NOT NULL REFERENCES query_templates (id) ON DELETE RESTRICT,
    status              text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    version             integer NOT NULL DEFAULT 1,
    created_by          text NOT NULL DEFAULT '',
    updated_by          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- At most one enabled policy per (pool type, action).
CREATE UNIQUE INDEX matching_policies_one_enabled
    ON resource_pool_device_matching_policies (resource_pool_type, action_type) WHERE status = 'enabled';

CREATE TABLE elastic_scaling_strategies (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                      text NOT NULL UNIQUE CHECK (name <> ''),
    description               text NOT NULL DEFAULT '',
    threshold_trigger_action  text NOT NULL CHECK (threshold_trigger_action IN ('pool_entry', 'pool_exit')),
    cpu_threshold_value       float8 CHECK (cpu_threshold_value > 0 AND cpu_threshold_value <= 100),
    cpu_threshold_type        text CHECK (cpu_threshold_type IN ('usage', 'allocated')),
    cpu_target_value          float8 CHECK (cpu_target_value > 0 AND cpu_target_value <= 100),
    memory_threshold_value    float8 CHECK (memory_threshold_value > 0 AND memory_threshold_value <= 100),
    memory_threshold_type     text CHECK (memory_threshold_type IN ('usage', 'allocated')),
    memory_target_value       float8 CHECK (memory_target_value > 0 AND memory_target_value <= 100),
    condition_logic           text NOT NULL DEFAULT 'AND' CHECK (condition_logic IN ('AND', 'OR')),
    duration_minutes          integer NOT NULL CHECK (duration_minutes > 0),
    cooldown_minutes          integer NOT NULL DEFAULT 0 CHECK (cooldown_minutes >= 0),
    device_count              integer NOT NULL DEFAULT 0 CHECK (device_count >= 0),
    node_selector             text NOT NULL DEFAULT '',
    resource_types            text NOT NULL DEFAULT '',
    entry_query_template_id   bigint REFERENCES query_templates (id) ON DELETE RESTRICT,
    exit_query_template_id    bigint REFERENCES query_templates (id) ON DELETE RESTRICT,
    selection_policy          text NOT NULL DEFAULT 'random' CHECK (selection_policy IN ('random', 'largest-first', 'smallest-first')),
    status                    text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    version                   integer NOT NULL DEFAULT 1,
    created_by                text NOT NULL DEFAULT '',
    updated_by                text NOT NULL DEFAULT '',
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    -- a resource is configured when it has a threshold; then it needs a type and a target.
    CHECK ((cpu_threshold_value IS NULL) = (cpu_threshold_type IS NULL)
       AND (cpu_threshold_value IS NULL) = (cpu_target_value IS NULL)),
    CHECK ((memory_threshold_value IS NULL) = (memory_threshold_type IS NULL)
       AND (memory_threshold_value IS NULL) = (memory_target_value IS NULL)),
    CHECK (cpu_threshold_value IS NOT NULL OR memory_threshold_value IS NOT NULL),
    CHECK (threshold_trigger_action <> 'pool_entry' OR (
        (cpu_target_value IS NULL OR cpu_target_value < cpu_threshold_value) AND
        (memory_target_value IS NULL OR memory_target_value < memory_threshold_value))),
    CHECK (threshold_trigger_action <> 'pool_exit' OR (
        (cpu_target_value IS NULL OR cpu_target_value > cpu_threshold_value) AND
        (memory_target_value IS NULL OR memory_target_value > memory_threshold_value)))
);
CREATE INDEX elastic_scaling_strategies_enabled ON elastic_scaling_strategies (id) WHERE status = 'enabled';

CREATE TABLE strategy_clusters (
    strategy_id  bigint NOT NULL REFERENCES elastic_scaling_strategies (id) ON DELETE CASCADE,
    cluster_id   bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (strategy_id, cluster_id)
);
CREATE INDEX strategy_clusters_cluster ON strategy_clusters (cluster_id);

CREATE TABLE devices (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hostname            text NOT NULL UNIQUE CHECK (hostname <> ''),
    ip                  text NOT NULL DEFAULT '',
    serial              text NOT NULL DEFAULT '',
    cpu_arch            text NOT NULL DEFAULT '',
    cpu_cores           integer NOT NULL DEFAULT 0 CHECK (cpu_cores >= 0),
    memory_bytes        bigint NOT NULL DEFAULT 0 CHECK (memory_bytes >= 0),
    gpu_count           integer NOT NULL DEFAULT 0 CHECK (gpu_count >= 0),
    gpu_model           text NOT NULL DEFAULT '',
    disk_bytes          bigint NOT NULL DEFAULT 0 CHECK (disk_bytes >= 0),
    idc                 text NOT NULL DEFAULT '',
    zone                text NOT NULL DEFAULT '',
    rack                text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'in_pool', 'cordoned', 'maintenance', 'retired')),
    cluster_id          bigint REFERENCES clusters (id) ON DELETE SET NULL,
    pool_id             bigint REFERENCES resource_pools (id) ON DELETE SET NULL,
    node_name           text NOT NULL DEFAULT '',
    labels              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    taints              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(taints) = 'array'),
    extra               jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    -- requests allocated on the device's node, from the collector (null: no node data).
    node_cpu_allocated  bigint,
    node_mem_allocated  bigint,
    version             integer NOT NULL DEFAULT 1,
    created_by          text NOT NULL DEFAULT '',
    updated_by          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'idle' OR pool_id IS NULL),
    CHECK (status <> 'in_pool' OR (cluster_id IS NOT NULL AND pool_id IS NOT NULL))
);
CREATE UNIQUE INDEX devices_serial ON devices (serial) WHERE serial <> '';
CREATE INDEX devices_status_idc ON devices (status, idc);
CREATE INDEX devices_cluster_pool ON devices (cluster_id, pool_id);
-- jsonb_ops (not jsonb_path_ops): serves both @> (equality) and ? (exists).
CREATE INDEX devices_labels ON devices USING gin (labels);
CREATE INDEX devices_taints ON devices USING gin (taints);

CREATE TABLE strategy_execution_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_id     bigint NOT NULL REFERENCES elastic_scaling_strategies (id) ON DELETE CASCADE,
    cluster_id      bigint NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    pool_id         bigint NOT NULL REFERENCES resource_pools (id) ON DELETE CASCADE,
    evaluated_at    timestamptz NOT NULL,  -- T, the tick time
    result          text NOT NULL CHECK (result IN ('triggered', 'not_met', 'cooldown', 'no_data', 'error')),
    action          text NOT NULL CHECK (action IN ('pool_entry', 'pool_exit')),
    streak_days     integer NOT NULL DEFAULT 0,
    required_days   integer NOT NULL DEFAULT 0,
    -- per-day rates and the last values seen; thresholds and targets as configured at T.
    observed        jsonb NOT NULL DEFAULT '{}',
    thresholds      jsonb NOT NULL DEFAULT '{}',
    reason          text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    order_id        bigint, -- FK added below, after orders exist
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (strategy_id, cluster_id, pool_id, evaluated_at)
);
CREATE INDEX strategy_execution_history_time ON strategy_execution_history (evaluated_at DESC, id DESC);
CREATE INDEX strategy_execution_history_pool ON strategy_execution_history (cluster_id, pool_id, evaluated_at DESC);

CREATE TABLE elastic_scaling_orders (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_number              text NOT NULL UNIQUE,
    cluster_id                bigint REFERENCES clusters (id) ON DELETE RESTRICT,
    pool_id                   bigint REFERENCES resource_pools (id) ON DELETE RESTRICT,
    strategy_id               bigint REFERENCES elastic_scaling_strategies (id) ON DELETE SET NULL,
    action_type               text NOT NULL CHECK (action_type IN ('pool_entry', 'pool_exit', 'maintenance', 'uncordon')),
    status                    text NOT NULL DEFAULT 'pending' CHECK (status IN
                                ('pending', 'processing', 'completed', 'failed', 'cancelled', 'ignored', 'maintenance_in_progress')),
    device_count              integer NOT NULL DEFAULT 0 CHECK (device_count >= 0),
    device_id                 bigint REFERENCES devices (id) ON DELETE SET NULL,
    reason                    text NOT NULL DEFAULT '',
    created_by                text NOT NULL DEFAULT '',
    updated_by                text NOT NULL DEFAULT '',
    executor                  text NOT NULL DEFAULT '',
    execution_time            timestamptz,
    completion_time           timestamptz,
    failure_reason            text NOT NULL DEFAULT '',
    maintenance_start_time    timestamptz,
    maintenance_end_time      timestamptz,
    external_system           text NOT NULL DEFAULT '',
    external_ticket_id        text NOT NULL DEFAULT '',
    strategy_triggered_value  text NOT NULL DEFAULT '',
    strategy_threshold_value  text NOT NULL DEFAULT '',
    -- {strategyId}:{clusterId}:{poolId}:{date of T} for strategy orders; unique makes
    -- a duplicate order impossible whatever Redis does.
    idempotency_key           text UNIQUE,
    evaluation_id             bigint REFERENCES strategy_execution_history (id) ON DELETE SET NULL,
    version                   integer NOT NULL DEFAULT 1,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK ((pool_id IS NULL) OR (cluster_id IS NOT NULL)),
    CHECK (action_type NOT IN ('pool_entry', 'pool_exit') OR (cluster_id IS NOT NULL AND pool_id IS NOT NULL)),
    CHECK (status <> 'maintenance_in_progress' OR action_type = 'maintenance')
);
CREATE INDEX orders_status_created ON elastic_scaling_orders (status, created_at DESC, id DESC);
CREATE INDEX orders_created ON elastic_scaling_orders (created_at DESC, id DESC);
CREATE INDEX orders_cluster_pool_created ON elastic_scaling_orders (cluster_id, pool_id, created_at DESC);
CREATE INDEX orders_strategy_created ON elastic_scaling_orders (strategy_id, created_at DESC);
CREATE INDEX orders_external_ticket ON elastic_scaling_orders (external_system, external_ticket_id) WHERE external_ticket_id <> '';

ALTER TABLE strategy_execution_history
    ADD FOREIGN KEY (order_id) REFERENCES elastic_scaling_orders (id) ON DELETE SET NULL;

CREATE TABLE order_devices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES elastic_scaling_orders (id) ON DELETE CASCADE,
    device_id   bigint NOT NULL REFERENCES devices (id) ON DELETE RESTRICT,
    role        text NOT NULL CHECK (role IN ('add', 'remove', 'maintain', 'uncordon')),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'done', 'failed', 'skipped')),
    error       text NOT NULL DEFAULT '',
    -- true while the order is open; a device is held by at most one open order.
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, device_id)
);
CREATE UNIQUE INDEX order_devices_one_open_order ON order_devices (device_id) WHERE active;

CREATE TABLE notification_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text NOT NULL,
    event_type  text NOT NULL DEFAULT '',
    channel     text NOT NULL,
    recipient   text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    sent_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX notification_log_created ON notification_log (created_at DESC, id DESC);

CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient   text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    link        text NOT NULL DEFAULT '',
    event_id    text,
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, recipient)
);
CREATE INDEX notifications_unread ON notifications (recipient, created_at DESC) WHERE read_at IS NULL;

CREATE TABLE duty_roster (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    week_start  date NOT NULL,   -- the Monday the duty week starts, in TIMEZONE
    person      text NOT NULL CHECK (person <> ''),
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    chat_id     text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    updated_by  text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (week_start, person)
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor        text NOT NULL,
    action       text NOT NULL,       -- e.g. order.status, strategy.create
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    before       jsonb,
    after        jsonb,
    request_id   text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);

-- Events already handled by a consumer, for handlers whose effect has no natural key.
CREATE TABLE processed_events (
    consumer    text NOT NULL,
    event_id    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE processed_events, audit_log, duty_roster, notifications, notification_log, order_devices;
ALTER TABLE strategy_execution_history DROP COLUMN order_id;
DROP TABLE elastic_scaling_orders, strategy_execution_history, devices, strategy_clusters,
    elastic_scaling_strategies, resource_pool_device_matching_policies, query_templates,
    pool_daily_snapshots, cluster_resource_snapshots, resource_pools, clusters;
