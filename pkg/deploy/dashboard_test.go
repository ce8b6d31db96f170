package deploy

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Deploy names the dashboard and who may open it, from what init recorded, and does not
// count its port among the API's URLs.
func TestDashboardIsNotAnAPIURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rscale.yml")
	stack := `x-rscale:
  stack: demo
  dashboard:
    url: "http://localhost:8404/"
    user: "rscale"
    password_file: ".rscale/secrets/dashboard-password"
services:
  proxy:
    image: haproxy
    ports:
      - {target: 80, published: 9000, mode: host}
      - {target: 8404, published: 8404, mode: host}
`
	if err := os.WriteFile(file, []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(context.Background(), file, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.URLs(); !reflect.DeepEqual(got, []string{"http://localhost:9000/"}) {
		t.Errorf("URLs = %v, want the API's only", got)
	}
	d := DashboardOf(plan.Project)
	if d == nil || d.String() != "http://localhost:8404/ (user rscale, password in .rscale/secrets/dashboard-password)" {
		t.Errorf("dashboard %v", d)
	}
	plan.Project.Extensions["x-rscale"] = map[string]any{"stack": "demo"}
	if d := DashboardOf(plan.Project); d != nil {
		t.Errorf("a stack without a dashboard has %v", d)
	}
}
