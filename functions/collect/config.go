package collect

import (
	"time"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/serve"
)

// Config is the collect function's environment.
type Config struct {
	serve.Config
	Secrets config.Secrets
	// ClusterTimeout bounds one cluster's collection.
	ClusterTimeout time.Duration `env:"COLLECT_CLUSTER_TIMEOUT, default=2m"`
	// Parallel is how many clusters are collected at once.
	Parallel int `env:"COLLECT_PARALLEL, default=4"`
	// NodeOps: NODE_DRAIN_TIMEOUT and NODE_OPS_PARALLEL, nodeops' settings
	// (set them in elasticpool-config, which both Services read): how long a
	// run can last, after which an order nobody runs is stalled.
	NodeOps nodeexec.Limits
}
