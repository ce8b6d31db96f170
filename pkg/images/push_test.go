package images

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	registrytypes "github.com/docker/docker/api/types/registry"
)

// writeConfig points the docker CLI's configuration at a file holding cfg.
func writeConfig(t *testing.T, cfg string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func decodeAuth(t *testing.T, header string) registrytypes.AuthConfig {
	t.Helper()
	data, err := base64.URLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var a registrytypes.AuthConfig
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthFromTheDockerCLIConfig(t *testing.T) {
	login := base64.StdEncoding.EncodeToString([]byte("ana:s3cret"))
	writeConfig(t, `{"auths": {"registry.example.com:5000": {"auth": "`+login+`"}, "https://index.docker.io/v1/": {"auth": "`+base64.StdEncoding.EncodeToString([]byte("hubuser:hubpass"))+`"}}}`)

	header, err := Auth("registry.example.com:5000")
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAuth(t, header); a.Username != "ana" || a.Password != "s3cret" {
		t.Errorf("credentials for registry.example.com:5000: %+v", a)
	}
	header, err = Auth("docker.io")
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAuth(t, header); a.Username != "hubuser" {
		t.Errorf("Docker Hub's credentials: %+v", a)
	}
	if header, err := Auth("other.example.com"); err != nil || header != "" {
		t.Errorf("a registry with no login: %q, %v; want no header", header, err)
	}
}

// A credential helper named in the configuration is asked, as the docker CLI asks it.
func TestAuthFromACredentialHelper(t *testing.T) {
	bin := t.TempDir()
	helper := "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"helped\",\"Secret\":\"from-helper\"}'\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-rscaletest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	writeConfig(t, `{"credHelpers": {"private.example.com": "rscaletest"}}`)
	header, err := Auth("private.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAuth(t, header); a.Username != "helped" || a.Password != "from-helper" {
		t.Errorf("credentials from the helper: %+v", a)
	}
}

type fakeAPI struct {
	tagged  []string
	pushed  string
	auth    string
	stream  string
	pushErr error
}

func (f *fakeAPI) ImageTag(_ context.Context, source, target string) error {
	f.tagged = append(f.tagged, source+" "+target)
	return nil
}

func (f *fakeAPI) ImagePush(_ context.Context, ref string, o image.PushOptions) (io.ReadCloser, error) {
	f.pushed, f.auth = ref, o.RegistryAuth
	if f.pushErr != nil {
		return nil, f.pushErr
	}
	return io.NopCloser(strings.NewReader(f.stream)), nil
}

const pushed = `{"status":"The push refers to repository [10.213.0.1:5000/s/api]"}
{"status":"Preparing","progressDetail":{},"id":"a1"}
{"status":"Pushing","progressDetail":{"current":512,"total":1024},"progress":"[=>  ]","id":"a1"}
{"status":"Pushed","progressDetail":{},"id":"a1"}
{"status":"Layer already exists","progressDetail":{},"id":"b2"}
{"status":"rscale-1: digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef size: 1234"}
{"progressDetail":{},"aux":{"Tag":"rscale-1","Digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Size":1234}}
`

func TestPushPinsByDigest(t *testing.T) {
	writeConfig(t, `{"auths": {"10.213.0.1:5000": {"auth": "`+base64.StdEncoding.EncodeToString([]byte("u:p"))+`"}}}`)
	api := &fakeAPI{stream: pushed}
	var progress bytes.Buffer
	got, err := Push(context.Background(), api, "s/api:rscale-1", "10.213.0.1:5000/s/api:rscale-1", &progress)
	if err != nil {
		t.Fatal(err)
	}
	want := "10.213.0.1:5000/s/api:rscale-1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got != want {
		t.Errorf("Push = %q, want %q", got, want)
	}
	if len(api.tagged) != 1 || api.tagged[0] != "s/api:rscale-1 10.213.0.1:5000/s/api:rscale-1" || api.pushed != "10.213.0.1:5000/s/api:rscale-1" {
		t.Errorf("tagged %v, pushed %q", api.tagged, api.pushed)
	}
	if a := decodeAuth(t, api.auth); a.Username != "u" {
		t.Errorf("pushed with %+v, want the login for 10.213.0.1:5000", a)
	}
	// "Pushing" and "Pushed" are the pipeline's progress events; Push shows the layers.
	wantProgress := "  a1: Pushed\n  b2: Layer already exists\n"
	if progress.String() != wantProgress {
		t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), wantProgress)
	}
}

func TestPushErrorsSayWhatToDo(t *testing.T) {
	writeConfig(t, `{}`)
	for name, c := range map[string]struct {
		stream  string
		pushErr error
		want    []string
	}{
		"not logged in": {
			stream: `{"status":"Preparing","id":"a1"}` + "\n" + `{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}`,
			want:   []string{"unauthorized: authentication required", "docker login registry.example.com", "Nothing was deployed"},
		},
		"plain HTTP registry not trusted": {
			stream: `{"errorDetail":{"message":"Get \"https://registry.example.com/v2/\": http: server gave HTTP response to HTTPS client"}}`,
			want:   []string{"server gave HTTP response to HTTPS client", `"insecure-registries": ["registry.example.com"]`, "every node"},
		},
		"engine refuses": {
			pushErr: errors.New("Error response from daemon: connection refused"),
			want:    []string{"connection refused", "check that registry.example.com is up"},
		},
		"no digest": {
			stream: `{"status":"Pushed","id":"a1"}`,
			want:   []string{"without giving the image's digest"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Push(context.Background(), &fakeAPI{stream: c.stream, pushErr: c.pushErr}, "s/api:1", "registry.example.com/s/api:1", nil)
			if err == nil {
				t.Fatal("Push succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
