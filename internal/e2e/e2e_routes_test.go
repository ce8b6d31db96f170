package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// Routes follow the code: an endpoint added to plumber.R after a deploy is served through
// the proxy after a plain redeploy, with no init --force. Deploy refreshes the files rscale
// still owns (a new package reaches install.R) and keeps the ones the user edited (the
// test's shorter health checks in rscale.yml).
func TestE2ERoutesFollowTheCode(t *testing.T) {
	needEngine(t)
	p := newProject(t, "sleep", "rscale-e2e-routes")
	mustRscale(t, "deploy", p.dir)
	served(t, p, "/fast")
	if r, err := request("GET", p.url("/new"), "", ""); err != nil || r.status != http.StatusNotFound {
		t.Fatalf("GET /new before it exists: %v %d %s, want 404 from plumber", err, r.status, r.body)
	}

	p.edit(t, "plumber.R", "#* Answer at once", "library(jsonlite)\n\n#* Added after the first deploy\n#* @get /new\nfunction() list(new = TRUE)\n\n#* Answer at once")
	r := mustRscale(t, "deploy", p.dir)
	for _, want := range []string{"updated .rscale/install.R", "kept your edit rscale.yml"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("deploy after an edit of plumber.R does not say %q:\n%s", want, r.stderr)
		}
	}
	if r := served(t, p, "/new"); string(r.body) != `{"new":[true]}` {
		t.Errorf("GET /new answered %s", r.body)
	}
	served(t, p, "/fast")
}
