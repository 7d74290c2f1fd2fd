// Command elasticpool is the local all-in-one runner (every function in one
// process, the UI on the same port) and the admin tool (migrate, seed-demo).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: elasticpool <command>

commands:
  run         serve every function, the UI and the local event broker on $PORT (default)
  migrate     apply database migrations and exit
  seed-demo   load demo clusters, pools, devices, snapshots, templates and strategies
  openapi     print the whole API's OpenAPI document (as served at /api/v1/openapi.json)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		slog.Error("elasticpool", "err", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string) error {
	cmd := "run"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "run":
		return run(ctx)
	case "migrate":
		return migrate(ctx)
	case "seed-demo":
		return seedDemo(ctx)
	case "openapi":
		return printOpenAPI(os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
