// Package kube talks to the member clusters: a client from stored
// credentials, the snapshot collector's listing and arithmetic, and the node
// operations orders perform. It uses only the core/v1 and policy/v1 typed
// clients (not the whole clientset) to keep the function binaries lean.
// The arithmetic lives in pure functions (resources.go) with table tests.
package kube

import (
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/elasticpool/elasticpool/shared/clustercred"
)

// RequestTimeout bounds each API request; a hung cluster costs seconds.
const RequestTimeout = 30 * time.Second

// RESTConfig builds a client configuration from a cluster's api_endpoint and
// decrypted credentials. A kubeconfig's own server wins when endpoint is
// empty; otherwise endpoint overrides it, so the registry stays the one place
// that says where a cluster is.
func RESTConfig(endpoint string, c clustercred.Credentials) (*rest.Config, error) {
	if err := c.Validate(endpoint); err != nil {
		return nil, err
	}
	var cfg *rest.Config
	if c.Kubeconfig != "" {
		var err error
		cfg, err = clientcmd.RESTConfigFromKubeConfig([]byte(c.Kubeconfig))
		if err != nil {
			return nil, fmt.Errorf("%w: kubeconfig: %v", clustercred.ErrInvalid, err)
		}
		if endpoint != "" {
			cfg.Host = endpoint
		}
	} else {
		cfg = &rest.Config{
			Host:            endpoint,
			BearerToken:     c.Token,
			TLSClientConfig: rest.TLSClientConfig{CAData: []byte(c.CAData)},
		}
	}
	cfg.Timeout = RequestTimeout
	cfg.UserAgent = "elasticpool"
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cfg, nil
}
