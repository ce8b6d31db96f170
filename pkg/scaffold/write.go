package scaffold

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManifestPath is where init records what it wrote, relative to the project folder. A
// generated file whose content still has the recorded checksum is rscale's, and a later
// init may rewrite it; one whose content differs was edited, and is the user's.
const ManifestPath = ".rscale/manifest.json"

// NewSuffix names the file beside a user's edited file that holds rscale's new version.
const NewSuffix = ".rscale-new"

// Manifest is what init wrote, and with which flags.
type Manifest struct {
	Version string            `json:"version"`         // rscale's version that wrote the files
	Flags   map[string]string `json:"flags,omitempty"` // init's flags as the user gave them, replayed on a refresh
	Files   []ManifestFile    `json:"files"`
}

// ManifestFile is one generated file and the checksum of the content rscale wrote.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ReadManifest reads dir's manifest; a folder init never wrote one into gives nil and no error.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ManifestPath, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): delete it, and run rscale init --force to rewrite every generated file", ManifestPath, err)
	}
	return &m, nil
}

func (m *Manifest) checksum(path string) string {
	if m == nil {
		return ""
	}
	for _, f := range m.Files {
		if f.Path == path {
			return f.SHA256
		}
	}
	return ""
}

// Action is what Write did with one file.
type Action string

const (
	Created     Action = "created"     // it did not exist
	Updated     Action = "updated"     // rscale's, unedited, and its new version differs
	Unchanged   Action = "unchanged"   // already what rscale renders now
	Kept        Action = "kept"        // edited by the user: kept, rscale's version written beside it
	Overwritten Action = "overwritten" // edited by the user, replaced by rscale's (--force)
)

// Outcome is what Write did with one file.
type Outcome struct {
	Path   string
	Action Action
}

// WriteOptions say how Write treats files that exist.
type WriteOptions struct {
	Force   bool              // replace the user's edits too
	Version string            // rscale's, recorded in the manifest
	Flags   map[string]string // init's flags, recorded in the manifest
}

// change is one file Write replaces or creates.
type change struct {
	path    string // relative to the project folder
	data    []byte
	old     []byte // content before, to restore on a failure
	existed bool
	mode    fs.FileMode
	temp    string // absolute path of the new content, until renamed into place
}

// rename is os.Rename; a test makes it fail part-way.
var rename = os.Rename

// Write writes the generated files under dir and records them in the manifest. A file that
// is missing is created; one that is rscale's (unedited since rscale wrote it) is updated;
// one the user edited is kept, with rscale's version written beside it as <path>.rscale-new,
// unless o.Force. It checks everything before it writes anything, writes each file to a
// temporary file in its folder, then renames them all into place; if a rename fails, it
// puts back what it had replaced, so the folder is as it was.
func Write(dir string, files []File, o WriteOptions) ([]Outcome, error) {
	old, err := ReadManifest(dir)
	if err != nil && !o.Force {
		return nil, err
	}
	next := Manifest{Version: o.Version, Flags: o.Flags}
	var changes []*change
	var outcomes []Outcome
	for _, f := range files {
		c, err := inspect(dir, f.Path)
		if err != nil {
			return nil, err
		}
		sum := checksum(f.Data)
		switch {
		case !c.existed:
			outcomes = append(outcomes, Outcome{f.Path, Created})
		case bytes.Equal(c.old, f.Data):
			outcomes = append(outcomes, Outcome{f.Path, Unchanged})
			next.Files = append(next.Files, ManifestFile{f.Path, sum})
			continue
		case checksum(c.old) == old.checksum(f.Path):
			outcomes = append(outcomes, Outcome{f.Path, Updated})
		case o.Force:
			outcomes = append(outcomes, Outcome{f.Path, Overwritten})
		default:
			outcomes = append(outcomes, Outcome{f.Path, Kept})
			if prev := old.checksum(f.Path); prev != "" {
				next.Files = append(next.Files, ManifestFile{f.Path, prev})
			}
			beside, err := inspect(dir, f.Path+NewSuffix)
			if err != nil {
				return nil, err
			}
			if !beside.existed || !bytes.Equal(beside.old, f.Data) {
				beside.data = f.Data
				changes = append(changes, beside)
			}
			continue
		}
		c.data = f.Data
		changes = append(changes, c)
		next.Files = append(next.Files, ManifestFile{f.Path, sum})
	}

	sort.Slice(next.Files, func(i, j int) bool { return next.Files[i].Path < next.Files[j].Path })
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	m, err := inspect(dir, ManifestPath)
	if err != nil {
		return nil, err
	}
	if !m.existed || !bytes.Equal(m.old, data) {
		m.data = data
		changes = append(changes, m)
	}
	return outcomes, apply(dir, changes)
}

