package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"patchready/store"
)

func TestAnonymousIsSentToLogin(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client()
	for _, path := range []string{"/", "/servers", "/servers/1", "/kb", "/audit", "/settings"} {
		res, _ := c.get(path)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	res, _ := c.get("/healthz")
	if res.StatusCode != http.StatusOK {
		t.Errorf("healthz %d", res.StatusCode)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, 0)
	t.Run("wrong password gives no session", func(t *testing.T) {
		c := e.client()
		c.get("/login")
		res, body := c.post("/login", url.Values{"username": {"admin"}, "password": {"wrong-password"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
			t.Fatalf("%d", res.StatusCode)
		}
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("signed in after a wrong password: %d", res.StatusCode)
		}
	})
	t.Run("missing CSRF token is refused", func(t *testing.T) {
		c := e.client()
		c.get("/login")
		res, _ := c.post("/login", url.Values{"_csrf": {""}, "username": {"admin"}, "password": {testPassword}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%d", res.StatusCode)
		}
	})
	t.Run("cookie flags", func(t *testing.T) {
		c := e.client()
		c.get("/login")
		res, _ := c.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
		cookie := res.Header.Get("Set-Cookie")
		for _, flag := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, flag) {
				t.Errorf("cookie %q lacks %s", cookie, flag)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("Secure cookie over plain HTTP: %q", cookie)
		}
	})
	t.Run("redirect after login stays on site", func(t *testing.T) {
		c := e.client()
		c.get("/login")
		res, _ := c.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {"//evil.example/"}})
		if res.Header.Get("Location") != "/" {
			t.Fatalf("redirected to %q", res.Header.Get("Location"))
		}
	})
	t.Run("throttled after repeated failures", func(t *testing.T) {
		c := e.client()
		c.get("/login")
		var res *http.Response
		for range maxFailsPerPair + 1 {
			res, _ = c.post("/login", url.Values{"username": {"victor"}, "password": {"nope-nope-nope"}})
		}
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%d", res.StatusCode)
		}
		// Even the right password waits now.
		res, _ = c.post("/login", url.Values{"username": {"victor"}, "password": {testPassword}})
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password while throttled: %d", res.StatusCode)
		}
	})
	t.Run("idle and old sessions end", func(t *testing.T) {
		clock := time.Now()
		e := newEnv(t, 0, func(c *Config) {
			c.IdleTimeout, c.MaxAge = time.Hour, 10*time.Hour
			c.Now = func() time.Time { return clock }
		})
		c := e.login("victor")
		clock = clock.Add(59 * time.Minute)
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusOK {
			t.Fatalf("active session ended: %d", res.StatusCode)
		}
		clock = clock.Add(61 * time.Minute)
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("idle session still valid: %d", res.StatusCode)
		}
		c = e.login("victor")
		for range 11 { // active every 55 minutes, but past the absolute limit
			clock = clock.Add(55 * time.Minute)
			c.get("/")
		}
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session older than MaxAge still valid: %d", res.StatusCode)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		c := e.login("admin")
		c.post("/logout", nil)
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("still signed in: %d", res.StatusCode)
		}
	})
}

var rowIDs = regexp.MustCompile(`<tr data-id="(\d+)"`)

