package stack

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// What init writes under x-rscale: is what deploy and scale read back.
func TestExtensionRoundTrip(t *testing.T) {
	want := Extension{Stack: "demo", MaxReplicas: map[string]uint64{"model_server": 100, "other": 3}}
	block, err := want.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if wantBlock := "  stack: \"demo\"\n  # haproxy.cfg has room for this many replicas: rscale scale refuses more.\n  max_replicas:\n    model_server: 100\n    other: 3"; block != wantBlock {
		t.Errorf("YAML:\n%s\nwant:\n%s", block, wantBlock)
	}
	file := filepath.Join(t.TempDir(), "rscale.yml")
	stackFile := "x-rscale:\n" + block + "\nservices:\n  model_server:\n    image: demo/api\n"
	if err := os.WriteFile(file, []byte(stackFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), file, "rscale")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadExtension(p)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, %v; want %+v", got, err, want)
	}
	if block, _ := (Extension{Stack: "a$b"}).YAML(); block != `  stack: "a$$b"` {
		t.Errorf("a $ must be doubled for Compose's interpolation: %s", block)
	}
}

func TestExtensionMistyped(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rscale.yml")
	if err := os.WriteFile(file, []byte("x-rscale:\n  max_replicas: lots\nservices:\n  api:\n    image: demo/api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(context.Background(), file, ""); err == nil {
		t.Error("max_replicas: lots was accepted")
	}
}
