package e2e

// End-to-end check of issue 18: the image rscale builds holds none of the project's secret
// files, at any depth, while the API's own files are in /app.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rscale/rscale/internal/testenv"
)

func TestE2EImageHoldsNoSecrets(t *testing.T) {
	testenv.NeedEngine(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is needed: %v", err)
	}
	const stack = "rscale-e2e-leaks"
	dir := filepath.Join(t.TempDir(), "echo")
	if err := os.CopyFS(dir, os.DirFS(testenv.Testdata(t, "projects", "echo"))); err != nil {
		t.Fatal(err)
	}
	secrets := []string{".Renviron", "sub/.env", ".httr-oauth", ".secrets/x", "id_rsa", "sub/.Rhistory", "certs/server.key"}
	for _, name := range append(secrets, "R/helpers.R") {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("GITHUB_PAT=not-for-the-image\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	testenv.MustRscale(t, "init", dir, "--name", stack, "--base-image", testenv.RImage, "--proxy-image", testenv.HAProxyImage, "--dashboard")
	testenv.MustRscale(t, "build", dir)
	image := stack + "/model_server:latest"
	t.Cleanup(func() {
		// build tags the image :latest and with its content's tag: remove both.
		ids, _ := exec.Command("docker", "image", "ls", "--quiet", "--filter", "reference="+stack+"/*").Output()
		for _, id := range slices.Compact(strings.Fields(string(ids))) {
			exec.Command("docker", "rmi", "--force", id).Run()
		}
	})

	out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "find", image, "/app", "-mindepth", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("listing the image's /app: %v\n%s", err, out)
	}
	var inImage []string
	for _, line := range strings.Fields(string(out)) {
		inImage = append(inImage, strings.TrimPrefix(line, "/app/"))
	}
	for _, name := range append(secrets, ".rscale/secrets/dashboard-password", ".rscale/secrets/dashboard-users") {
		if slices.Contains(inImage, name) {
			t.Errorf("the image's /app holds %s", name)
		}
	}
	for _, name := range []string{"plumber.R", "R/helpers.R", ".rscale/launch.R"} {
		if !slices.Contains(inImage, name) {
			t.Errorf("the image's /app lacks %s; it holds %v", name, inImage)
		}
	}
}
