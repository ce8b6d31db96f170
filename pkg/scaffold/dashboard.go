package scaffold

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	// edgeMarginSeconds is what Traefik waits beyond HAProxy's queue and request timeouts, so
	// that HAProxy, which knows why, answers a request that takes too long.
	edgeMarginSeconds = 10

	// The dashboard's credentials live in SecretsDir, which the generated .rscale/.gitignore and
	// .dockerignore keep out of git and of the image; the proxy reads them from a Swarm secret.
	DashboardUser         = "rscale"
	SecretsDir            = ".rscale/secrets"
	DashboardPasswordFile = SecretsDir + "/dashboard-password"
	DashboardUsersFile    = SecretsDir + "/dashboard-users"
)

// DashboardSecrets are the files that protect the proxy's dashboard: the password, kept when
// dir already has one so that running init again does not change it, and the user and
// password in the form the proxy reads (an HAProxy userlist, or an htpasswd line for Traefik).
func DashboardSecrets(dir, proxy string) ([]File, error) {
	password, err := os.ReadFile(filepath.Join(dir, DashboardPasswordFile))
	switch {
	case err == nil:
		password = []byte(strings.TrimSpace(string(password)))
	case errors.Is(err, fs.ErrNotExist):
		password = []byte(newPassword())
	default:
		return nil, fmt.Errorf("reading the dashboard's password: %w", err)
	}
	if len(password) == 0 || strings.ContainsAny(string(password), " \t\n#:\\\"'") {
		return nil, fmt.Errorf("%s: the password must be one word without spaces, quotes, # or colons; delete the file and run init again for a new one", DashboardPasswordFile)
	}
	var users string
	switch proxy {
	case ProxyHAProxy:
		users = "# Who may open HAProxy's statistics page; written by rscale init, shipped as a Swarm secret.\n" +
			"userlist dashboard\n    user " + DashboardUser + " insecure-password " + string(password) + "\n"
	case ProxyTraefik:
		// A salted hash gains nothing over SHA-1 for a random 128-bit password, and {SHA} is
		// one of the forms Traefik's basicAuth reads.
		sum := sha1.Sum(password)
		users = DashboardUser + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
	default:
		return nil, fmt.Errorf("unknown proxy %q", proxy)
	}
	return []File{
		{Path: DashboardPasswordFile, Data: append(password, '\n')},
		{Path: DashboardUsersFile, Data: []byte(users)},
	}, nil
}

// newPassword is 128 random bits, in letters and digits so it can be typed.
func newPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "=")
}

// WriteSecrets writes files readable by their owner only.
func WriteSecrets(dir string, files []File) error {
	for _, f := range files {
		path := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := os.WriteFile(path, f.Data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	return nil
}

// DashboardPort is where the proxy publishes its dashboard.
func (o Options) DashboardPort() int {
	if o.Proxy == ProxyTraefik {
		return 8080
	}
	return 8404
}

// DashboardURL is the dashboard's address on the node the proxy runs on.
func (o Options) DashboardURL() string {
	if o.Proxy == ProxyTraefik {
		return fmt.Sprintf("http://localhost:%d/dashboard/", o.DashboardPort())
	}
	return fmt.Sprintf("http://localhost:%d/", o.DashboardPort())
}
