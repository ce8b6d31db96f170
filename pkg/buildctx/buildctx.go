// Package buildctx makes the context Docker builds an image from: a tar of the project
// folder without the files its .dockerignore excludes, read the way the docker CLI reads it.
package buildctx

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Tar streams the build context of dir. dockerfile is the Dockerfile's path inside dir: it and
// .dockerignore are always sent, as the docker CLI does, whatever .dockerignore says.
func Tar(dir, dockerfile string) (io.ReadCloser, error) {
	matcher, err := readIgnore(dir, dockerfile)
	if err != nil {
		return nil, err
	}
	r, w := io.Pipe()
	go func() {
		w.CloseWithError(write(w, dir, matcher))
	}()
	return r, nil
}

func readIgnore(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return patternmatcher.New(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	patterns = append(patterns, "!"+filepath.ToSlash(filepath.Clean(dockerfile)), "!.dockerignore")
	m, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore has a bad pattern: %w", err)
	}
	return m, nil
}

func write(out io.Writer, dir string, matcher *patternmatcher.PatternMatcher) error {
	tw := tar.NewWriter(out)
	parents := map[string]patternmatcher.MatchInfo{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, info, err := matcher.MatchesUsingParentResults(rel, parents[filepath.ToSlash(filepath.Dir(rel))])
		if err != nil {
			return err
		}
		if d.IsDir() {
			parents[rel] = info
			// A folder can be skipped whole only when no "!" pattern could bring part of it back.
			if excluded && !matcher.Exclusions() {
				return filepath.SkipDir
			}
		}
		if excluded {
			return nil
		}
		return addFile(tw, path, rel, d)
	})
	if err != nil {
		return fmt.Errorf("making the build context of %s: %w", dir, err)
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, path, rel string, d fs.DirEntry) error {
	fi, err := d.Info()
	if err != nil {
		return err
	}
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = rel
	if fi.IsDir() {
		hdr.Name += "/"
	}
	// Owner and names of the user who ran rscale must not leak into the image.
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
