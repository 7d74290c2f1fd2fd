package nodeops

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Previewer computes an order's plan with server-side dry run (shared/nodeexec.Executor).
type Previewer interface {
	Preview(ctx context.Context, orderID int64) (nodeplan.NodeOperations, error)
}

// PreviewHandler serves nodeplan.PreviewPath for the API (the Service is
// cluster-local; the API checks the caller's role before calling). A dry
// run changes nothing, so a repeated call is harmless.
func PreviewHandler(p Previewer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		var req nodeplan.PreviewRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || req.OrderID <= 0 {
			http.Error(w, `want {"orderId": n}`, http.StatusBadRequest)
			return
		}
		res, err := p.Preview(r.Context(), req.OrderID)
		switch {
		case errors.Is(err, postgres.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case errors.Is(err, nodeplan.ErrNotExecutable):
			http.Error(w, err.Error(), http.StatusConflict)
			return
		case err != nil:
			slog.ErrorContext(r.Context(), "nodeops: preview", "order", req.OrderID, "err", err)
			http.Error(w, "preview failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
}
