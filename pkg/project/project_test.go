package project

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func projectDir(name string) string {
	return filepath.Join("..", "..", "testdata", "projects", name)
}

// writeProject makes a project from file name → content.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const helloAPI = "#* @get /hello\nfunction() 'hi'\n"

func TestLoadTestdataProjects(t *testing.T) {
	tests := []struct {
		project    string
		entrypoint string
		packages   []string
		rVersion   string
		endpoints  int
	}{
		{"echo", "plumber.R", []string{"plumber"}, DefaultRVersion, 3},
		{"randomforest", "plumber.R", []string{"plumber", "randomForest"}, DefaultRVersion, 3},
		{"mounted", "entrypoint.R", []string{"jsonlite", "plumber"}, DefaultRVersion, 5},
		{"renv", "plumber.R", []string{"jsonlite", "plumber", "renv"}, "4.3.2", 2},
		{"description", "plumber.R", []string{"data.table", "plumber", "xml2"}, DefaultRVersion, 1},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			p, err := Load(projectDir(tt.project), "")
			if err != nil {
				t.Fatal(err)
			}
			if p.API.Entrypoint != tt.entrypoint {
				t.Errorf("entrypoint %s, want %s", p.API.Entrypoint, tt.entrypoint)
			}
			if !reflect.DeepEqual(p.Packages, tt.packages) {
				t.Errorf("packages %v, want %v", p.Packages, tt.packages)
			}
			if p.RVersion != tt.rVersion {
				t.Errorf("R %s (%s), want %s", p.RVersion, p.RVersionSource, tt.rVersion)
			}
			if len(p.API.Endpoints) != tt.endpoints {
				t.Errorf("%d endpoints, want %d: %+v", len(p.API.Endpoints), tt.endpoints, p.API.Endpoints)
			}
			if len(p.Warnings) != 0 {
				t.Errorf("unexpected warnings: %v", p.Warnings)
			}
		})
	}
}

func TestRVersionPrecedence(t *testing.T) {
	lock := `{"R": {"Version": "4.3.2"}, "Packages": {"plumber": {"Package": "plumber", "Version": "1.2.1"}}}`
	description := func(minimum string) string {
		return "Package: api\nVersion: 1.0\nDepends: R (>= " + minimum + ")\n"
	}
	tests := []struct {
		name      string
		files     map[string]string
		flag      string
		want      string
		source    string
		warnMatch string
	}{
		{"default", map[string]string{}, "", DefaultRVersion, "default", ""},
		{"flag wins over everything", map[string]string{"renv.lock": lock, "DESCRIPTION": description("4.1.0")}, "4.4.1", "4.4.1", "--r-version", ""},
		{"renv.lock wins over DESCRIPTION", map[string]string{"renv.lock": lock, "DESCRIPTION": description("4.1.0")}, "", "4.3.2", "renv.lock", ""},
		{"DESCRIPTION minimum met by the default", map[string]string{"DESCRIPTION": description("4.1.0")}, "", DefaultRVersion, "satisfies DESCRIPTION's R (>= 4.1.0)", ""},
		{"DESCRIPTION minimum above the default", map[string]string{"DESCRIPTION": description("9.1")}, "", "9.1.0", "minimum DESCRIPTION", ""},
		{"flag below DESCRIPTION minimum warns", map[string]string{"DESCRIPTION": description("4.3.0")}, "4.2.0", "4.2.0", "--r-version", "older than the R (>= 4.3.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["plumber.R"] = helloAPI
			p, err := Load(writeProject(t, tt.files), tt.flag)
			if err != nil {
				t.Fatal(err)
			}
			if p.RVersion != tt.want || !strings.Contains(p.RVersionSource, tt.source) {
				t.Errorf("R %s (%s), want %s (%s)", p.RVersion, p.RVersionSource, tt.want, tt.source)
			}
			warnings := strings.Join(p.Warnings, "\n")
			if tt.warnMatch != "" && !strings.Contains(warnings, tt.warnMatch) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.warnMatch)
			}
		})
	}
}

func TestRenvLockDecidesPackagesAndWarnsAboutUnlocked(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"plumber.R": "library(dplyr)\nlibrary(jsonlite)\n" + helloAPI,
		"renv.lock": `{"R": {"Version": "4.3.2"}, "Packages": {"jsonlite": {"Package": "jsonlite", "Version": "1.8.8"}}}`,
	})
	p, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jsonlite", "plumber"}; !reflect.DeepEqual(p.Packages, want) {
		t.Errorf("packages %v, want %v (the lockfile's, plus plumber)", p.Packages, want)
	}
	warnings := strings.Join(p.Warnings, "\n")
	for _, want := range []string{"dplyr, which renv.lock does not record", "renv::snapshot()", "does not record plumber"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings %q lack %q", warnings, want)
		}
	}
}

func TestNoEndpointsIsAWarning(t *testing.T) {
	p, err := Load(writeProject(t, map[string]string{"plumber.R": "x <- 1\n"}), "")
	if err != nil {
		t.Fatalf("an API with no endpoints must load: %v", err)
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "defines no endpoints") {
		t.Errorf("warnings %v, want one about no endpoints", p.Warnings)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badLock := writeProject(t, map[string]string{"plumber.R": helloAPI, "renv.lock": "{not json"})
	tests := []struct {
		dir, flag, want string
	}{
		{empty, "", "no Plumber API in " + empty + ": expected plumber.R or entrypoint.R"},
		{filepath.Join(empty, "nope"), "", "does not exist"},
		{file, "", "is a file, not a folder"},
		{badLock, "", "renv::snapshot()"},
		{projectDir("echo"), "four", "not an R version"},
	}
	for _, tt := range tests {
		_, err := Load(tt.dir, tt.flag)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s, %q) = %v, want an error containing %q", tt.dir, tt.flag, err, tt.want)
		}
	}
}
