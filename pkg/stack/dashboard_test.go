package stack

import (
	"reflect"
	"testing"
)

// Deploy names the dashboard and who may open it, from what init recorded, and does not
// count its port among the API's URLs.
func TestDashboardIsNotAnAPIURL(t *testing.T) {
	e := Extension{DashboardURL: "http://localhost:8404/", DashboardUser: "rscale", DashboardPasswordFile: ".rscale/secrets/dashboard-password"}
	urls := []string{"http://localhost:8404/", "http://localhost:9000/"}
	if got := e.WithoutDashboard(urls); !reflect.DeepEqual(got, []string{"http://localhost:9000/"}) {
		t.Errorf("WithoutDashboard = %v, want the API's only", got)
	}
	if got := e.Dashboard(); got != "http://localhost:8404/ (user rscale, password in .rscale/secrets/dashboard-password)" {
		t.Errorf("Dashboard() = %q", got)
	}
	none := Extension{Stack: "demo"}
	if none.Dashboard() != "" || !reflect.DeepEqual(none.WithoutDashboard(urls), urls) {
		t.Error("a stack without a dashboard")
	}
}
