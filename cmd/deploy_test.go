package cmd

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rscale/rscale/internal/fakeengine"
)

// folderDigest is a digest of every file and folder under dir: names, modes and contents.
func folderDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %s %d\n", path, info.Mode(), info.Size())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// deploy --dry-run prints what deploy would apply and writes nothing, on every engine.
func TestDeployDryRunWritesNothing(t *testing.T) {
	t.Setenv(fakeengine.EnvCluster, filepath.Join(t.TempDir(), "cluster.json"))
	for _, target := range []string{"swarm", "kubernetes", "fake"} {
		dir := t.TempDir()
		api := filepath.Join(dir, "api")
		if err := os.MkdirAll(api, 0o755); err != nil {
			t.Fatal(err)
		}
		writeAPI(t, api, "#* @get /echo\nfunction() \"hi\"\n")
		var out, errOut bytes.Buffer
		env := Env{Streams: Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}}
		if code := RunEnv(env, []string{"init", api, "--proxy", "haproxy", "--target", target}); code != 0 {
			t.Fatalf("init --target %s: exit %d\n%s", target, code, errOut.String())
		}
		// A new package, which deploy's refresh of the generated files would act on.
		writeAPI(t, api, "library(jsonlite)\n#* @get /echo\nfunction() \"hi\"\n")
		before := folderDigest(t, dir)
		for _, format := range []string{"yaml", "json"} {
			out.Reset()
			errOut.Reset()
			if code := RunEnv(env, []string{"deploy", api, "--dry-run", "-o", format}); code != 0 {
				t.Errorf("deploy --dry-run -o %s on %s: exit %d\n%s", format, target, code, errOut.String())
				continue
			}
			if out.Len() == 0 {
				t.Errorf("deploy --dry-run -o %s on %s printed nothing", format, target)
			}
			if after := folderDigest(t, dir); after != before {
				t.Errorf("deploy --dry-run -o %s on %s changed the folder", format, target)
			}
		}
	}
}

func writeAPI(t *testing.T, dir, code string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "plumber.R"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
}
