package pgquery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

func TestZZPlans(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	fx := newFixture(t, pool)
	devs := fx.load(t, rand.New(rand.NewPCG(1, 2)), 240)
	g := &gen{r: rand.New(rand.NewPCG(3, 4)), devs: devs, fx: fx}
	for _, sets := range [][]string{{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off"}, {"SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off", "SET LOCAL cpu_operator_cost = 0.5"}} {
	used := map[string]int{}
	for i := 0; i < 200; i++ {
		ts := []devicequery.Template{g.template()}
		if i%2 == 0 {
			ts = append(ts, devicequery.AllOf(devicequery.Block{Type: "device", Key: "status", Op: "eq", Value: "idle"}, devicequery.Block{Type: "device", Key: "idc", Op: "eq", Value: "a"}))
		}
		p, err := Compile(ts...)
		if err != nil { continue }
		tx, _ := pool.Begin(ctx)
		for _, stmt := range sets { if _, err := tx.Exec(ctx, stmt); err != nil { t.Fatal(err) } }
		rows, err := tx.Query(ctx, "EXPLAIN "+SelectSQL("d.id", p, "", 0), withMode(p.Args)...)
		if err != nil { t.Fatal(err) }
		lines, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, l := range lines {
			for _, ix := range []string{"devices_idle_match", "devices_labels", "devices_taints", "devices_status_idc", "devices_pkey", "devices_cluster_pool", "Seq Scan"} {
				if strings.Contains(l, ix) { used[ix]++ }
			}
		}
		tx.Rollback(ctx)
	}
	fmt.Println(sets, used)
	}
}
