-- +goose Up
-- The snapshot collector's per-cluster outcome (issue 9): one row per cluster,
-- replaced by each collection, so a broken cluster's error stays visible while
-- the others collect, and the inventory drift the last collection found.
CREATE TABLE cluster_collections (
    cluster_id        bigint PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    -- ok: snapshots written; error: nothing written this time; manual: no credentials.
    status            text NOT NULL CHECK (status IN ('ok', 'error', 'manual')),
    error             text NOT NULL DEFAULT '',
    attempted_at      timestamptz NOT NULL,
    succeeded_at      timestamptz,
    metrics_available boolean NOT NULL DEFAULT false,
    -- why usage is empty, pools skipped (bad selector), ...
    notes             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(notes) = 'array'),
    node_count        integer NOT NULL DEFAULT 0,
    pod_count         integer NOT NULL DEFAULT 0,
    snapshot_count    integer NOT NULL DEFAULT 0,
    resource_version  text NOT NULL DEFAULT '',
    -- nodes without a device record: ["node-a", ...]
    unknown_nodes     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(unknown_nodes) = 'array'),
    -- devices of this cluster whose node is gone: [{"id":1,"hostname":"h","nodeName":"n"}]
    vanished_devices  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(vanished_devices) = 'array'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE cluster_collections;
