//go:build kms_aws

package keepers

import _ "gocloud.dev/secrets/awskms" // awskms://
