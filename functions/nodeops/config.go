package nodeops

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/serve"
)

// Settings tune the node operations; the all-in-one runner reads them too.
type Settings struct {
	// NotReadyTaint is the taint key pool_entry removes from a joining node.
	NotReadyTaint string `env:"NODE_NOT_READY_TAINT, default=elasticpool.io/not-ready-for-pool"`
	// DrainTimeout bounds one node's drain (evictions refused by a PDB are retried until then).
	DrainTimeout time.Duration `env:"NODE_DRAIN_TIMEOUT, default=5m"`
	// Parallel is how many devices of an order are operated at once.
	Parallel int `env:"NODE_OPS_PARALLEL, default=4"`
}

// Validate refuses settings that cannot work.
func (s Settings) Validate() error {
	if errs := validation.IsQualifiedName(s.NotReadyTaint); len(errs) > 0 {
		return fmt.Errorf("NODE_NOT_READY_TAINT %q is not a taint key: %v", s.NotReadyTaint, errs)
	}
	if s.DrainTimeout <= 0 {
		return fmt.Errorf("NODE_DRAIN_TIMEOUT must be > 0, got %s", s.DrainTimeout)
	}
	if s.Parallel < 1 {
		return fmt.Errorf("NODE_OPS_PARALLEL must be ≥ 1, got %d", s.Parallel)
	}
	return nil
}

// Options are the settings as node operation options.
func (s Settings) Options() kube.OpOptions {
	return kube.OpOptions{NotReadyTaint: s.NotReadyTaint, DrainTimeout: s.DrainTimeout}
}

// Config is the nodeops function's environment.
type Config struct {
	serve.Config
	Secrets config.Secrets
	NodeOps Settings
}
