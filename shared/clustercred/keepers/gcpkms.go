//go:build kms_gcp

package keepers

import _ "gocloud.dev/secrets/gcpkms" // gcpkms://
