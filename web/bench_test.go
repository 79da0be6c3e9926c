package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// benchEnv seeds an estate once per benchmark binary run; its size comes
// from PATCHREADY_BENCH_ENDPOINTS (default 100000).
func benchEnv(b *testing.B) (*env, *http.Cookie) {
	n := 100000
	if v := os.Getenv("PATCHREADY_BENCH_ENDPOINTS"); v != "" {
		n = atoi(v)
	}
	e := newEnv(b, 0)
	if err := e.db.SeedDemo(context.Background(), n); err != nil {
		b.Fatal(err)
	}
	c := e.login("victor")
	u, _ := http.NewRequest("GET", e.ts.URL, nil)
	return e, c.http.Jar.Cookies(u.URL)[0]
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// BenchmarkServersPage measures the Servers list's server-side time (no
// network): routing, session, queries and rendering.
func BenchmarkServersPage(b *testing.B) {
	e, cookie := benchEnv(b)
	for _, q := range []string{"", "exemption=powered-off", "exemption=pending-user-action", "impact=cannot-patch",
		"warning=low-disk-space", "impact=cannot-patch&exemption=disconnected", "page=200", "sort=disk&order=desc",
		"label=env:prod&not_label=legacy&sort=label:team", "q=web+10.17"} {
		name := q
		if name == "" {
			name = "unfiltered"
		}
		b.Run(strings.ReplaceAll(name, "/", "_"), func(b *testing.B) {
			req := httptest.NewRequest("GET", "/servers?"+q, nil)
			req.AddCookie(cookie)
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d", w.Code)
				}
			}
		})
	}
}
