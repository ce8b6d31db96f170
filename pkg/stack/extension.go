package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// ExtensionKey is the top-level key of the stack file that holds Extension.
const ExtensionKey = "x-rscale"

// Extension is what rscale needs to know beyond the Compose format, under x-rscale: in the
// stack file: init writes it (Extension.YAML, through the stack file's template) and deploy,
// scale and the other commands read it (ReadExtension). A new setting is one field here:
// its key in the mapstructure tag (what compose-go decodes with), and in doc the comment
// written above it. A field is a string, a number, a bool, or a map of them; a zero value is
// not written.
type Extension struct {
	Stack       string            `mapstructure:"stack"`
	MaxReplicas map[string]uint64 `mapstructure:"max_replicas" doc:"haproxy.cfg has room for this many replicas: rscale scale refuses more."`
	Registry    string            `mapstructure:"registry" doc:"rscale deploy pushes the images it builds here, for every node to pull (--registry)."`
}

// ReadExtension decodes the stack file's x-rscale: block; a file without one gives the zero Extension.
func ReadExtension(p *types.Project) (Extension, error) {
	var e Extension
	if _, err := p.Extensions.Get(ExtensionKey, &e); err != nil {
		return Extension{}, fmt.Errorf("%s: %w", ExtensionKey, err)
	}
	return e, nil
}

// YAML writes the block's fields as the lines under x-rscale:, indented by two spaces, each
// with its doc comment above it.
func (e Extension) YAML() (string, error) {
	var b strings.Builder
	v := reflect.ValueOf(e)
	for i := 0; i < v.NumField(); i++ {
		field, value := v.Type().Field(i), v.Field(i)
		key, _, _ := strings.Cut(field.Tag.Get("mapstructure"), ",")
		if key == "" || value.IsZero() {
			continue
		}
		if doc := field.Tag.Get("doc"); doc != "" {
			fmt.Fprintf(&b, "  # %s\n", doc)
		}
		if value.Kind() != reflect.Map {
			s, err := yamlScalar(value)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", ExtensionKey, key, err)
			}
			fmt.Fprintf(&b, "  %s: %s\n", key, s)
			continue
		}
		fmt.Fprintf(&b, "  %s:\n", key)
		keys := value.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			s, err := yamlScalar(value.MapIndex(k))
			if err != nil {
				return "", fmt.Errorf("%s.%s.%s: %w", ExtensionKey, key, k, err)
			}
			fmt.Fprintf(&b, "    %s: %s\n", k.String(), s)
		}
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func yamlScalar(v reflect.Value) (string, error) {
	if v.Kind() == reflect.String {
		return QuoteYAML(v.String())
	}
	out, err := json.Marshal(v.Interface())
	return string(out), err
}

// QuoteYAML quotes a string as a YAML double-quoted scalar (JSON's syntax, which YAML
// accepts), with $ doubled: Compose interpolates $VAR in every value, and $$ is a literal $.
func QuoteYAML(s string) (string, error) {
	s = strings.ReplaceAll(s, "$", "$$")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
