package main

import (
	"context"
	"fmt"
	"time"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/devicequery/pgquery"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

func main() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/elasticpool_bench?sslmode=disable", 1)
	if err != nil { panic(err) }
	t, _ := devicequery.Parse([]byte(`{"groups":[{"blocks":[{"type":"nodeLabel","key":"gpu","op":"exists"}]}]}`))
	p, _ := pgquery.Compile(t)
	kinds := map[pgquery.CountKind]int{}
	fails := 0
	for i := 0; i < 300; i++ {
		budget := time.Duration(20+(i%60)*6) * time.Millisecond
		c, err := pgquery.CountMatches(ctx, db, p, pgquery.CountOptions{Budget: budget, Sample: 10})
		if err != nil { fmt.Println("count err:", err); fails++; continue }
		kinds[c.Kind]++
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM devices LIMIT 2000) s").Scan(&n); err != nil {
			fmt.Println("follow-up err:", err); fails++
		}
	}
	fmt.Println(kinds, "fails", fails)
}