func TestServersFilters(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("victor")
	ctx := context.Background()
	tests := []struct{ query string }{
		{""}, {"impact=cannot-patch"}, {"exemption=powered-off"}, {"exemption=powered-off&exemption=pending-user-action"},
		{"warning=low-disk-space"}, {"os=windows&protocol=web"}, {"schedule=none"}, {"q=win-sql"}, {"q=10.16.0."},
		{"impact=cannot-patch&exemption=disconnected&os=linux"}, {"q=sql+fra1"}, {"q=sql,web&os=linux"},
		{"not_exemption=powered-off&impact=cannot-patch"}, {"label=env:prod&label=site:fra1"}, {"label=tier:*&not_label=env:dev"},
		{"label=legacy"}, {"exemption=disconnected,powered-off&label=team:payments"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := c.get("/servers?per_page=500&" + tt.query)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%d", res.StatusCode)
			}
			// Every row shown matches the filter, checked against the store.
			ids := rowIDs.FindAllStringSubmatch(body, -1)
			var want int64
			f := filterOf(t, tt.query)
			for _, m := range ids {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				ep, _ := e.db.Endpoint(ctx, id)
				if !matches(ep, f) {
					t.Fatalf("row %s does not match %q", ep.Name, tt.query)
				}
			}
			f.PerPage = 1
			p, _ := e.db.List(ctx, f, false)
			want = p.Total
			if !strings.Contains(body, fmt.Sprintf(`data-total="%d"`, want)) && want > 0 {
				t.Fatalf("total %d not shown", want)
			}
			if int64(len(ids)) != min(want, 500) {
				t.Fatalf("%d rows, want %d", len(ids), min(want, 500))
			}
		})
	}
}

// matches checks an endpoint against a filter independently of the read
// model, from the endpoint as stored.
func matches(ep *store.Endpoint, f store.Filter) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	values := map[string][]string{store.DimImpact: {ep.Impact.String()}, store.DimOS: {str(ep.OSFamily)},
		store.DimProtocol: {str(ep.Protocol)}, store.DimSchedule: {"none"}}
	if ep.ScheduleID != 0 {
		values[store.DimSchedule] = []string{strconv.FormatInt(ep.ScheduleID, 10)}
	}
	if ep.LowDisk {
		values[store.DimWarning] = []string{string(store.LowDiskSpace)}
	}
	for _, x := range ep.Exemptions {
		values[store.DimExemption] = append(values[store.DimExemption], string(x.Code))
	}
	for _, l := range append(slices.Clone(ep.Labels), ep.ManualLabels...) {
		values[store.DimLabel] = append(values[store.DimLabel], l)
		if k, _, ok := strings.Cut(l, ":"); ok {
			values[store.DimLabel] = append(values[store.DimLabel], k+":*")
		}
	}
	for _, c := range f.Conds {
		d, _, _ := store.DimensionByParam(c.Dim)
		n := 0
		for _, v := range c.Values {
			if slices.Contains(values[c.Dim], v) {
				n++
			}
		}
		switch {
		case c.Not && n > 0, !c.Not && d.AllOf && n < len(c.Values), !c.Not && !d.AllOf && n == 0:
			return false
		}
	}
	return len(f.Q) == 0 || slices.ContainsFunc(f.Q, func(q string) bool {
		q = strings.ToLower(q)
		return strings.Contains(strings.ToLower(ep.Name), q) || strings.Contains(strings.ToLower(str(ep.IP)), q)
	})
}

