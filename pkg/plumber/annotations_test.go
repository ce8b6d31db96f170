package plumber

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseAnnotations(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		endpoints []Endpoint
		statics   []StaticMount
		warnings  []string // each must appear in the warning at the same index
	}{
		{
			name:      "get",
			src:       "#* @get /echo\nfunction(msg = \"\") list(msg = msg)\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/echo", Line: 1}},
		},
		{
			name:      "post",
			src:       "#* @post /sum\nfunction(a, b) a + b\n",
			endpoints: []Endpoint{{Method: "POST", Path: "/sum", Line: 1}},
		},
		{
			name:      "put",
			src:       "#* @put /item\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "PUT", Path: "/item", Line: 1}},
		},
		{
			name:      "delete",
			src:       "#* @delete /item\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "DELETE", Path: "/item", Line: 1}},
		},
		{
			name:      "head",
			src:       "#* @head /item\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "HEAD", Path: "/item", Line: 1}},
		},
		{
			name:      "options",
			src:       "#* @options /item\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "OPTIONS", Path: "/item", Line: 1}},
		},
		{
			name:      "patch",
			src:       "#* @patch /item\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "PATCH", Path: "/item", Line: 1}},
		},
		{
			name:      "use",
			src:       "#* @use /any\nfunction(req) 1\n",
			endpoints: []Endpoint{{Method: "USE", Path: "/any", Line: 1}},
		},
		{
			name:      "root path",
			src:       "#* @get /\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/", Line: 1}},
		},
		{
			name: "several verbs in one block share its serializer",
			src:  "#* Sum two numbers\n#* @get /sum\n#* @post /sum\n#* @put /total\n#* @serializer text\nfunction(a, b) a + b\n",
			endpoints: []Endpoint{
				{Method: "GET", Path: "/sum", Serializer: "text", Line: 2},
				{Method: "POST", Path: "/sum", Serializer: "text", Line: 3},
				{Method: "PUT", Path: "/total", Serializer: "text", Line: 4},
			},
		},
		{
			name:      "typed dynamic segment",
			src:       "#* @get /users/<id:int>\nfunction(id) id\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/users/<id:int>", Line: 1}},
		},
		{
			name:      "several dynamic segments",
			src:       "#* @get /<a>/<b:double>\nfunction(a, b) a\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/<a>/<b:double>", Line: 1}},
		},
		{
			name:      "array dynamic segment",
			src:       "#* @get /dyn/<name:str>/<age:[int]>/route\nfunction(name, age) 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/dyn/<name:str>/<age:[int]>/route", Line: 1}},
		},
		{
			name:      "serializer",
			src:       "#* @serializer png\n#* @get /plot\nfunction() plot(1:10)\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/plot", Serializer: "png", Line: 2}},
		},
		{
			name:      "serializer with arguments",
			src:       "#* @get /plot\n#* @serializer png list(width=400)\nfunction() plot(1:10)\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/plot", Serializer: "png", Line: 1}},
		},
		{
			name:      "serializer with spaced arguments",
			src:       "#* @get /pdf\n#* @serializer contentType list(type = \"application/pdf\")\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/pdf", Serializer: "contentType", Line: 1}},
		},
		{
			name:      "roxygen-style block",
			src:       "#' Echo\n#' @param msg The message\n#' @get /echo\n#' @serializer unboxedJSON\nfunction(msg) msg\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/echo", Serializer: "unboxedJSON", Line: 3}},
		},
		{
			name:      "indented annotations",
			src:       "  #* @get /indented\n\t#* @serializer html\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/indented", Serializer: "html", Line: 1}},
		},
		{
			name:      "no space after the comment marker",
			src:       "#*@get /tight\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/tight", Line: 1}},
		},
		{
			name:      "leading slash is added",
			src:       "#* @get echo\nfunction() 1\n#* @post users/<id>\nfunction(id) 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/echo", Line: 1}, {Method: "POST", Path: "/users/<id>", Line: 3}},
		},
		{
			name: "blank lines and plain comments stay in the block, as plumber reads them",
			src:  "#* @get /a\n\n# a plain comment\n#* @serializer csv\n\nfunction() 1\n",
			endpoints: []Endpoint{
				{Method: "GET", Path: "/a", Serializer: "csv", Line: 1},
			},
		},
		{
			name: "code ends a block",
			src:  "#* @serializer png\nx <- 1\n#* @get /b\nfunction() x\n",
			endpoints: []Endpoint{
				{Method: "GET", Path: "/b", Line: 3},
			},
		},
		{
			name: "other tags are ignored",
			src: "#* @apiTitle Sample\n#* @apiDescription A sample\n\n" +
				"#* @param id:int The id\n#* @response 200 OK\n#* @tag users\n#* @parser json\n#* @preempt logger\n#* @getter nothing\n#* @get /tagged\nfunction(id) id\n" +
				"#* @plumber\nfunction(pr) pr\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/tagged", Line: 10}},
		},
		{
			name:      "filter blocks are not endpoints",
			src:       "#* @filter logger\nfunction(req) plumber::forward()\n\n#* @get /after\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/after", Line: 4}},
		},
		{
			name:     "a filter with a verb is refused",
			src:      "#* @filter logger\n#* @get /both\nfunction(req) 1\n",
			warnings: []string{"1: a block cannot be both a @filter and an endpoint"},
		},
		{
			name:    "assets with a path",
			src:     "#* @assets ./files /static\nlist()\n",
			statics: []StaticMount{{Prefix: "/static", Dir: "./files", Line: 1}},
		},
		{
			name:    "assets at the root",
			src:     "#* @assets ./www /\nlist()\n",
			statics: []StaticMount{{Prefix: "/", Dir: "./www", Line: 1}},
		},
		{
			name:    "assets without a path use plumber's /public",
			src:     "#* @assets ./www\nlist()\n",
			statics: []StaticMount{{Prefix: "/public", Dir: "./www", Line: 1}},
		},
		{
			name:    "assets path gets a leading slash",
			src:     "#* @assets www files\nlist()\n",
			statics: []StaticMount{{Prefix: "/files", Dir: "www", Line: 1}},
		},
		{
			name:     "assets without a directory",
			src:      "#* @assets\nlist()\n",
			warnings: []string{"1: @assets names no directory"},
		},
		{
			name:      "verb without a path",
			src:       "#* @get\n#* @post /ok\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "POST", Path: "/ok", Line: 2}},
			warnings:  []string{"1: @get has no path"},
		},
		{
			name:      "text after the path",
			src:       "#* @get /a extra words\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/a", Line: 1}},
			warnings:  []string{"1: @get /a: the text after the path is ignored"},
		},
		{
			name:      "serializer without a name",
			src:       "#* @get /a\n#* @serializer\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/a", Line: 1}},
			warnings:  []string{"2: @serializer names no serializer"},
		},
		{
			name:      "two serializers",
			src:       "#* @get /a\n#* @serializer png\n#* @json\nfunction() 1\n",
			endpoints: []Endpoint{{Method: "GET", Path: "/a", Serializer: "png", Line: 1}},
			warnings:  []string{"3: more than one serializer in one block (png and json)"},
		},
		{
			name: "block at the end of the file",
			src:  "#* @get /a\nfunction() 1\n\n#* @get /last\n#* @serializer text",
			endpoints: []Endpoint{
				{Method: "GET", Path: "/a", Line: 1},
				{Method: "GET", Path: "/last", Serializer: "text", Line: 4},
			},
			warnings: []string{"4: annotations at the end of the file are not followed by a function"},
		},
		{
			name: "CRLF line endings",
			src:  "#* @get /crlf\r\n#* @serializer json\r\nfunction() 1\r\n",
			endpoints: []Endpoint{
				{Method: "GET", Path: "/crlf", Serializer: "json", Line: 1},
			},
		},
		{
			name: "plain comments are not annotations",
			src:  "# @get /no\n## @get /no\nfunction() 1\n",
		},
		{
			name: "empty file",
			src:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoints, statics, warnings := ParseAnnotations(tt.src)
			if !reflect.DeepEqual(endpoints, tt.endpoints) {
				t.Errorf("endpoints\n got %+v\nwant %+v", endpoints, tt.endpoints)
			}
			if !reflect.DeepEqual(statics, tt.statics) {
				t.Errorf("statics\n got %+v\nwant %+v", statics, tt.statics)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %d like %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range warnings {
				if !strings.HasPrefix(w, tt.warnings[i]) {
					t.Errorf("warning %q, want it to start with %q", w, tt.warnings[i])
				}
			}
		})
	}
}

