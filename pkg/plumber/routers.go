package plumber

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// router is what rscale knows of one plumber router: its own routes and the routers
// mounted into it.
type router struct {
	endpoints []Endpoint // paths relative to the router
	statics   []StaticMount
	mounts    []mount
}

// mount places a router under a prefix; prefix "" merges it into its parent.
type mount struct {
	prefix string
	r      *router
}

// flatten adds r's routes, and those of the routers mounted into it, to api under prefix.
func (r *router) flatten(prefix string, api *API, visiting map[*router]bool) {
	if visiting[r] {
		return // a router mounted into itself; R would recurse forever on such a request
	}
	visiting[r] = true
	defer delete(visiting, r)
	for _, e := range r.endpoints {
		e.Path = joinPath(prefix, e.Path)
		api.Endpoints = append(api.Endpoints, e)
	}
	for _, s := range r.statics {
		s.Prefix = joinPath(prefix, s.Prefix)
		api.Statics = append(api.Statics, s)
	}
	for _, m := range r.mounts {
		m.r.flatten(joinPath(prefix, m.prefix), api, visiting)
	}
}

// joinPath puts p, which starts with "/", under prefix without doubling the slash between them.
func joinPath(prefix, p string) string {
	if prefix == "" {
		return p
	}
	return strings.TrimRight(prefix, "/") + p
}

// loader reads the files of one API directory.
type loader struct {
	dir       string // the API directory, as given
	warnings  []string
	annotated map[string]*parsedFile // annotation files read so far, by slash path
	sourcing  map[string]bool        // entrypoint.R files being read, against a cycle of plumb(dir=)
}

type parsedFile struct {
	endpoints []Endpoint
	statics   []StaticMount
}

func (l *loader) warnf(file string, line int, format string, args ...any) {
	l.warnings = append(l.warnings, fmt.Sprintf("%s:%d: ", file, line)+fmt.Sprintf(format, args...))
}

// annotationRouter is a router holding the annotated endpoints of the plumber file rel.
// A file read twice is parsed (and warned about) once, but each read gets its own router,
// as each plumb() call in R makes a new one.
func (l *loader) annotationRouter(rel, src string) *router {
	pf := l.annotated[rel]
	if pf == nil {
		endpoints, statics, warnings := ParseAnnotations(src)
		for i := range endpoints {
			endpoints[i].File = rel
		}
		for i := range statics {
			statics[i].File = rel
		}
		for _, w := range warnings {
			l.warnings = append(l.warnings, rel+":"+w)
		}
		pf = &parsedFile{endpoints: endpoints, statics: statics}
		l.annotated[rel] = pf
	}
	return &router{endpoints: slices.Clone(pf.endpoints), statics: slices.Clone(pf.statics)}
}

// fileRouter reads the plumber file rel, which line of from refers to.
func (l *loader) fileRouter(rel, from string, line int) *router {
	src, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.warnf(from, line, "%s does not exist; its endpoints cannot be routed", rel)
		} else {
			l.warnf(from, line, "cannot read %s: %v", rel, err)
		}
		return &router{}
	}
	return l.annotationRouter(rel, string(src))
}

// dirRouter is what plumb(dir = relDir) returns: the router its entrypoint.R builds, or its plumber.R.
func (l *loader) dirRouter(relDir, from string, line int) *router {
	name, err := FindEntrypoint(filepath.Join(l.dir, filepath.FromSlash(relDir)))
	if err != nil {
		if errors.Is(err, ErrNoEntrypoint) {
			l.warnf(from, line, "%s holds neither entrypoint.R nor plumber.R", relDir)
		} else {
			l.warnf(from, line, "%v", err)
		}
		return &router{}
	}
	rel := path.Join(relDir, name)
	src, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		l.warnf(from, line, "cannot read %s: %v", rel, err)
		return &router{}
	}
	if strings.EqualFold(name, "entrypoint.R") {
		return l.sourceEntrypoint(relDir, rel, string(src))
	}
	return l.annotationRouter(rel, string(src))
}

// sourceEntrypoint reads the entrypoint.R at rel, in directory relDir, as plumber would source it.
// Its own annotations are not endpoints: plumber only sources the file. The router returned
// merges every router the file builds that is not mounted into another, which covers the one
// the file returns without having to know which it is.
func (l *loader) sourceEntrypoint(relDir, rel, src string) *router {
	if l.sourcing[rel] {
		l.warnf(rel, 1, "plumb() reads this entrypoint.R again from within itself; R would never finish")
		return &router{}
	}
	l.sourcing[rel] = true
	defer delete(l.sourcing, rel)

	ev := &evaluator{l: l, file: rel, base: relDir, env: map[string]value{}, mounted: map[*router]bool{}}
	for _, n := range parseR(src) {
		ev.eval(n)
	}
	result := &router{}
	for _, r := range ev.created {
		if !ev.mounted[r] {
			result.mounts = append(result.mounts, mount{r: r})
		}
	}
	return result
}