func TestServersFacetCounts(t *testing.T) {
	e := newEnv(t, 3000)
	ctx := context.Background()
	// rows counts the endpoints the list's page query returns for f, page by
	// page: the counters and the rows are computed apart, so each checks the
	// other.
	rows := func(f store.Filter) int64 {
		t.Helper()
		var n int64
		if err := e.db.Each(ctx, f, false, func(store.Row) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, query := range []string{"", "impact=cannot-patch", "os=windows&exemption=disconnected", "q=web", "q=we", "label=env:prod&not_exemption=powered-off"} {
		base := filterOf(t, query)
		fc, err := e.db.Facets(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		if n := rows(base); fc.Total != n {
			t.Errorf("%q: total says %d, list has %d", query, fc.Total, n)
		}
		// Each option's count is what choosing it would list: alone among
		// its dimension's "any of" options, or added to its "all of" ones.
		for _, d := range store.Dimensions {
			for v, want := range fc.Counts[d.Name] {
				f := base
				f.Conds = slices.Clone(base.Conds)
				if !d.AllOf {
					f.Conds = slices.DeleteFunc(f.Conds, func(c store.Cond) bool { return c.Dim == d.Name && !c.Not })
				}
				f.Add(d.Name, false, v)
				if n := rows(f); n != want {
					t.Errorf("%q: %s=%s option says %d, list has %d", query, d.Name, v, want, n)
				}
			}
		}
	}
}

func TestServersSortAndPaging(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("victor")
	names := regexp.MustCompile(`<td data-col="name"><a href="/servers/\d+" title="[^"]*">([^<]+)</a>`)
	next := regexp.MustCompile(`href="(/servers\?[^"]+)" rel="next"`)
	// Walking the pages by the Next links visits every endpoint once, in order.
	seen := map[string]bool{}
	last := ""
	path := "/servers?per_page=500"
	for pages := 0; path != ""; pages++ {
		res, body := c.get(path)
		if res.StatusCode != 200 || pages > 10 {
			t.Fatalf("%s: %d after %d pages", path, res.StatusCode, pages)
		}
		for _, m := range names.FindAllStringSubmatch(body, -1) {
			n := strings.ToLower(m[1])
			if seen[n] || n < last {
				t.Fatalf("%s repeated or out of order after %s", n, last)
			}
			seen[n], last = true, n
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 3000 {
		t.Fatalf("visited %d endpoints", len(seen))
	}
	// A previous link from a cursor page goes back to the same rows.
	next1 := next.FindStringSubmatch(mustGet(c, "/servers"))
	_, p2 := c.get(strings.ReplaceAll(next1[1], "&amp;", "&"))
	prev := regexp.MustCompile(`href="(/servers[^"]*)" rel="prev"`).FindStringSubmatch(p2)
	if prev == nil {
		t.Fatal("no previous link")
	}
	_, p1 := c.get(strings.ReplaceAll(prev[1], "&amp;", "&"))
	if names.FindStringSubmatch(p1)[1] != names.FindStringSubmatch(mustGet(c, "/servers"))[1] {
		t.Fatal("previous page differs from the first page")
	}
	// Sorting by disk, descending: fullest first.
	_, body := c.get("/servers?sort=disk&order=desc&per_page=20")
	pcts := regexp.MustCompile(`<span class="pct">([\d.]+) %</span>`).FindAllStringSubmatch(body, -1)
	for i := 1; i < len(pcts); i++ {
		a, _ := strconv.ParseFloat(pcts[i-1][1], 64)
		b, _ := strconv.ParseFloat(pcts[i][1], 64)
		if b > a {
			t.Fatalf("disk order broken: %v then %v", a, b)
		}
	}
	// A page past the end is empty, not an error.
	if res, body := c.get("/servers?page=999"); res.StatusCode != 200 || !strings.Contains(body, "past the end of the list") {
		t.Fatalf("page past the end: %d", res.StatusCode)
	}
}

func mustGet(c *client, path string) string { _, b := c.get(path); return b }

func TestServersBadInput(t *testing.T) {
	e := newEnv(t, 10)
	c := e.login("victor")
	for _, tt := range []struct{ query, param string }{
		{"impact=maybe", "impact"},
		{"exemption=not-a-code", "exemption"},
		{"exemption=low-disk-space", "exemption"},
		{"warning=full", "warning"},
		{"os=plan9", "os"},
		{"protocol=ftp", "protocol"},
		{"schedule=abc", "schedule"},
		{"sort=colour", "sort"},
		{"order=sideways", "order"},
		{"page=0", "page"},
		{"page=-1", "page"},
		{"per_page=501", "per_page"},
		{"per_page=x", "per_page"},
		{"sort=disk&after=abc", "after or before"},
		{"label=Bad%20Key!", "label"},
		{"label=env:", "label"},
		{"not_label=%2A", "not_label"},
		{"not_exemption=bogus", "not_exemption"},
		{"exemption=powered-off,bogus", "exemption"},
		{"warning=bogus", "warning"},
		{"impact=cannot-patch&impact=worse", "impact"},
		{"sort=label:Bad!", "sort"},
		{"q=a+b+c+d+e+f+g+h+i+j+k", "q"},
		{"before=m", "after or before"},
		{"after=a&before=b", "before"},
		{"q=%00ab", "q"}, // a NUL would end SQLite's pattern: every endpoint matched
		{"q=ab%1Bc", "q"},
		{"q=%FF%FEab", "q"},
		{"q=" + strings.Repeat("%E6%97%A5", 70), "q"},
	} {
		for _, path := range []string{"/servers?", "/servers.csv?"} {
			res, body := c.get(path + tt.query)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "The "+tt.param+" parameter") {
				t.Errorf("%s%s: %d, body names %s? %v", path, tt.query, res.StatusCode, tt.param, strings.Contains(body, tt.param))
			}
		}
	}
	for _, path := range []string{"/servers/abc", "/servers/0", "/schedules/x"} {
		if res, _ := c.get(path); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/servers/99999", "/schedules/999", "/kb/nothing", "/nowhere"} {
		if res, _ := c.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}

func TestServersCSV(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("victor")
	c.post("/servers/columns", url.Values{"col": {"ip", "impact", "disk"}})
	res, body := c.get("/servers.csv?impact=temporarily-cannot-patch")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "Name,IP,Impact,Disk Space In Use" {
		t.Fatalf("header %v", rows[0])
	}
	p, _ := e.db.List(context.Background(), filterOf(t, "impact=temporarily-cannot-patch&per_page=1"), false)
	if int64(len(rows)-1) != p.Total || p.Total < 500 {
		t.Fatalf("%d rows, want %d", len(rows)-1, p.Total)
	}
	for _, r := range rows[1:] {
		if r[2] != "temporarily-cannot-patch" {
			t.Fatalf("row %v", r)
		}
	}
}

func TestTableSettingsPersist(t *testing.T) {
	e := newEnv(t, 20)
	c := e.login("victor")
	if !strings.Contains(mustGet(c, "/servers"), `data-col="disk"`) {
		t.Fatal("disk column hidden by default")
	}
	res, _ := c.post("/servers/columns", url.Values{"col": {"ip", "impact"}, "return": {"/servers?impact=patchable"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/servers?impact=patchable" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Location"))
	}
	body := mustGet(c, "/servers")
	if strings.Contains(body, `data-col="disk"`) || strings.Contains(body, `data-col="os"`) || !strings.Contains(body, `data-col="ip"`) {
		t.Fatal("columns not applied")
	}
	// Another session of the same user sees the same choice.
	if strings.Contains(mustGet(e.login("victor"), "/servers"), `data-col="disk"`) {
		t.Fatal("choice not kept per user")
	}
	if res, _ := c.post("/servers/columns", url.Values{"col": {"shoe-size"}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown column: %d", res.StatusCode)
	}
	if res, _ := c.post("/servers/columns", url.Values{"col": {"disk"}, "return": {"https://evil.example/"}}); res.Header.Get("Location") != "/servers" {
		t.Fatalf("open redirect: %s", res.Header.Get("Location"))
	}
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("admin")
	paths := []string{"/", "/servers", "/servers/1", "/kb", "/schedules", "/schedules/1", "/audit", "/settings", "/users", "/tokens",
		"/audit?action=schedule.create", "/audit?endpoint=x"}
	for _, en := range append(store.Catalog, store.LowDiskWarning) {
		paths = append(paths, "/kb/"+en.Slug)
	}
	for _, slug := range []string{"readiness", "maintenance-schedules", "supported-platforms", "connector-status"} {
		paths = append(paths, "/kb/"+slug)
	}
	for _, p := range paths {
		if res, _ := c.get(p); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	// Every number on the overview links to a list that shows that number.
	body := mustGet(c, "/")
	links := regexp.MustCompile(`href="(/servers\?[^"]+)">\s*<text x="0" y="\d+">[^<]*</text>.*?<text class="muted"[^>]*>([\d,]+)</text>`).FindAllStringSubmatch(body, -1)
	if len(links) < 20 {
		t.Fatalf("%d chart links", len(links))
	}
	for _, l := range links {
		list := mustGet(c, strings.ReplaceAll(l[1], "&amp;", "&"))
		n := strings.ReplaceAll(l[2], ",", "")
		if !strings.Contains(list, `data-total="`+n+`"`) {
			t.Errorf("%s: overview says %s", l[1], n)
		}
	}
}

// TestConcurrentPages guards against a request holding one pooled reader
// while waiting for another: under load that deadlocks the pool.
func TestConcurrentPages(t *testing.T) {
	e := newEnv(t, 500)
	c := e.login("victor")
	paths := []string{"/servers", "/servers?q=web", "/servers?exemption=powered-off&exemption=disconnected", "/", "/servers.csv", "/schedules"}
	errs := make(chan error, 64)
	for i := range 32 {
		go func() {
			res, err := c.http.Get(e.ts.URL + paths[i%len(paths)])
			if err == nil {
				res.Body.Close()
				if res.StatusCode != 200 {
					err = fmt.Errorf("%s: %d", paths[i%len(paths)], res.StatusCode)
				}
			}
			errs <- err
		}()
	}
	timeout := time.After(20 * time.Second)
	for range 32 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("requests stuck: the connection pool deadlocked")
		}
	}
}

// TestEmptyEstate: a new installation without endpoints or schedules.
func TestEmptyEstate(t *testing.T) {
	e := newEnv(t, 0)
	c := e.login("admin")
	for _, p := range []string{"/", "/servers", "/servers?impact=cannot-patch", "/servers.csv", "/schedules", "/audit", "/kb/powered-off",
		"/servers.csv?os=windows&protocol=web"} {
		res, body := c.get(p)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		if p == "/servers" && !strings.Contains(body, "No endpoints match") {
			t.Error("empty list not explained")
		}
	}
	// Every way of reading the list: merged ranges, indexed and scanned
	// search, another order, cursors both ways.
	for _, p := range []string{"/servers?os=windows&protocol=web", "/servers?exemption=disconnected&os=windows",
		"/servers?exemption=disconnected&impact=cannot-patch", "/servers?q=web", "/servers?q=we", "/servers?q=50%25",
		"/servers?sort=disk&order=desc", "/servers?label=env:prod&not_label=legacy&sort=label:team", "/servers?sort=ip&page=3"} {
		res, body := c.get(p)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "No endpoint") || strings.Contains(body, `<tr data-id=`) {
			t.Errorf("%s: %d, want the empty list", p, res.StatusCode)
		}
	}
	token := e.token("t")
	for _, p := range []string{"/api/v1/endpoints", "/api/v1/endpoints?os=windows&protocol=web"} {
		res, body := e.api(token, "GET", p, "")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `"items":[]`) || !strings.Contains(body, `"total":0`) {
			t.Fatalf("%s: %d %s", p, res.StatusCode, body)
		}
	}
	if res, body := e.api(token, "GET", "/api/v1/facets?label=env:prod", ""); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"total":0`) || !strings.Contains(body, `"label":{}`) {
		t.Fatalf("facets of an empty estate: %d %s", res.StatusCode, body)
	}
	if res, _ := e.api(token, "POST", "/api/v1/endpoints/nobody/labels", `{"add": ["x"]}`); res.StatusCode != http.StatusNotFound {
		t.Fatalf("labels of a missing endpoint: %d", res.StatusCode)
	}
}

// HEAD gets GET's status and headers without a body, through a real server.
func TestHead(t *testing.T) {
	e := newEnv(t, 50)
	c := e.login("victor")
	_, page := c.get("/servers")
	for _, tc := range []struct {
		path   string
		status int
		length int
	}{{"/healthz", 200, -1}, {"/servers", 200, len(page)}, {"/no-such-page", 404, -1}} {
		res, err := c.http.Head(e.ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and none", tc.path, res.StatusCode, len(body), tc.status)
		}
		if tc.length >= 0 && res.ContentLength != int64(tc.length) {
			t.Errorf("HEAD %s: Content-Length %d, the page has %d", tc.path, res.ContentLength, tc.length)
		}
	}
	// A HEAD is not a way around sign-in.
	res, err := e.client().http.Head(e.ts.URL + "/servers")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Errorf("anonymous HEAD /servers: %d", res.StatusCode)
	}
}