// inspect reads what is at path now, and refuses a path rscale cannot write a file to.
func inspect(dir, path string) (*change, error) {
	c := &change{path: path, mode: 0o644}
	// Every folder on the way must be a folder, or missing.
	for parent := filepath.Dir(path); parent != "."; parent = filepath.Dir(parent) {
		info, err := os.Stat(filepath.Join(dir, parent))
		if err == nil && !info.IsDir() {
			return nil, fmt.Errorf("%s is a file, and rscale writes %s inside a folder of that name: rename or remove the file, then run rscale init again", parent, path)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checking %s: %w", parent, err)
		}
	}
	full := filepath.Join(dir, path)
	info, err := os.Stat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a folder, and rscale writes a file of that name: rename or remove the folder, then run rscale init again (nothing was written)", path)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: remove it, then run rscale init again (nothing was written)", path)
	}
	if c.old, err = os.ReadFile(full); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	c.existed, c.mode = true, info.Mode().Perm()
	return c, nil
}

// apply writes every change to a temporary file beside its target, then renames them all
// into place. On a failure it removes what it created and puts back what it replaced.
func apply(dir string, changes []*change) (err error) {
	var made []string // folders created, deepest last
	defer func() {
		if err == nil {
			return
		}
		for _, c := range changes {
			if c.temp != "" {
				os.Remove(c.temp)
			}
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only if empty: a folder that holds something stays
		}
	}()
	for _, c := range changes {
		full := filepath.Join(dir, c.path)
		made = append(made, missingFolders(filepath.Dir(full))...)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w (nothing was changed)", c.path, err)
		}
		if c.temp, err = writeTemp(full, c.data, c.mode); err != nil {
			return fmt.Errorf("writing %s: %w (nothing was changed)", c.path, err)
		}
	}
	for i, c := range changes {
		if err := rename(c.temp, filepath.Join(dir, c.path)); err != nil {
			failed := restore(dir, changes[:i])
			if len(failed) > 0 {
				return fmt.Errorf("writing %s: %w; could not put back %s", c.path, err, strings.Join(failed, ", "))
			}
			return fmt.Errorf("writing %s: %w (every file was put back as it was)", c.path, err)
		}
		c.temp = ""
	}
	return nil
}

// restore undoes the renames of changes: files that existed get their old content back,
// new ones are removed. It returns the paths it could not restore.
func restore(dir string, changes []*change) []string {
	var failed []string
	for _, c := range changes {
		full := filepath.Join(dir, c.path)
		if !c.existed {
			if err := os.Remove(full); err != nil {
				failed = append(failed, c.path)
			}
			continue
		}
		temp, err := writeTemp(full, c.old, c.mode)
		if err == nil {
			if err = os.Rename(temp, full); err != nil {
				os.Remove(temp)
			}
		}
		if err != nil {
			failed = append(failed, c.path)
		}
	}
	return failed
}

// writeTemp writes data to a new temporary file in path's folder and returns its name.
func writeTemp(path string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".rscale-tmp-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// missingFolders lists the folders MkdirAll would create for dir, outermost first.
func missingFolders(dir string) []string {
	var missing []string
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			break
		}
		missing = append([]string{dir}, missing...)
	}
	return missing
}

func checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