// value is what the evaluator knows of an R value; the zero value stands for anything else.
type value struct {
	router *router
	static *string  // the folder of a PlumberStatic$new(dir) router
	strs   []string // a character vector
}

// evaluator follows the R code of one entrypoint.R. It has no scopes and runs every
// branch and function body once, which finds more routers than R would build at most.
type evaluator struct {
	l       *loader
	file    string // the entrypoint, relative to the API directory
	base    string // its directory, against which R resolves its relative paths
	env     map[string]value
	created []*router
	mounted map[*router]bool
}

func (ev *evaluator) newRouter(r *router) *router {
	ev.created = append(ev.created, r)
	return r
}

func (ev *evaluator) eval(n *node) value {
	if n == nil {
		return value{}
	}
	switch n.kind {
	case nName:
		return ev.env[n.text]
	case nString:
		return value{strs: []string{n.text}}
	case nCall:
		return ev.call(n, nil)
	case nBinary:
		return ev.binary(n)
	case nBlock:
		var v value
		for _, k := range n.kids {
			v = ev.eval(k)
		}
		return v
	}
	for _, k := range n.kids {
		ev.eval(k)
	}
	return value{}
}

func (ev *evaluator) binary(n *node) value {
	lhs, rhs := n.kids[0], n.kids[1]
	switch n.text {
	case "<-", "<<-", "=":
		v := ev.eval(rhs)
		ev.assign(lhs, v)
		return v
	case "->", "->>":
		v := ev.eval(lhs)
		ev.assign(rhs, v)
		return v
	case "%>%", "|>":
		v := ev.eval(lhs)
		switch {
		case rhs != nil && rhs.kind == nCall:
			return ev.call(rhs, &v)
		case rhs != nil && (rhs.kind == nName || rhs.kind == nBinary && rhs.text == "::"):
			// magrittr allows naming the function alone: x %>% f
			return ev.call(&node{kind: nCall, fn: rhs, line: rhs.line}, &v)
		}
		ev.eval(rhs)
		return value{}
	case "$", "@", "::", ":::":
		// Member access that is not called: only the object itself may hold calls.
		rhs = nil
	}
	ev.eval(lhs)
	ev.eval(rhs)
	return value{}
}

func (ev *evaluator) assign(target *node, v value) {
	if target != nil && (target.kind == nName || target.kind == nString) {
		ev.env[target.text] = v
	}
}

// evArg is an evaluated argument; node is nil for the value a pipe passes in.
type evArg struct {
	name string
	node *node
	val  value
}

// match assigns arguments to a function's formals the way R does for exact names and positions.
func match(args []evArg, formals ...string) map[string]evArg {
	out := map[string]evArg{}
	var positional []evArg
	for _, a := range args {
		switch {
		case a.name == "":
			positional = append(positional, a)
		case slices.Contains(formals, a.name):
			out[a.name] = a
		}
	}
	for _, f := range formals {
		if _, ok := out[f]; ok {
			continue
		}
		if len(positional) == 0 {
			break
		}
		out[f] = positional[0]
		positional = positional[1:]
	}
	return out
}

// routeMethods are the HTTP methods of plumber's pr_<verb> helpers.
var routeMethods = map[string]string{
	"pr_get": "GET", "pr_post": "POST", "pr_put": "PUT", "pr_delete": "DELETE", "pr_head": "HEAD",
}

