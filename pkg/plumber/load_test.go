package plumber

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeAPI writes files (slash paths to contents) into a new directory.
func writeAPI(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindEntrypoint(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"entrypoint.R wins", map[string]string{"entrypoint.R": "pr()", "plumber.R": ""}, "entrypoint.R"},
		{"plumber.R alone", map[string]string{"plumber.R": "", "other.R": ""}, "plumber.R"},
		{"entrypoint.R alone", map[string]string{"entrypoint.R": "pr()"}, "entrypoint.R"},
		{"names are matched ignoring case, as plumber does", map[string]string{"Plumber.R": ""}, "Plumber.R"},
		{"a folder named plumber.R is not a file", map[string]string{"plumber.R/x": "", "entrypoint.r": ""}, "entrypoint.r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindEntrypoint(writeAPI(t, tt.files))
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFindEntrypointErrors(t *testing.T) {
	empty := writeAPI(t, map[string]string{"api.R": "", "README.md": ""})
	_, err := FindEntrypoint(empty)
	if want := "no Plumber API in " + empty + ": expected plumber.R or entrypoint.R"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if !errors.Is(err, ErrNoEntrypoint) {
		t.Errorf("error %v does not wrap ErrNoEntrypoint", err)
	}

	// chmod 000 does not stop root, so unreadable directories are a missing one and a file.
	file := filepath.Join(empty, "README.md")
	for _, dir := range []string{filepath.Join(empty, "missing"), file} {
		_, err := FindEntrypoint(dir)
		if err == nil || errors.Is(err, ErrNoEntrypoint) || !strings.Contains(err.Error(), "cannot read the API directory "+dir) {
			t.Errorf("FindEntrypoint(%s) = %v, want a read error distinct from ErrNoEntrypoint", dir, err)
		}
	}
	if _, err := FindEntrypoint(filepath.Join(empty, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap the os error", err)
	}
	if _, err := Load(empty); !errors.Is(err, ErrNoEntrypoint) {
		t.Errorf("Load: error %v, want ErrNoEntrypoint", err)
	}
}

// routes renders endpoints compactly for comparison: "GET /users/ api/users.R:2 json".
func routes(api *API) []string {
	var out []string
	for _, e := range api.Endpoints {
		s := e.Method + " " + e.Path + " " + e.File + ":" + strconv.Itoa(e.Line)
		if e.Serializer != "" {
			s += " " + e.Serializer
		}
		out = append(out, s)
	}
	return out
}

func TestLoadFixtures(t *testing.T) {
	tests := []struct {
		dir        string
		entrypoint string
		endpoints  []string
		statics    []StaticMount
		warnings   []string
	}{
		{
			dir:        "pipe",
			entrypoint: "entrypoint.R",
			endpoints: []string{
				"GET / plumber.R:2",
				"GET /echo plumber.R:9",
				"GET /health entrypoint.R:13 text",
				"GET /orders/list api/orders.R:2 csv",
				"GET /users/ api/users.R:2",
				"POST /users/ api/users.R:3",
				"GET /users/<id:int> api/users.R:8 unboxedJSON",
			},
			statics: []StaticMount{{Prefix: "/assets", Dir: "./www", File: "entrypoint.R", Line: 12}},
		},
		{
			dir:        "method",
			entrypoint: "entrypoint.R",
			endpoints: []string{
				"PUT /admin/settings api/admin.R:1 png",
				"GET /ping entrypoint.R:10",
				"POST /ping entrypoint.R:10",
				"GET /users/ api/users.R:1",
				"GET /users/<a>/<b:double> api/users.R:4",
			},
			statics: []StaticMount{{Prefix: "/static", Dir: "./public", File: "entrypoint.R", Line: 9}},
			warnings: []string{
				"entrypoint.R:11: api/missing.R does not exist; its endpoints cannot be routed",
				`entrypoint.R:12: "../outside.R" is outside the API directory; rscale does not read it`,
			},
		},
		{
			dir:        "programmatic",
			entrypoint: "entrypoint.R",
			endpoints: []string{
				"DELETE /cache entrypoint.R:9",
				"POST /data entrypoint.R:7 unboxed_json",
				"GET /hello entrypoint.R:6",
				"DELETE /items/<id> entrypoint.R:8",
				"PUT /items/<id> entrypoint.R:8",
				"HEAD /status entrypoint.R:10",
			},
		},
		{
			dir:        "subdir",
			entrypoint: "entrypoint.R",
			endpoints:  []string{"GET /v1/items v1/plumber.R:1", "GET /v2/items v2/routes.R:1 json"},
		},
		{
			dir:        "plumberonly",
			entrypoint: "plumber.R",
			endpoints:  []string{"GET /broken plumber.R:15", "GET /sum plumber.R:3", "POST /sum plumber.R:4"},
			statics:    []StaticMount{{Prefix: "/static", Dir: "./files", File: "plumber.R", Line: 7}},
			warnings:   []string{"plumber.R:15: annotations at the end of the file are not followed by a function"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tt.dir)
			api, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if api.Dir != dir || api.Entrypoint != tt.entrypoint {
				t.Errorf("dir %q entrypoint %q, want %q %q", api.Dir, api.Entrypoint, dir, tt.entrypoint)
			}
			if got := routes(api); !slices.Equal(got, tt.endpoints) {
				t.Errorf("endpoints\n got %q\nwant %q", got, tt.endpoints)
			}
			if !reflect.DeepEqual(api.Statics, tt.statics) {
				t.Errorf("statics %+v, want %+v", api.Statics, tt.statics)
			}
			if !slices.Equal(api.Warnings, tt.warnings) {
				t.Errorf("warnings\n got %q\nwant %q", api.Warnings, tt.warnings)
			}
		})
	}
}

// usersR is an annotated router file used by the inline entrypoints below.
const usersR = "#* @get /\nfunction() 1\n\n#* @get /<id:int>\nfunction(id) id\n"

func TestLoadEntrypointForms(t *testing.T) {
	tests := []struct {
		name       string
		entrypoint string
		files      map[string]string
		want       []string // "METHOD PATH"
		warning    string   // a warning must contain it; "" means no warnings
	}{
		{
			name:       "plumb and pr with a file are roots",
			entrypoint: `plumb("users.R")`,
			want:       []string{"GET /", "GET /<id:int>"},
		},
		{
			name:       "pr with a file",
			entrypoint: "plumber::pr('users.R') %>% pr_run(port = 8000)",
			want:       []string{"GET /", "GET /<id:int>"},
		},
		{
			name:       "pr_mount without a pipe",
			entrypoint: "root <- pr()\npr_mount(root, '/users', plumb('users.R'))\nroot\n",
			want:       []string{"GET /users/", "GET /users/<id:int>"},
		},
		{
			name:       "assignment with = and a named file argument",
			entrypoint: "u = plumb(file = 'users.R')\npr() |> pr_mount(path = '/u', router = u)\n",
			want:       []string{"GET /u/", "GET /u/<id:int>"},
		},
		{
			name:       "file and dir together",
			entrypoint: "pr() %>% pr_mount('/u', plumb('users.R', dir = 'api'))",
			files:      map[string]string{"api/users.R": usersR},
			want:       []string{"GET /u/", "GET /u/<id:int>"},
		},
		{
			name:       "file.path",
			entrypoint: "f <- file.path('api', 'users.R')\npr() %>% pr_mount('/u', plumb(f))",
			files:      map[string]string{"api/users.R": usersR},
			want:       []string{"GET /u/", "GET /u/<id:int>"},
		},
		{
			name:       "Plumber$new",
			entrypoint: "root <- Plumber$new()\nroot$mount('u', plumber::Plumber$new('users.R'))\nroot",
			want:       []string{"GET /u/", "GET /u/<id:int>"},
		},
		{
			name:       "mount at the root and with a trailing slash",
			entrypoint: "pr() %>% pr_mount('/', plumb('users.R')) %>% pr_mount('/v1/', plumb('users.R'))",
			want:       []string{"GET /", "GET /<id:int>", "GET /v1/", "GET /v1/<id:int>"},
		},
		{
			name:       "nested mounts",
			entrypoint: "inner <- pr() %>% pr_mount('/users', plumb('users.R'))\nouter <- pr()\nouter$mount('/api/v1', inner)\nouter",
			want:       []string{"GET /api/v1/users/", "GET /api/v1/users/<id:int>"},
		},
		{
			name:       "a router mounted twice is routed under both prefixes",
			entrypoint: "u <- plumb('users.R')\npr() %>% pr_mount('/a', u) %>% pr_mount('/b', u)",
			want:       []string{"GET /a/", "GET /a/<id:int>", "GET /b/", "GET /b/<id:int>"},
		},
		{
			name: "handle with methods, serializer and lower case",
			entrypoint: "pr <- pr()\n" +
				"pr$handle(c('get', 'post'), '/x', function() 1, serializer = plumber::serializer_png())\n" +
				"pr_handle(pr, methods = 'PATCH', path = 'y', handler = function() 1)\npr",
			want: []string{"GET /x", "POST /x", "PATCH /y"},
		},
		{
			name:       "routes added inside a function body",
			entrypoint: "add_health <- function(pr) {\n  pr %>%\n    pr_get('/health', \\() 'ok')\n}\nplumb('users.R') %>% add_health()\n",
			want:       []string{"GET /", "GET /<id:int>", "GET /health"},
		},
		{
			name:       "both branches of an if",
			entrypoint: "if (Sys.getenv('V2') == '1') {\n  r <- plumb('v2.R')\n} else\n  r <- plumb('users.R')\nr\n",
			files:      map[string]string{"v2.R": "#* @get /v2\nfunction() 2\n"},
			want:       []string{"GET /", "GET /<id:int>", "GET /v2"},
		},
		{
			name:       "indexing, formulas and arithmetic do not confuse the reader",
			entrypoint: "cfg <- list(a = 1)[[1]]\nx <- -cfg^2 + c(1, 2)[2] * 3 %% 2\ny <- ~ x\npr() %>% pr_get(paste0('/p', 1), function() 1)\n",
			warning:    "entrypoint.R:4: cannot tell the path of the route pr_get adds",
		},
		{
			name:       "a router mounted into itself is not followed",
			entrypoint: "r <- plumb('users.R')\nr$mount('/again', r)\nr",
			warning:    "entrypoint.R:2: $mount() mounts a router into itself",
			want:       []string{"GET /", "GET /<id:int>"},
		},
		{
			name:       "plumb(dir) of its own folder would recurse",
			entrypoint: "plumb()",
			warning:    "entrypoint.R:1: plumb() reads this entrypoint.R again",
		},
		{
			name:       "plumb(dir) of a folder without an API",
			entrypoint: "pr() %>% pr_mount('/x', plumb(dir = 'nothing'))",
			files:      map[string]string{"nothing/readme.txt": ""},
			warning:    "entrypoint.R:1: nothing holds neither entrypoint.R nor plumber.R",
		},
		{
			name:       "absolute paths are not read",
			entrypoint: "plumb('/srv/api/plumber.R')",
			warning:    `entrypoint.R:1: "/srv/api/plumber.R" is not a path inside the API directory`,
		},
		{
			name:       "an unknown router cannot be routed",
			entrypoint: "pr() %>% pr_mount('/x', make_router())",
			warning:    "entrypoint.R:1: cannot tell which router pr_mount mounts",
		},
		{
			name:       "an unknown prefix leaves the router out",
			entrypoint: "for (p in c('/a', '/b')) pr() %>% pr_mount(prefix, plumb('users.R'))",
			warning:    "entrypoint.R:1: cannot tell the path pr_mount mounts a router at",
		},
		{
			name:       "a missing file",
			entrypoint: "pr() %>%\n  pr_mount('/users', plumb('users.R')) %>%\n  pr_mount('/gone', plumb('gone.R'))\n",
			want:       []string{"GET /users/", "GET /users/<id:int>"},
			warning:    "entrypoint.R:3: gone.R does not exist; its endpoints cannot be routed",
		},
		{
			name:       "entrypoint annotations, comments and strings are not followed",
			entrypoint: "#* @get /annotated\n# plumb('users.R')\ncat(\"plumb('users.R')\")\nx <- r\"(pr_get(pr(), '/raw', f))\"\npr()\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"entrypoint.R": tt.entrypoint, "users.R": usersR}
			for name, content := range tt.files {
				files[name] = content
			}
			api, err := Load(writeAPI(t, files))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range api.Endpoints {
				got = append(got, e.Method+" "+e.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("endpoints\n got %q\nwant %q", got, tt.want)
			}
			warnings := strings.Join(api.Warnings, "\n")
			if tt.warning == "" && warnings != "" || !strings.Contains(warnings, tt.warning) {
				t.Errorf("warnings %q, want %q", warnings, tt.warning)
			}
		})
	}
}

func TestJoinPath(t *testing.T) {
	tests := []struct{ prefix, path, want string }{
		{"", "/x", "/x"},
		{"/users/", "/", "/users/"},
		{"/users/", "/list", "/users/list"},
		{"/users", "/list", "/users/list"},
		{"/", "/x", "/x"},
		{"/a//", "/b", "/a/b"},
	}
	for _, tt := range tests {
		if got := joinPath(tt.prefix, tt.path); got != tt.want {
			t.Errorf("joinPath(%q, %q) = %q, want %q", tt.prefix, tt.path, got, tt.want)
		}
	}
}

// FuzzEntrypoint checks that any entrypoint.R loads without a panic or a hang.
func FuzzEntrypoint(f *testing.F) {
	for _, name := range []string{"pipe", "method", "programmatic", "subdir"} {
		src, err := os.ReadFile(filepath.Join("testdata", name, "entrypoint.R"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	f.Add("f(a = , , b)[[1]]]] $ @ :: ( { \\ function if (x) else for while repeat -> <- %>% |>")
	dir := writeAPI(f, map[string]string{"users.R": usersR})
	f.Fuzz(func(t *testing.T, src string) {
		l := &loader{dir: dir, annotated: map[string]*parsedFile{}, sourcing: map[string]bool{}}
		api := &API{}
		l.sourceEntrypoint("", "entrypoint.R", src).flatten("", api, map[*router]bool{})
		for _, e := range api.Endpoints {
			if !strings.HasPrefix(e.Path, "/") {
				t.Errorf("endpoint path %q", e.Path)
			}
		}
	})
}
