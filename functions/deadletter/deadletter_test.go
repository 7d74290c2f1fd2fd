package deadletter_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/functions/deadletter"
)

func TestHandleLogsKnativeErrorExtensions(t *testing.T) {
	var buf bytes.Buffer
	f := deadletter.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	e := cloudevents.NewEvent()
	e.SetID("ev-1")
	e.SetType("io.elasticpool.pool.threshold.breached.v1")
	e.SetSource("/elasticpool/evaluate")
	e.SetExtension("knativeerrordest", "http://match.elasticpool.svc.cluster.local")
	e.SetExtension("knativeerrorcode", "422")
	e.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString([]byte("strategy 7 not found")))
	if err := e.SetData(cloudevents.ApplicationJSON, map[string]int{"strategyId": 7}); err != nil {
		t.Fatal(err)
	}

	if err := f.Handle(context.Background(), e); err != nil {
		t.Fatalf("Handle: got %v want nil (a dead letter is always accepted)", err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	want := map[string]any{
		"level": "ERROR", "id": "ev-1", "type": "io.elasticpool.pool.threshold.breached.v1",
		"errorDestination": "http://match.elasticpool.svc.cluster.local", "errorCode": "422",
		"errorData": "strategy 7 not found", "data": `{"strategyId":7}`,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("log %s: got %v want %v", k, got[k], w)
		}
	}
}
