package rdeps

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Description is what rscale reads from an R DESCRIPTION file.
type Description struct {
	Package  string
	Imports  []string // package names, version constraints dropped, R excluded
	Depends  []string // likewise
	RVersion string   // the minimum in Depends: R (>= 4.1.0), or ""
}

var rConstraint = regexp.MustCompile(`^R\s*\(\s*>=?\s*([0-9][0-9.-]*)\s*\)$`)

// ParseDescription reads a DESCRIPTION file (Debian Control File format).
func ParseDescription(data []byte) (Description, error) {
	fields := map[string]string{}
	var last string
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return Description{}, fmt.Errorf("line %d continues a field, but no field came before it", i+1)
			}
			fields[last] += " " + strings.TrimSpace(line)
		default:
			key, value, ok := strings.Cut(line, ":")
			if !ok || strings.ContainsAny(key, " \t") || key == "" {
				return Description{}, fmt.Errorf("line %d is not \"Field: value\": %q", i+1, line)
			}
			last = key
			fields[key] = strings.TrimSpace(value)
		}
	}
	d := Description{Package: fields["Package"]}
	d.Imports, _ = packageList(fields["Imports"])
	d.Depends, d.RVersion = packageList(fields["Depends"])
	return d, nil
}

// packageList splits "a (>= 1.0), b, R (>= 4.1)" into names, and returns R's minimum apart.
func packageList(field string) (names []string, rVersion string) {
	for _, item := range strings.Split(field, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if m := rConstraint.FindStringSubmatch(item); m != nil {
			rVersion = m[1]
			continue
		}
		if rest, ok := strings.CutPrefix(item, "R"); ok && strings.HasPrefix(strings.TrimSpace(rest), "(") {
			// A constraint on R that names no version: kept as written, for the caller to refuse.
			rVersion = strings.Trim(rest, " ()>=")
			continue
		}
		name := strings.TrimSpace(strings.SplitN(item, "(", 2)[0])
		if name != "R" && packageName.MatchString(name) {
			names = append(names, name)
		}
	}
	return names, rVersion
}

// Lock is what rscale reads from renv.lock.
type Lock struct {
	RVersion     string
	Repositories []Repository
	Packages     []LockedPackage // sorted by Name
}

// Repository is a package repository renv.lock names.
type Repository struct{ Name, URL string }

// LockedPackage is one package renv.lock pins.
type LockedPackage struct {
	Name, Version, Source, Repository string
}

// ParseRenvLock reads renv.lock.
func ParseRenvLock(data []byte) (Lock, error) {
	var raw struct {
		R struct {
			Version      string
			Repositories []Repository
		}
		Packages map[string]struct {
			Package, Version, Source, Repository string
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Lock{}, fmt.Errorf("not valid renv.lock JSON: %w", err)
	}
	lock := Lock{RVersion: raw.R.Version, Repositories: raw.R.Repositories}
	for key, p := range raw.Packages {
		name := p.Package
		if name == "" {
			name = key
		}
		lock.Packages = append(lock.Packages, LockedPackage{Name: name, Version: p.Version, Source: p.Source, Repository: p.Repository})
	}
	sort.Slice(lock.Packages, func(i, j int) bool { return lock.Packages[i].Name < lock.Packages[j].Name })
	return lock, nil
}
