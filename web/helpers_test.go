package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"patchready/store"
)

const testPassword = "correct-horse-42"

// env is a running server on a fresh database with a demo estate and one
// user of each role: admin, olivia (operator), victor (viewer).
type env struct {
	t   testing.TB
	db  *store.DB
	srv *Server
	ts  *httptest.Server
}

func newEnv(t testing.TB, endpoints int, options ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for name, role := range map[string]store.Role{"admin": store.Admin, "olivia": store.Operator, "victor": store.Viewer} {
		if _, err := db.CreateUser(ctx, "test", name, testPassword, role); err != nil {
			t.Fatal(err)
		}
	}
	if endpoints > 0 {
		if err := db.SeedDemo(ctx, endpoints); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{SessionKey: "test-key", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range options {
		o(&cfg)
	}
	srv := New(db, cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, db: db, srv: srv, ts: ts}
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// get fetches a page and remembers the CSRF token it carries.
func (c *client) get(path string) (*http.Response, string) {
	c.e.t.Helper()
	res, err := c.http.Get(c.e.ts.URL + path)
	if err != nil {
		c.e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res, string(b)
}

// post submits a form with the current CSRF token (unless the form sets _csrf).
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	res, err := c.http.PostForm(c.e.ts.URL+path, form)
	if err != nil {
		c.e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// login signs in and fails the test if it does not work.
func (e *env) login(user string) *client {
	e.t.Helper()
	c := e.client()
	c.get("/login")
	res, _ := c.post("/login", url.Values{"username": {user}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		e.t.Fatalf("login as %s: %d %s", user, res.StatusCode, res.Header.Get("Location"))
	}
	c.get("/")
	return c
}

// api calls the JSON API with a bearer token.
func (e *env) api(token, method, path, body string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// endpointWith returns an endpoint that has the exemption.
func (e *env) endpointWith(code store.Code) *store.Endpoint {
	e.t.Helper()
	p, err := e.db.List(context.Background(), filterOf(e.t, "per_page=1&exemption="+string(code)), false)
	if err != nil || len(p.Rows) == 0 {
		e.t.Fatalf("no endpoint with %s (%v)", code, err)
	}
	ep, err := e.db.Endpoint(context.Background(), p.Rows[0].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

func hasCode(ep *store.Endpoint, code store.Code) bool {
	for _, x := range ep.Exemptions {
		if x.Code == code {
			return true
		}
	}
	return false
}

// filterOf is the filter a list URL's query string stands for.
func filterOf(t testing.TB, query string) store.Filter {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFilter(q)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return f
}
