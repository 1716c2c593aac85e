package signalstoretest

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// diff returns "" when got equals want, else both as indented JSON.
func diff(what string, got, want any) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	return fmt.Sprintf("%s differ\n got: %s\nwant: %s", what, g, w)
}