func (ev *evaluator) call(n *node, piped *value) value {
	name, recv := callee(n.fn)
	var recvVal value
	if recv != nil {
		recvVal = ev.eval(recv)
	} else if name == "" {
		ev.eval(n.fn)
	}
	var args []evArg
	if piped != nil {
		args = append(args, evArg{val: *piped})
	}
	for _, a := range n.args {
		args = append(args, evArg{name: a.name, node: a.value, val: ev.eval(a.value)})
	}

	if recv != nil {
		return ev.method(n, className(recv), name, recvVal, args)
	}
	switch name {
	case "plumb":
		return value{router: ev.plumb(match(args, "file", "dir"), n.line)}
	case "pr":
		return value{router: ev.pr(match(args, "file"), n.line)}
	case "pr_mount":
		m := match(args, "pr", "path", "router")
		return ev.mount(m["pr"].val, m["path"], m["router"], name, n.line)
	case "pr_static":
		m := match(args, "pr", "path", "direc")
		r := ev.target(m["pr"].val)
		ev.static(r, m["path"], single(m["direc"].val), name, n.line)
		return value{router: r}
	case "pr_handle":
		m := match(args, "pr", "methods", "path", "handler", "preempt", "serializer")
		return ev.route(m["pr"].val, m["methods"].val.strs, m, name, n.line)
	case "c":
		var v value
		for _, a := range args {
			v.strs = append(v.strs, a.val.strs...)
		}
		return v
	case "file.path":
		var parts []string
		for _, a := range args {
			if a.name != "" || len(a.val.strs) != 1 {
				return value{}
			}
			parts = append(parts, a.val.strs[0])
		}
		return value{strs: []string{strings.Join(parts, "/")}}
	}
	if method, ok := routeMethods[name]; ok {
		m := match(args, "pr", "path", "handler", "preempt", "serializer")
		return ev.route(m["pr"].val, []string{method}, m, name, n.line)
	}
	// Most other functions of a router, such as pr_set_docs() or invisible(), return it.
	if len(args) > 0 && args[0].name == "" {
		return value{router: args[0].val.router, static: args[0].val.static}
	}
	return value{}
}

// method evaluates recv$name(args), where class is recv's name when it is a plain name.
func (ev *evaluator) method(n *node, class, name string, recv value, args []evArg) value {
	switch {
	case name == "new" && class == "PlumberStatic":
		if dir := match(args, "direc")["direc"].val.strs; len(dir) == 1 {
			return value{static: &dir[0]}
		}
		ev.l.warnf(ev.file, n.line, "cannot tell which folder PlumberStatic$new() serves")
		return value{}
	case name == "new" && (class == "Plumber" || class == "plumber"):
		return value{router: ev.pr(match(args, "file"), n.line)}
	case name == "mount":
		m := match(args, "path", "router")
		return ev.mount(recv, m["path"], m["router"], "$mount()", n.line)
	case name == "handle":
		m := match(args, "methods", "path", "handler", "preempt", "serializer")
		return ev.route(recv, m["methods"].val.strs, m, "$handle()", n.line)
	}
	// Plumber's R6 methods return the router itself, so that calls can be chained.
	return value{router: recv.router}
}

// callee returns the function name of a call's fn and, for obj$name(...), obj.
// name is "" when fn is not a plain or plumber:: name.
func callee(fn *node) (name string, recv *node) {
	if fn == nil {
		return "", nil
	}
	switch {
	case fn.kind == nName:
		return fn.text, nil
	case fn.kind == nBinary && fn.kids[1] != nil && (fn.text == "::" || fn.text == ":::"):
		if ns := fn.kids[0]; ns != nil && ns.kind == nName && ns.text == "plumber" {
			return fn.kids[1].text, nil
		}
	case fn.kind == nBinary && fn.kids[1] != nil && fn.text == "$":
		return fn.kids[1].text, fn.kids[0]
	}
	return "", nil
}

// className is the name n spells, as in PlumberStatic or plumber::PlumberStatic.
func className(n *node) string {
	name, recv := callee(n)
	if recv != nil {
		return ""
	}
	return name
}

// target is the router a call adds to. A router rscale cannot see, such as a function's
// parameter, becomes a router of its own, which ends up at the root unless mounted.
func (ev *evaluator) target(v value) *router {
	if v.router != nil {
		return v.router
	}
	return ev.newRouter(&router{})
}

// plumb follows plumb(file, dir).
func (ev *evaluator) plumb(m map[string]evArg, line int) *router {
	file, dir := m["file"], m["dir"]
	dirName := "."
	if given(dir) {
		if len(dir.val.strs) != 1 {
			ev.l.warnf(ev.file, line, "cannot tell which folder plumb() reads")
			return ev.newRouter(&router{})
		}
		dirName = dir.val.strs[0]
	}
	if !given(file) {
		rel, ok := ev.resolve(dirName, line)
		if !ok {
			return ev.newRouter(&router{})
		}
		return ev.newRouter(ev.l.dirRouter(rel, ev.file, line))
	}
	if len(file.val.strs) != 1 {
		ev.l.warnf(ev.file, line, "cannot tell which file plumb() reads")
		return ev.newRouter(&router{})
	}
	name := file.val.strs[0]
	if dirName != "." {
		name = dirName + "/" + name // as plumb() does when given both
	}
	rel, ok := ev.resolve(name, line)
	if !ok {
		return ev.newRouter(&router{})
	}
	return ev.newRouter(ev.l.fileRouter(rel, ev.file, line))
}

