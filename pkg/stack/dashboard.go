package stack

import (
	"fmt"
	"net/url"
)

// Dashboard says where the proxy's dashboard is and who may open it, as init recorded it;
// "" when the stack publishes none. The password stays in its file: it is never printed.
func (e Extension) Dashboard() string {
	if e.DashboardURL == "" {
		return ""
	}
	return DashboardHint(e.DashboardURL, e.DashboardUser, e.DashboardPasswordFile)
}

// DashboardHint is how init and deploy point to the dashboard.
func DashboardHint(url, user, passwordFile string) string {
	return fmt.Sprintf("%s (user %s, password in %s)", url, user, passwordFile)
}

// WithoutDashboard drops the dashboard's address from urls, the stack's published ports,
// leaving those that serve the API.
func (e Extension) WithoutDashboard(urls []string) []string {
	if e.DashboardURL == "" {
		return urls
	}
	var out []string
	for _, u := range urls {
		if portOf(u) != portOf(e.DashboardURL) {
			out = append(out, u)
		}
	}
	return out
}

func portOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return parsed.Port()
}
