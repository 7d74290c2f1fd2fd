package collect

import (
	"context"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/elasticpool/elasticpool/functions/nodeops"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
)

// TestNodeOpsLimitsMatchNodeops: the collector reads nodeops' variables to
// size the stall threshold; with the same environment (elasticpool-config)
// both must see the same numbers, defaults included.
func TestNodeOpsLimitsMatchNodeops(t *testing.T) {
	for _, env := range []map[string]string{
		nil,
		{"NODE_DRAIN_TIMEOUT": "12m", "NODE_OPS_PARALLEL": "2"},
	} {
		var got nodeexec.Limits
		var s nodeops.Settings
		if err := config.LoadFrom(context.Background(), &got, envconfig.MapLookuper(env)); err != nil {
			t.Fatal(err)
		}
		if err := config.LoadFrom(context.Background(), &s, envconfig.MapLookuper(env)); err != nil {
			t.Fatal(err)
		}
		want := nodeexec.Limits{DrainTimeout: s.DrainTimeout, Parallel: s.Parallel}
		if got != want {
			t.Errorf("env %v: collect got %+v, nodeops %+v", env, got, want)
		}
	}
	if got := (nodeexec.Limits{}).StallAfter(1); got != (nodeexec.Limits{DrainTimeout: 5 * time.Minute, Parallel: 4}).StallAfter(1) {
		t.Errorf("zero limits: got %s, want the defaults' threshold", got)
	}
}