// pr follows pr(file) and Plumber$new(file); without a file they make an empty router.
func (ev *evaluator) pr(m map[string]evArg, line int) *router {
	file := m["file"]
	if !given(file) {
		return ev.newRouter(&router{})
	}
	if len(file.val.strs) != 1 {
		ev.l.warnf(ev.file, line, "cannot tell which file this router reads")
		return ev.newRouter(&router{})
	}
	rel, ok := ev.resolve(file.val.strs[0], line)
	if !ok {
		return ev.newRouter(&router{})
	}
	return ev.newRouter(ev.l.fileRouter(rel, ev.file, line))
}

// given reports whether an argument was passed and is not NULL.
func given(a evArg) bool {
	if a.node == nil {
		return a.val.router != nil || a.val.static != nil || a.val.strs != nil
	}
	return !(a.node.kind == nName && a.node.text == "NULL")
}

// resolve turns a path in the R code into a slash path relative to the API directory,
// refusing what lies outside it: rscale can only route what it can read there.
func (ev *evaluator) resolve(p string, line int) (string, bool) {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") || filepath.IsAbs(p) {
		ev.l.warnf(ev.file, line, "%q is not a path inside the API directory; rscale does not read it", p)
		return "", false
	}
	rel := path.Join(ev.base, p)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		ev.l.warnf(ev.file, line, "%q is outside the API directory; rscale does not read it", p)
		return "", false
	}
	return rel, true
}

// mount follows pr_mount(pr, path, router) and pr$mount(path, router).
func (ev *evaluator) mount(parent value, pathArg, child evArg, fn string, line int) value {
	r := ev.target(parent)
	if child.val.static != nil {
		ev.static(r, pathArg, *child.val.static, fn, line)
		return value{router: r}
	}
	if child.val.router == nil {
		ev.l.warnf(ev.file, line, "cannot tell which router %s mounts; its endpoints cannot be routed", fn)
		return value{router: r}
	}
	if child.val.router == r {
		ev.l.warnf(ev.file, line, "%s mounts a router into itself; plumber would loop on its requests", fn)
		return value{router: r}
	}
	// A mounted router is not a root, even when rscale cannot tell where it is mounted.
	ev.mounted[child.val.router] = true
	if len(pathArg.val.strs) != 1 {
		ev.l.warnf(ev.file, line, "cannot tell the path %s mounts a router at; its endpoints cannot be routed", fn)
		return value{router: r}
	}
	// plumber mounts at a path with a leading and a trailing slash.
	prefix := strings.TrimRight(withLeadingSlash(pathArg.val.strs[0]), "/") + "/"
	r.mounts = append(r.mounts, mount{prefix: prefix, r: child.val.router})
	return value{router: r}
}

// static adds a static folder dir, served at the path pathArg holds, to r.
func (ev *evaluator) static(r *router, pathArg evArg, dir, fn string, line int) {
	prefix := single(pathArg.val)
	if prefix == "" {
		ev.l.warnf(ev.file, line, "cannot tell the path %s serves files at; they cannot be routed", fn)
		return
	}
	r.statics = append(r.statics, StaticMount{Prefix: withLeadingSlash(prefix), Dir: dir, File: ev.file, Line: line})
}

// httpMethods are the methods plumber can route.
var httpMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}

// route adds a programmatic endpoint, from pr_get() and friends or $handle(), to the router recv.
func (ev *evaluator) route(recv value, methods []string, m map[string]evArg, fn string, line int) value {
	r := ev.target(recv)
	p := single(m["path"].val)
	if p == "" {
		ev.l.warnf(ev.file, line, "cannot tell the path of the route %s adds; it cannot be routed", fn)
		return value{router: r}
	}
	if len(methods) == 0 {
		ev.l.warnf(ev.file, line, "cannot tell the HTTP method of the route %s adds at %s", fn, p)
	}
	serializer := ""
	if s := m["serializer"].node; s != nil && s.kind == nCall {
		if name, recv := callee(s.fn); recv == nil {
			if rest, ok := strings.CutPrefix(name, "serializer_"); ok {
				serializer = rest
			}
		}
	}
	for _, method := range methods {
		method = strings.ToUpper(method)
		if !slices.Contains(httpMethods, method) {
			ev.l.warnf(ev.file, line, "%s is not an HTTP method plumber routes", method)
			continue
		}
		r.endpoints = append(r.endpoints, Endpoint{Method: method, Path: withLeadingSlash(p), Serializer: serializer, File: ev.file, Line: line})
	}
	return value{router: r}
}

// single is the one string v holds, or "".
func single(v value) string {
	if len(v.strs) == 1 {
		return v.strs[0]
	}
	return ""
}
