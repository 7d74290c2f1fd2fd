package kube

import (
	"fmt"
	"strconv"

	"k8s.io/client-go/rest"
)

// KubeconfigFor writes a token kubeconfig for cfg (tests and the demo use it
// to register a cluster; insecure only when cfg is, e.g. a loopback test server).
func KubeconfigFor(cfg *rest.Config) string {
	tls := ""
	if cfg.TLSClientConfig.Insecure {
		tls = "\n    insecure-skip-tls-verify: true"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s%s
users:
- name: u
  user:
    token: %s
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`, strconv.Quote(cfg.Host), tls, strconv.Quote(cfg.BearerToken))
}
