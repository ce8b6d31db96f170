package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// snapshot is every file under dir with its content, the manifest included.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func mustWrite(t *testing.T, dir string, files []File, o WriteOptions) map[string]Action {
	t.Helper()
	outcomes, err := Write(dir, files, o)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]Action{}
	for _, o := range outcomes {
		actions[o.Path] = o.Action
	}
	return actions
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefreshesRscalesFilesAndKeepsTheUsers(t *testing.T) {
	dir := t.TempDir()
	v1 := []File{{"Dockerfile", []byte("FROM r 1\n")}, {".rscale/launch.R", []byte("launch 1\n")}, {"rscale.yml", []byte("stack 1\n")}}
	if got, want := mustWrite(t, dir, v1, WriteOptions{Version: "v1"}), map[string]Action{
		"Dockerfile": Created, ".rscale/launch.R": Created, "rscale.yml": Created,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("first init: %v, want %v", got, want)
	}
	m, err := ReadManifest(dir)
	if err != nil || m == nil || m.Version != "v1" || len(m.Files) != 3 || m.checksum("rscale.yml") != checksum([]byte("stack 1\n")) {
		t.Fatalf("manifest after the first init: %+v, %v", m, err)
	}

	// The user edits the stack file; rscale's next version changes it and the Dockerfile.
	writeFile(t, filepath.Join(dir, "rscale.yml"), "stack 1, with my edit\n")
	v2 := []File{{"Dockerfile", []byte("FROM r 2\n")}, {".rscale/launch.R", []byte("launch 1\n")}, {"rscale.yml", []byte("stack 2\n")}}
	if got, want := mustWrite(t, dir, v2, WriteOptions{Version: "v2"}), map[string]Action{
		"Dockerfile": Updated, ".rscale/launch.R": Unchanged, "rscale.yml": Kept,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("refresh: %v, want %v", got, want)
	}
	files := snapshot(t, dir)
	if files["Dockerfile"] != "FROM r 2\n" || files["rscale.yml"] != "stack 1, with my edit\n" || files["rscale.yml"+NewSuffix] != "stack 2\n" {
		t.Errorf("after the refresh: %q", files)
	}

	// Again: nothing changes, not even the manifest or the file beside the user's.
	before := snapshot(t, dir)
	if got := mustWrite(t, dir, v2, WriteOptions{Version: "v2"}); got["rscale.yml"] != Kept || got["Dockerfile"] != Unchanged {
		t.Errorf("second refresh: %v", got)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("a refresh with nothing new changed files:\n%q\n%q", before, after)
	}

	// The user takes rscale's version by hand: the file is rscale's again.
	writeFile(t, filepath.Join(dir, "rscale.yml"), "stack 2\n")
	mustWrite(t, dir, v2, WriteOptions{Version: "v2"})
	v3 := []File{{"Dockerfile", []byte("FROM r 2\n")}, {".rscale/launch.R", []byte("launch 1\n")}, {"rscale.yml", []byte("stack 3\n")}}
	if got := mustWrite(t, dir, v3, WriteOptions{Version: "v3"}); got["rscale.yml"] != Updated {
		t.Errorf("a file the user made rscale's again: %v", got)
	}

	// --force takes rscale's version over an edit.
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM mine\n")
	if got := mustWrite(t, dir, v1, WriteOptions{Version: "v1", Force: true}); got["Dockerfile"] != Overwritten || got["rscale.yml"] != Updated {
		t.Errorf("--force: %v", got)
	}
	if files := snapshot(t, dir); files["Dockerfile"] != "FROM r 1\n" || files["rscale.yml"] != "stack 1\n" {
		t.Errorf("after --force: %q", files)
	}
}

func TestWriteKeepsFilesItNeverWrote(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "# my own Dockerfile\n")
	got := mustWrite(t, dir, []File{{"Dockerfile", []byte("FROM r\n")}, {"rscale.yml", []byte("stack\n")}}, WriteOptions{})
	if got["Dockerfile"] != Kept || got["rscale.yml"] != Created {
		t.Errorf("init in a folder with its own Dockerfile: %v", got)
	}
	if files := snapshot(t, dir); files["Dockerfile"] != "# my own Dockerfile\n" || files["Dockerfile"+NewSuffix] != "FROM r\n" {
		t.Errorf("files: %q", files)
	}
}

func TestWriteRefusesAFolderBeforeWritingAnything(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "mine\n")
	if err := os.Mkdir(filepath.Join(dir, "rscale.yml"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	files := []File{{"Dockerfile", []byte("FROM r\n")}, {".rscale/launch.R", []byte("launch\n")}, {"rscale.yml", []byte("stack\n")}}
	for _, force := range []bool{false, true} {
		_, err := Write(dir, files, WriteOptions{Force: force})
		if err == nil || !strings.Contains(err.Error(), "rscale.yml is a folder") || !strings.Contains(err.Error(), "rename or remove") {
			t.Errorf("force=%v: Write = %v, want a refusal naming the folder", force, err)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
			t.Errorf("force=%v: the refused init changed files: %q, then %q", force, before, after)
		}
		if _, err := os.Stat(filepath.Join(dir, ".rscale")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("force=%v: the refused init made .rscale: %v", force, err)
		}
	}

	// A file where rscale needs a folder.
	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, ".rscale"), "not a folder\n")
	if _, err := Write(dir, files, WriteOptions{Force: true}); err == nil || !strings.Contains(err.Error(), ".rscale is a file") {
		t.Errorf("Write = %v, want a refusal naming .rscale", err)
	}
	if files := snapshot(t, dir); len(files) != 1 {
		t.Errorf("the refused init wrote %q", files)
	}
}

func TestWritePutsBackWhatItReplacedWhenARenameFails(t *testing.T) {
	dir := t.TempDir()
	v1 := []File{{"Dockerfile", []byte("FROM r 1\n")}, {"rscale.yml", []byte("stack 1\n")}, {"haproxy.cfg", []byte("cfg 1\n")}}
	mustWrite(t, dir, v1, WriteOptions{Version: "v1"})
	if err := os.Remove(filepath.Join(dir, "haproxy.cfg")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	calls := 0
	rename = func(from, to string) error {
		if calls++; calls == 3 {
			return errors.New("disk full")
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()
	v2 := []File{{"Dockerfile", []byte("FROM r 2\n")}, {"rscale.yml", []byte("stack 2\n")}, {"haproxy.cfg", []byte("cfg 2\n")}, {".rscale/launch.R", []byte("launch\n")}}
	_, err := Write(dir, v2, WriteOptions{Version: "v2", Force: true})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "put back") {
		t.Fatalf("Write = %v, want the failure and that the files were put back", err)
	}
	if calls != 3 {
		t.Errorf("%d renames, want 3: the failure stops the rest", calls)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("a failed init left the folder changed:\nbefore %q\nafter  %q", before, after)
	}
}
