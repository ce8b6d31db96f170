package cmd

import (
	"encoding/json"
	"io"
)

// writeJSON prints v as indented JSON, as -o json does everywhere: with '<', '>' and '&'
// as they are ("8080->80/tcp"), since it is read by people and by jq, not embedded in HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