func TestShorthandSerializers(t *testing.T) {
	names := []string{
		"json", "png", "jpeg", "svg", "html", "text", "csv", "tsv", "rds", "unboxedJSON",
		"geojson", "htmlwidget", "yaml", "feather", "parquet", "bmp", "tiff", "pdf", "svglite", "octet",
	}
	for _, name := range names {
		for _, form := range []string{"#* @" + name, "#* @" + name + " (width = 400)", "#' @" + name + "(na = 'null')"} {
			t.Run(form, func(t *testing.T) {
				endpoints, _, warnings := ParseAnnotations("#* @get /out\n" + form + "\nfunction() 1\n")
				want := []Endpoint{{Method: "GET", Path: "/out", Serializer: name, Line: 1}}
				if !reflect.DeepEqual(endpoints, want) || len(warnings) != 0 {
					t.Errorf("got %+v %q, want %+v and no warnings", endpoints, warnings, want)
				}
			})
		}
	}
	// Serializer shorthands are spelled as plumber spells them; other spellings are other tags.
	endpoints, _, _ := ParseAnnotations("#* @get /out\n#* @PNG\n#* @unboxedjson\nfunction() 1\n")
	if endpoints[0].Serializer != "" {
		t.Errorf("serializer %q, want none from misspelt tags", endpoints[0].Serializer)
	}
}

