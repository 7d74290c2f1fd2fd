//go:build tools

// Package tools pins modules that several packages are about to use, so
// parallel work never races on go.mod. It is never built.
package tools

import (
	_ "github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	_ "github.com/cloudevents/sdk-go/v2"
	_ "github.com/danielgtaylor/huma/v2"
	_ "github.com/emersion/go-smtp"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/robfig/cron/v3"
	_ "github.com/sethvargo/go-envconfig"
	_ "github.com/wneessen/go-mail"
	_ "gocloud.dev/pubsub/mempubsub"
	_ "gocloud.dev/secrets/localsecrets"
	_ "k8s.io/client-go/kubernetes"
)
