package scaffold

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rscale/rscale/pkg/plumber"
)

// dynamicSegment matches plumber's path parameters: <id>, <id:int>, <ids:[int]>.
var dynamicSegment = regexp.MustCompile(`<[^<>/]*>`)

// TraefikRule is a Traefik v3 router rule that matches every path the API serves: each
// endpoint's exact path (a regular expression where plumber takes parameters) and each
// static folder's prefix.
func TraefikRule(api *plumber.API) string {
	seen := map[string]bool{}
	var matchers []string
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			matchers = append(matchers, m)
		}
	}
	for _, e := range api.Endpoints {
		if dynamicSegment.MatchString(e.Path) {
			add("PathRegexp(" + ruleString(pathRegexp(e.Path)) + ")")
		} else {
			add("Path(" + ruleString(e.Path) + ")")
		}
	}
	for _, s := range api.Statics {
		add("PathPrefix(" + ruleString(s.Prefix) + ")")
	}
	if len(matchers) == 0 {
		// An API with no endpoints yet still gets a valid router, which routes everything.
		return "PathPrefix(`/`)"
	}
	sort.Strings(matchers)
	return strings.Join(matchers, " || ")
}

// pathRegexp turns "/users/<id:int>/posts" into "^/users/[^/]+/posts$": plumber checks the type.
func pathRegexp(path string) string {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range dynamicSegment.FindAllStringIndex(path, -1) {
		b.WriteString(regexp.QuoteMeta(path[last:loc[0]]))
		b.WriteString("[^/]+")
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(path[last:]))
	b.WriteString("$")
	return b.String()
}

// ruleString quotes s for a Traefik rule: a raw string in backticks, or a Go-quoted string when s holds a backtick.
func ruleString(s string) string {
	if strings.Contains(s, "`") {
		return strconv.Quote(s)
	}
	return "`" + s + "`"
}
