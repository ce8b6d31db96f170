package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rscale/rscale/internal/testenv"
)

// Routes follow the code: an endpoint added to plumber.R after a deploy is served through
// the proxy after a plain redeploy, with no init --force. Deploy refreshes the files rscale
// still owns (a new package reaches install.R) and keeps the ones the user edited (the
// test's shorter health checks in rscale.yml).
func TestE2ERoutesFollowTheCode(t *testing.T) {
	testenv.NeedEngine(t)
	p := testenv.NewProject(t, "sleep", "rscale-e2e-routes")
	testenv.MustRscale(t, "deploy", p.Dir)
	testenv.Served(t, p, "/fast")
	if r, err := testenv.Request("GET", p.URL("/new"), "", ""); err != nil || r.Status != http.StatusNotFound {
		t.Fatalf("GET /new before it exists: %v %d %s, want 404 from plumber", err, r.Status, r.Body)
	}

	p.Edit(t, "plumber.R", "#* Answer at once", "library(jsonlite)\n\n#* Added after the first deploy\n#* @get /new\nfunction() list(new = TRUE)\n\n#* Answer at once")
	r := testenv.MustRscale(t, "deploy", p.Dir)
	for _, want := range []string{"updated .rscale/install.R", "kept your edit rscale.yml"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("deploy after an edit of plumber.R does not say %q:\n%s", want, r.Stderr)
		}
	}
	if r := testenv.Served(t, p, "/new"); string(r.Body) != `{"new":[true]}` {
		t.Errorf("GET /new answered %s", r.Body)
	}
	testenv.Served(t, p, "/fast")
}
