package buildctx

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rscale/rscale/pkg/project"
	"github.com/rscale/rscale/pkg/scaffold"
)

// The .dockerignore init writes keeps the usual secret files out of the build context, in
// every folder, as Docker reads it; the API's own files go in.
func TestGeneratedDockerignoreKeepsSecretsOut(t *testing.T) {
	secrets := []string{
		".Renviron", "sub/.Renviron", ".env", "sub/.env", "sub/.env.production", ".httr-oauth",
		"R/.httr-oauth", ".secrets/gargle-token", "sub/.secrets/x", "id_rsa", "keys/id_ed25519.pub",
		"certs/server.pem", "certs/server.key", ".netrc", "sub/.Rhistory", ".Rhistory", ".RData",
		"client_secret_123.json", ".ssh/config", "sub/.git/HEAD", ".rscale/secrets/dashboard-users",
		".rscale/secrets/dashboard-password", "plumber.R.rscale-new",
	}
	kept := []string{"plumber.R", "R/functions.R", "data/model.rds", ".rscale/launch.R", "Dockerfile", ".dockerignore", ".Rprofile"}
	files := map[string]string{"plumber.R": "#* @get /\nfunction() 1\n"}
	for _, name := range append(secrets, kept...) {
		if files[name] == "" {
			files[name] = "secret or not"
		}
	}
	dir := writeFiles(t, files)
	writeGenerated(t, dir)

	names := tarNames(t, dir)
	for _, name := range secrets {
		if slices.Contains(names, name) {
			t.Errorf("the build context holds %s", name)
		}
	}
	for _, name := range kept {
		if !slices.Contains(names, name) {
			t.Errorf("the build context lacks %s", name)
		}
	}
}

// writeGenerated writes what init renders for dir over it.
func writeGenerated(t *testing.T, dir string) {
	t.Helper()
	p, err := project.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := scaffold.Render(p, scaffold.DefaultOptions(), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rendered {
		if f.Path == ".dockerignore" {
			if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("init renders no .dockerignore")
}
