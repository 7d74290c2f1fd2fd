//go:build kms_azure

package keepers

import _ "gocloud.dev/secrets/azurekeyvault" // azurekeyvault://
