package buildctx

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func tarNames(t *testing.T, dir string) []string {
	t.Helper()
	r, err := Tar(dir, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Uname != "" {
			t.Errorf("%s carries the owner %d/%q", hdr.Name, hdr.Uid, hdr.Uname)
		}
		if hdr.Typeflag == tar.TypeReg {
			names = append(names, hdr.Name)
		}
	}
	sort.Strings(names)
	return names
}

func writeFiles(t *testing.T, files map[string]string) string {
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

func TestTarHonoursDockerignore(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		".dockerignore":       ".git\nrenv/library\n*.log\nDockerfile\ndata/*\n!data/keep.csv\n",
		"Dockerfile":          "FROM scratch\n",
		"plumber.R":           "#* @get /\nfunction() 1\n",
		".git/HEAD":           "ref",
		"renv/library/x/DESC": "x",
		"renv/activate.R":     "# renv",
		"debug.log":           "noise",
		"data/big.csv":        "1,2",
		"data/keep.csv":       "3,4",
		".rscale/launch.R":    "# launcher",
		"sub/dir/notes.log":   "noise",
		"sub/dir/functions.R": "f <- function() 1",
	})
	got := strings.Join(tarNames(t, dir), " ")
	want := ".dockerignore .rscale/launch.R Dockerfile data/keep.csv plumber.R renv/activate.R sub/dir/functions.R sub/dir/notes.log"
	if got != want {
		t.Errorf("context holds\n %s\nwant\n %s", got, want)
	}
}

func TestTarWithoutDockerignoreSendsEverything(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n", "a/b.R": "1"})
	if got := strings.Join(tarNames(t, dir), " "); got != "Dockerfile a/b.R" {
		t.Errorf("context holds %s", got)
	}
}

func TestTarKeepsFileContent(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n", "plumber.R": "hello"})
	r, err := Tar(dir, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatal("plumber.R not found in the context")
		}
		if hdr.Name == "plumber.R" {
			b, _ := io.ReadAll(tr)
			if string(b) != "hello" {
				t.Errorf("plumber.R holds %q", b)
			}
			return
		}
	}
}
