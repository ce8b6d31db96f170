package clidoc

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is where README.md and docs/ live, seen from this package's folder.
const repoRoot = "../.."

func TestCLIReferenceIsCurrent(t *testing.T) {
	fresh := t.TempDir()
	if err := Generate(fresh); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join(repoRoot, "docs", "cli")
	if stale := staleFiles(t, committed, fresh); len(stale) > 0 {
		t.Errorf("docs/cli is not what the commands' help says now; run make docs and commit it. Stale: %s", strings.Join(stale, ", "))
	}
}

// staleFiles names the files that differ between the two folders, or are in only one of them.
func staleFiles(t *testing.T, committed, fresh string) []string {
	t.Helper()
	want, got := readMarkdown(t, fresh), readMarkdown(t, committed)
	var stale []string
	for name, content := range want {
		if have, ok := got[name]; !ok || !bytes.Equal(have, content) {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no such command)")
		}
	}
	sort.Strings(stale)
	return stale
}

func readMarkdown(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

func TestStaleFilesNamesWhatDiffers(t *testing.T) {
	committed, fresh := t.TempDir(), t.TempDir()
	write := func(dir, name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fresh, "same.md", "x")
	write(committed, "same.md", "x")
	write(fresh, "changed.md", "new")
	write(committed, "changed.md", "old")
	write(fresh, "added.md", "y")
	write(committed, "removed.md", "z")
	got := strings.Join(staleFiles(t, committed, fresh), "|")
	if want := "added.md|changed.md|removed.md (no such command)"; got != want {
		t.Errorf("stale files: got %q, want %q", got, want)
	}
}

// markdownLink is the target of a Markdown link: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestRelativeLinksResolve checks that every relative link in README.md and docs/*.md names a
// file that exists, so moving a page breaks a test rather than a reader's click.
func TestRelativeLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(repoRoot, "README.md"))
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
			}
		}
	}
}
