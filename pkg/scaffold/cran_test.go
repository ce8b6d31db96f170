package scaffold

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCRAN(t *testing.T) {
	for _, ok := range []string{"", "2024-06-03", "https://cloud.r-project.org", "http://mirror.local/cran"} {
		if err := checkCRAN(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{"2024-13-01": "is not a date", "ftp://x/cran": "give the URL", "cran": "give the URL"} {
		if err := checkCRAN(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", bad, err, want)
		}
	}
}

// A URL with credentials is refused, malformed or not, and the message never quotes them.
func TestCheckCRANRefusesCredentials(t *testing.T) {
	for _, bad := range []string{
		"https://user:TOKEN@cran.example.org/",
		"https://TOKEN@cran.example.org",
		"ftp://user:TOKEN@cran.example.org",
		"https://user:TO%ZZKEN@cran.example.org/latest",
		"user:TOKEN@cran.example.org",
	} {
		err := checkCRAN(bad)
		if err == nil || !strings.Contains(err.Error(), "holds a user name and password") || !strings.Contains(err.Error(), "not supported yet") {
			t.Errorf("%q: %v, want the credentials refused", bad, err)
		}
		if err != nil && (strings.Contains(err.Error(), "TOKEN") || strings.Contains(err.Error(), "TO%ZZKEN")) {
			t.Errorf("%q: the message quotes the token: %v", bad, err)
		}
	}
	for _, bad := range []string{"https://cran.example.org/?token=TOKEN", "https://cran.example.org/#TOKEN"} {
		if err := checkCRAN(bad); err == nil || !strings.Contains(err.Error(), "has a query") || strings.Contains(err.Error(), "TOKEN") {
			t.Errorf("%q: %v, want it refused without quoting it", bad, err)
		}
	}
	// An @ in the path is no credential.
	if err := checkCRAN("https://cran.example.org/team@home/"); err != nil {
		t.Errorf("an @ in the path: %v", err)
	}
}

func file(t *testing.T, files []File, path string) string {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			return string(f.Data)
		}
	}
	t.Fatalf("no %s rendered", path)
	return ""
}

// The build restores renv.lock with the renv it records, from the build's repository (renv's
// override), and keeps .env out of the image.
func TestRenvBuildUsesTheBuildsRepository(t *testing.T) {
	p := loadProject(t, filepath.Join("..", "..", "testdata", "projects", "renv"))
	o := DefaultOptions()
	o.CRAN = "2024-06-03"
	files, err := Render(p, o, "test")
	if err != nil {
		t.Fatal(err)
	}
	install := file(t, files, ".rscale/install.R")
	for _, want := range []string{`cran <- "2024-06-03"`, `renv_version <- "1.0.3"`, "options(renv.config.repos.override = getOption(\"repos\"))\nlog(\"restoring renv.lock"} {
		if !strings.Contains(install, want) {
			t.Errorf("install.R lacks %q", want)
		}
	}
	if !strings.Contains(file(t, files, ".dockerignore"), "\n**/.env\n") {
		t.Error(".dockerignore lets .env into the image")
	}
}
