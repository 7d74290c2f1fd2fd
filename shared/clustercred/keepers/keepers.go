// Package keepers links the gocloud.dev/secrets drivers a function can open
// SECRETS_KEEPER_URL with. base64key:// (localsecrets) is always linked; a
// cloud KMS driver is linked by a build tag, so an image carries only the
// one its platform uses (docs/deploy.md, "Secrets keeper"):
//
//	kms_gcp    gcpkms://projects/…/cryptoKeys/…
//	kms_aws    awskms://<key id or alias>?region=…
//	kms_azure  azurekeyvault://<vault>.vault.azure.net/keys/<key>
//
// Build with e.g. GOFLAGS=-tags=kms_gcp (make images honours GOFLAGS).
package keepers

import (
	_ "gocloud.dev/secrets/localsecrets" // base64key://
)
