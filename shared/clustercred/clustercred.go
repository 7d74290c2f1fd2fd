// Package clustercred holds a cluster's API credentials and seals them with a
// gocloud.dev/secrets keeper (SECRETS_KEEPER_URL: base64key:// locally, a
// KMS or Vault URL in production). It has no Kubernetes dependency, so the
// API can store credentials without linking client-go; shared/kube turns
// them into a client. The keeper driver is blank-imported by cmd/ mains.
package clustercred

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"gocloud.dev/secrets"
)

// Credentials are either a whole kubeconfig (its current context is used) or
// a bearer token with the PEM CA bundle of the cluster's api_endpoint.
type Credentials struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Token      string `json:"token,omitempty"`
	CAData     string `json:"caData,omitempty"`
}

// ErrInvalid marks credentials that can never work (wrong shape).
var ErrInvalid = errors.New("invalid credentials")

// Validate checks the shape only; whether the cluster accepts them is a
// test-connection question. endpoint is the cluster's api_endpoint.
func (c Credentials) Validate(endpoint string) error {
	switch {
	case c.Kubeconfig != "" && (c.Token != "" || c.CAData != ""):
		return fmt.Errorf("%w: give either a kubeconfig or a token with caData, not both", ErrInvalid)
	case c.Kubeconfig != "":
		return nil
	case c.Token == "":
		return fmt.Errorf("%w: a kubeconfig or a token is required", ErrInvalid)
	case c.CAData == "":
		return fmt.Errorf("%w: a token needs caData (the PEM CA of the API server); use a kubeconfig for anything else", ErrInvalid)
	case endpoint == "":
		return fmt.Errorf("%w: a token needs the cluster's apiEndpoint to be set", ErrInvalid)
	case strings.ContainsAny(c.Token, " \t\r\n"):
		return fmt.Errorf("%w: the token contains whitespace", ErrInvalid)
	}
	if !validPEM([]byte(c.CAData)) {
		return fmt.Errorf("%w: caData is not a PEM certificate bundle", ErrInvalid)
	}
	return nil
}

func validPEM(b []byte) bool {
	found := false
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return found
		}
		if blk.Type != "CERTIFICATE" {
			return false
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return false
		}
		found = true
	}
}

// OpenKeeper opens the keeper of a gocloud.dev/secrets URL. The URL scheme's
// driver must be linked (blank import in the main package).
func OpenKeeper(ctx context.Context, url string) (*secrets.Keeper, error) {
	k, err := secrets.OpenKeeper(ctx, url)
	if err != nil {
		// The URL may embed key material (base64key://): never echo it.
		scheme, _, _ := strings.Cut(url, "://")
		return nil, fmt.Errorf("secrets keeper %s://…: %w", scheme, err)
	}
	return k, nil
}

// Seal encrypts c for storage in clusters.credentials.
func Seal(ctx context.Context, k *secrets.Keeper, c Credentials) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out, err := k.Encrypt(ctx, plain)
	if err != nil {
		return nil, fmt.Errorf("encrypt credentials: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal produced.
func Open(ctx context.Context, k *secrets.Keeper, sealed []byte) (Credentials, error) {
	plain, err := k.Decrypt(ctx, sealed)
	if err != nil {
		return Credentials{}, fmt.Errorf("decrypt credentials (was SECRETS_KEEPER_URL changed?): %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return Credentials{}, fmt.Errorf("decode credentials: %w", err)
	}
	return c, nil
}
