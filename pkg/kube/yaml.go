package kube

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// manifest is the body rscale sends for an object in a server-side apply: the typed object
// without the fields a typed struct always carries and nobody set (a null creationTimestamp,
// an empty status), which would otherwise show in the YAML and be claimed by rscale.
func manifest(obj runtime.Object) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	prune(m)
	return m, nil
}

// prune drops nulls and empty maps, recursively.
func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(x)
			if len(x) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
}

// applyBody is an object as JSON for a server-side apply.
func applyBody(obj runtime.Object) ([]byte, error) {
	m, err := manifest(obj)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// YAML prints objects as a multi-document YAML stream, each with its apiVersion and kind:
// exactly the bodies deploy applies, for `kubectl apply -f` or a GitOps repository.
func YAML(objs []runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for i, obj := range objs {
		m, err := manifest(obj)
		if err != nil {
			return nil, err
		}
		out, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("printing %T: %w", obj, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(out)
	}
	return b.Bytes(), nil
}
