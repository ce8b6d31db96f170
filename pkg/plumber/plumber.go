// Package plumber reads an R Plumber API folder without running R: it finds the
// entrypoint plumber would use and lists every endpoint and static folder the API
// serves, so that a reverse proxy can route exactly those paths.
//
// plumber.R files are read through their #* annotations. entrypoint.R files are
// R code that builds a router; they are read with the rlex tokenizer and a small
// evaluator that follows plumb(), pr(), mounts, programmatic routes and variables.
package plumber

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Endpoint is one route of the API.
type Endpoint struct {
	Method     string // upper case: GET POST PUT DELETE HEAD OPTIONS PATCH, or "USE" for @use (any method)
	Path       string // full path including any mount prefix, e.g. "/users/<id:int>"; always starts with "/"
	Serializer string // e.g. "json", "png", "unboxedJSON", "html"; "" when the block names none (plumber then uses json)
	File       string // slash-separated path relative to the API directory, e.g. "api/users.R"
	Line       int    // 1-based line of the verb annotation, or of the call that adds the route
}

// StaticMount is a folder served by @assets or pr_static, which the proxy must route by prefix.
type StaticMount struct {
	Prefix string // URL prefix, always starting with "/"
	Dir    string // the folder as written in the R code
	File   string // slash-separated path relative to the API directory
	Line   int
}

// API is everything the proxy needs to know about a Plumber API folder.
type API struct {
	Dir        string        // the directory given
	Entrypoint string        // "entrypoint.R" or "plumber.R", spelled as on disk
	Endpoints  []Endpoint    // sorted by Path, then Method, then File, then Line
	Statics    []StaticMount // sorted by Prefix
	Warnings   []string      // human-readable, e.g. `api/x.R:12: @get has no path`
}

// ErrNoEntrypoint means a directory holds neither entrypoint.R nor plumber.R.
var ErrNoEntrypoint = errors.New("expected plumber.R or entrypoint.R")

// entrypointNames are the files plumber::plumb(dir=) looks for, in order of preference.
var entrypointNames = []string{"entrypoint.R", "plumber.R"}

// FindEntrypoint returns the name of the file plumber::plumb(dir=) would start from:
// entrypoint.R wins over plumber.R. Like plumber, it ignores the case of the names.
func FindEntrypoint(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("cannot read the API directory %s: %w", dir, err)
	}
	for _, want := range entrypointNames {
		for _, e := range entries {
			if !strings.EqualFold(e.Name(), want) {
				continue
			}
			// Stat follows symlinks, which plumber would follow too.
			if info, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && info.Mode().IsRegular() {
				return e.Name(), nil
			}
		}
	}
	return "", fmt.Errorf("no Plumber API in %s: %w", dir, ErrNoEntrypoint)
}

// Load finds the entrypoint of dir and reads every endpoint it serves, following mounted routers.
// Problems in the R code become warnings; only an unreadable directory or entrypoint is an error.
func Load(dir string) (*API, error) {
	name, err := FindEntrypoint(dir)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	l := &loader{dir: dir, annotated: map[string]*parsedFile{}, sourcing: map[string]bool{}}
	var root *router
	if strings.EqualFold(name, "entrypoint.R") {
		root = l.sourceEntrypoint("", name, string(src))
	} else {
		root = l.annotationRouter(name, string(src))
	}

	api := &API{Dir: dir, Entrypoint: name}
	root.flatten("", api, map[*router]bool{})
	api.Warnings = l.warnings
	sortAndDedupe(api)
	return api, nil
}

func sortAndDedupe(api *API) {
	slices.SortFunc(api.Endpoints, func(a, b Endpoint) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Serializer, b.Serializer))
	})
	slices.SortFunc(api.Statics, func(a, b StaticMount) int {
		return cmp.Or(cmp.Compare(a.Prefix, b.Prefix), cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Dir, b.Dir))
	})
	// A router mounted twice at the same prefix yields the same routes twice.
	api.Endpoints = slices.Compact(api.Endpoints)
	api.Statics = slices.Compact(api.Statics)
}
