package clustercred

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"gocloud.dev/secrets/localsecrets"
)

func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestValidate(t *testing.T) {
	ca := testCA(t)
	tests := []struct {
		name     string
		c        Credentials
		endpoint string
		ok       bool
	}{
		{"kubeconfig", Credentials{Kubeconfig: "apiVersion: v1"}, "", true},
		{"token with CA and endpoint", Credentials{Token: "t", CAData: ca}, "https://k:6443", true},
		{"nothing", Credentials{}, "", false},
		{"both", Credentials{Kubeconfig: "x", Token: "t"}, "", false},
		{"token without CA", Credentials{Token: "t"}, "https://k:6443", false},
		{"token without endpoint", Credentials{Token: "t", CAData: ca}, "", false},
		{"CA not PEM", Credentials{Token: "t", CAData: "nope"}, "https://k:6443", false},
		{"token with newline", Credentials{Token: "t\n", CAData: ca}, "https://k:6443", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate(tt.endpoint)
			if got := err == nil; got != tt.ok {
				t.Errorf("got %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	k, _ := localsecrets.NewRandomKey()
	keeper := localsecrets.NewKeeper(k)
	in := Credentials{Token: "very-secret", CAData: "ca"}
	sealed, err := Seal(ctx, keeper, in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("very-secret")) {
		t.Fatal("sealed credentials contain the token in clear")
	}
	got, err := Open(ctx, keeper, sealed)
	if err != nil || got != in {
		t.Fatalf("got %+v, %v; want %+v", got, err, in)
	}
	other, _ := localsecrets.NewRandomKey()
	if _, err := Open(ctx, localsecrets.NewKeeper(other), sealed); err == nil {
		t.Fatal("another key decrypted the credentials")
	}
	if _, err := OpenKeeper(ctx, "base64key://not-base64!!"); err == nil || bytes.Contains([]byte(err.Error()), []byte("not-base64")) {
		t.Fatalf("got %v, want an error that does not echo the key", err)
	}
}