var realisticPlumberFiles = []string{
	`# plumber.R
library(plumber)

#* @apiTitle Plumber Example API
#* @apiDescription Plumber example description.

#* Echo back the input
#* @param msg The message to echo
#* @get /echo
function(msg = "") {
  list(msg = paste0("The message is: '", msg, "'"))
}

#* Plot a histogram
#* @serializer png
#* @get /plot
function() {
  rand <- rnorm(100)
  hist(rand)
}

#* Return the sum of two numbers
#* @param a The first number to add
#* @param b The second number to add
#* @post /sum
function(a, b) {
  as.numeric(a) + as.numeric(b)
}
`,
	`#' @filter cors
function(req, res) {
  res$setHeader("Access-Control-Allow-Origin", "*")
  plumber::forward()
}

#' @get /users/<id:int>
#' @get /people/<id:int>
#' @serializer unboxedJSON
function(id) list(id = id)

#* @assets ./static /files
list()

#* @plumber
function(pr) {
  pr %>% pr_set_debug(TRUE)
}
`,
	"#* @get\n#* @serializer\n#* @assets\n#* @put users extra\n#*@delete /<a>/<b:double>\n#* @use /",
	"#* @get /crlf\r\n#* @png (width = 400, height = 500)\r\nfunction() plot(1)\r\n",
}

func TestRealisticFiles(t *testing.T) {
	endpoints, _, warnings := ParseAnnotations(realisticPlumberFiles[0])
	var got []string
	for _, e := range endpoints {
		got = append(got, e.Method+" "+e.Path+" "+e.Serializer)
	}
	want := []string{"GET /echo ", "GET /plot png", "POST /sum "}
	if !slices.Equal(got, want) || len(warnings) != 0 {
		t.Errorf("got %q %q, want %q and no warnings", got, warnings, want)
	}
}

func FuzzParseAnnotations(f *testing.F) {
	for _, src := range realisticPlumberFiles {
		f.Add(src)
	}
	allowed := map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "PATCH": true, "USE": true}
	f.Fuzz(func(t *testing.T, src string) {
		endpoints, statics, _ := ParseAnnotations(src)
		for _, e := range endpoints {
			if !strings.HasPrefix(e.Path, "/") {
				t.Errorf("endpoint path %q does not start with /", e.Path)
			}
			if !allowed[e.Method] {
				t.Errorf("endpoint method %q is not one plumber has", e.Method)
			}
			if e.Line < 1 {
				t.Errorf("endpoint line %d", e.Line)
			}
		}
		for _, s := range statics {
			if !strings.HasPrefix(s.Prefix, "/") || s.Dir == "" {
				t.Errorf("static %+v", s)
			}
		}
	})
}
