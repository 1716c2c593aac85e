package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import _ "embed"

// openAPIDocument describes every endpoint and answer; tests validate real
// responses against it, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte
