package plumber

import (
	"fmt"
	"strings"
)

// verbMethods maps plumber's verb tags to HTTP methods; @use accepts any method.
var verbMethods = map[string]string{
	"get":     "GET",
	"post":    "POST",
	"put":     "PUT",
	"delete":  "DELETE",
	"head":    "HEAD",
	"options": "OPTIONS",
	"patch":   "PATCH",
	"use":     "USE",
}

// shorthandSerializers are tags that name a serializer on their own, such as `#* @png`.
var shorthandSerializers = map[string]bool{
	"json": true, "png": true, "jpeg": true, "svg": true, "html": true, "text": true,
	"csv": true, "tsv": true, "rds": true, "unboxedJSON": true, "geojson": true,
	"htmlwidget": true, "yaml": true, "feather": true, "parquet": true, "bmp": true,
	"tiff": true, "pdf": true, "svglite": true, "octet": true,
}

// assetsDefaultPrefix is where plumber serves `#* @assets dir` when the block names no path.
const assetsDefaultPrefix = "/public"

// block collects the annotations that plumber attaches to the next expression.
type block struct {
	endpoints  []Endpoint
	statics    []StaticMount
	serializer string
	filter     bool
	firstLine  int // line of the first verb, @assets or @filter tag, for warnings
}

// ParseAnnotations parses the #* / #' annotation blocks of one plumber R file.
// Endpoints and statics come in source order with File left empty for the caller to set.
// Each warning starts with the 1-based line it is about, as in "12: @get has no path",
// so that callers can put the file name in front.
func ParseAnnotations(src string) (endpoints []Endpoint, statics []StaticMount, warnings []string) {
	var a annotationParser
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		text := strings.TrimSpace(raw)
		if !isAnnotation(text) {
			// plumber looks past blank lines and plain comments for the annotations above
			// an expression; any other line is code, which ends the block.
			if text != "" && !strings.HasPrefix(text, "#") {
				a.flush(false)
			}
			continue
		}
		if tag, rest, ok := splitTag(text[2:]); ok { // else a description line
			a.tag(line, tag, rest)
		}
	}
	a.flush(true)
	return a.endpoints, a.statics, a.warnings
}

// annotationParser collects what the blocks of one file declare.
type annotationParser struct {
	b         block // the block being read
	endpoints []Endpoint
	statics   []StaticMount
	warnings  []string
}

func (a *annotationParser) warnf(line int, format string, args ...any) {
	a.warnings = append(a.warnings, fmt.Sprintf("%d: ", line)+fmt.Sprintf(format, args...))
}

// flush ends the block being read: what it declares counts once an expression follows it.
func (a *annotationParser) flush(atEOF bool) {
	b := &a.b
	switch {
	case b.filter && (len(b.endpoints) > 0 || len(b.statics) > 0):
		// plumber refuses to load such a block, so none of it will be served.
		a.warnf(b.firstLine, "a block cannot be both a @filter and an endpoint or @assets; plumber refuses it")
	case b.filter:
	default:
		if atEOF && (len(b.endpoints) > 0 || len(b.statics) > 0) {
			a.warnf(b.firstLine, "annotations at the end of the file are not followed by a function")
		}
		for _, e := range b.endpoints {
			e.Serializer = b.serializer
			a.endpoints = append(a.endpoints, e)
		}
		a.statics = append(a.statics, b.statics...)
	}
	a.b = block{}
}

// tag reads one @tag line of the block.
func (a *annotationParser) tag(line int, tag, rest string) {
	b := &a.b
	switch {
	case verbMethods[tag] != "":
		b.mark(line)
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			a.warnf(line, "@%s has no path", tag)
			return
		}
		if len(fields) > 1 {
			a.warnf(line, "@%s %s: the text after the path is ignored", tag, fields[0])
		}
		b.endpoints = append(b.endpoints, Endpoint{Method: verbMethods[tag], Path: withLeadingSlash(fields[0]), Line: line})
	case tag == "serializer":
		name, _, _ := strings.Cut(firstField(rest), "(")
		if name == "" {
			a.warnf(line, "@serializer names no serializer")
			return
		}
		b.setSerializer(name, line, a.warnf)
	case shorthandSerializers[tag]:
		b.setSerializer(tag, line, a.warnf)
	case tag == "filter":
		b.mark(line)
		b.filter = true
	case tag == "assets":
		b.mark(line)
		a.assets(line, strings.Fields(rest))
	}
}

// assets reads an @assets DIR [PATH] line.
func (a *annotationParser) assets(line int, fields []string) {
	if len(fields) == 0 {
		a.warnf(line, "@assets names no directory")
		return
	}
	if len(fields) > 2 {
		a.warnf(line, "@assets takes a directory and a path; plumber ignores this line")
		return
	}
	prefix := assetsDefaultPrefix
	if len(fields) == 2 {
		prefix = withLeadingSlash(fields[1])
	}
	a.b.statics = append(a.b.statics, StaticMount{Prefix: prefix, Dir: fields[0], Line: line})
}

// mark records the block's first verb, @assets or @filter line, for warnings.
func (b *block) mark(line int) {
	if b.firstLine == 0 {
		b.firstLine = line
	}
}

func (b *block) setSerializer(name string, line int, warnf func(int, string, ...any)) {
	if b.serializer != "" {
		warnf(line, "more than one serializer in one block (%s and %s); plumber refuses this", b.serializer, name)
		return
	}
	b.serializer = name
}

// isAnnotation reports whether a trimmed line is a plumber annotation line.
func isAnnotation(text string) bool {
	return strings.HasPrefix(text, "#*") || strings.HasPrefix(text, "#'")
}

// splitTag splits the text after "#*" into its @tag name and the rest, trimmed.
// ok is false for description lines, which hold no tag.
func splitTag(s string) (tag, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, "@") {
		return "", "", false
	}
	s = s[1:]
	n := 0
	for n < len(s) && isWordByte(s[n]) {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	return s[:n], strings.TrimSpace(s[n:]), true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// withLeadingSlash makes p absolute, as plumber does with endpoint and mount paths.
func withLeadingSlash(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}
