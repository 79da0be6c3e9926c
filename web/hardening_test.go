package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"patchready/store"
)

// do sends a request with the client's cookies; header pairs are set on it.
func (c *client) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	c.e.t.Helper()
	req, _ := http.NewRequest(method, c.e.ts.URL+path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// trustLoopback makes the test server's own address a trusted proxy, so a
// test can sign in "from" the address it puts in X-Forwarded-For.
func trustLoopback(c *Config) {
	_, n, _ := net.ParseCIDR("127.0.0.1/32")
	c.TrustedProxies = []*net.IPNet{n}
}

func (c *client) loginFrom(addr, user, password string) *http.Response {
	c.e.t.Helper()
	c.get("/login")
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {c.csrf}}
	res, _ := c.do("POST", "/login", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", addr)
	return res
}

// 1. The sign-in throttle: bounded memory, client addresses only from
// trusted proxies, and no lock-out of the owner from elsewhere.
func TestSignInThrottle(t *testing.T) {
	t.Run("a flood of long names and forged addresses costs no memory", func(t *testing.T) {
		e := newEnv(t, 0)
		c := e.client()
		c.get("/login")
		heap := func() uint64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := heap()
		for i := range 300 {
			name := fmt.Sprintf("%d-%s", i, strings.Repeat("n", 12<<10))
			form := url.Values{"username": {name}, "password": {"wrong-password"}, "_csrf": {c.csrf}}
			res, _ := c.do("POST", "/login", strings.NewReader(form.Encode()),
				"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", i/250, i%250))
			if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: %d", i, res.StatusCode)
			}
		}
		if grew := int64(heap()) - int64(before); grew > 5<<20 {
			t.Fatalf("heap grew by %d KiB", grew>>10)
		}
		// The forged addresses were ignored: every attempt came from one peer,
		// which is blocked after 20 failures.
		if n := e.srv.throttle.size(); n > 300+2 {
			t.Fatalf("%d throttle entries", n)
		}
	})
	t.Run("the table stays under its size", func(t *testing.T) {
		th := newThrottle(1000)
		now := time.Now()
		for i := range 50_000 {
			th.fail(fmt.Sprint("user-", i), fmt.Sprint("addr-", i%7), now)
		}
		if n := th.size(); n > 1000 {
			t.Fatalf("%d entries", n)
		}
	})
	t.Run("X-Forwarded-For is ignored unless the peer is a trusted proxy", func(t *testing.T) {
		e := newEnv(t, 0)
		c := e.client()
		var res *http.Response
		for i := range maxFailsPerAddr + 1 {
			res = c.loginFrom(fmt.Sprintf("203.0.113.%d", i), fmt.Sprint("nobody", i), "wrong-password")
		}
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("forged addresses escaped the per-address limit: %d", res.StatusCode)
		}
		e = newEnv(t, 0, trustLoopback)
		c = e.client()
		for i := range maxFailsPerAddr + 1 {
			res = c.loginFrom(fmt.Sprintf("203.0.113.%d", i), fmt.Sprint("nobody", i), "wrong-password")
		}
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("behind a trusted proxy, distinct clients were throttled together: %d", res.StatusCode)
		}
	})
	t.Run("failures elsewhere slow the owner down but do not lock them out", func(t *testing.T) {
		clock := time.Now()
		e := newEnv(t, 0, trustLoopback, func(c *Config) { c.Now = func() time.Time { return clock } })
		attacker, owner := e.client(), e.client()
		for range maxFailsPerPair {
			attacker.loginFrom("203.0.113.9", "victor", "wrong-password")
		}
		if res := attacker.loginFrom("203.0.113.9", "victor", testPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the guessing address is not blocked: %d", res.StatusCode)
		}
		if res := owner.loginFrom("198.51.100.7", "victor", testPassword); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("no delay for the user right after five failures: %d", res.StatusCode)
		}
		clock = clock.Add(2 * time.Second)
		if res := owner.loginFrom("198.51.100.7", "victor", testPassword); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the owner is locked out from their own address: %d", res.StatusCode)
		}
		// The delay grows with each failure but never past a minute.
		for range 20 {
			clock = clock.Add(time.Minute)
			attacker.loginFrom(fmt.Sprintf("203.0.113.%d", 20+int(clock.Unix()%200)), "victor", "wrong-password")
		}
		clock = clock.Add(time.Minute)
		if res := e.client().loginFrom("198.51.100.7", "victor", testPassword); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after a minute the owner still waits: %d", res.StatusCode)
		}
	})
}

// countingReader counts what the server read of a request body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// 2. An upload is not read before its sender is known to be an admin with
// a valid CSRF token.
func TestUploadNotReadBeforeAuthorised(t *testing.T) {
	e := newEnv(t, 0, func(c *Config) { c.MaxImportBytes = 1 << 20 })
	const size = 32 << 20
	anon, viewer, admin := e.client(), e.login("victor"), e.login("admin")
	anon.get("/login")
	for _, tt := range []struct {
		name string
		c    *client
		csrf string
		want int
	}{
		{"anonymous", anon, anon.csrf, http.StatusUnauthorized},
		{"viewer", viewer, viewer.csrf, http.StatusForbidden},
		{"admin without token", admin, "", http.StatusForbidden},
		{"admin with a wrong token", admin, "forged", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingReader{r: io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"),
				io.LimitReader(zeros{}, size))}
			req, _ := http.NewRequest("POST", e.ts.URL+"/import?_csrf="+url.QueryEscape(tt.csrf), body)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			req.ContentLength = -1
			res, err := tt.c.http.Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode != tt.want {
					t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
				}
			}
			// Loopback buffers take a few MiB before the server hangs up.
			if read := body.n.Load(); read > size/2 {
				t.Fatalf("the server read %d MiB before refusing", read>>20)
			}
		})
	}
	t.Run("an admin's upload larger than the limit is 413", func(t *testing.T) {
		admin.get("/import")
		body := io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nname\n"),
			io.LimitReader(repeat(strings.Repeat("x", 1023)+"\n"), 2<<20))
		res, msg := admin.do("POST", "/import?_csrf="+url.QueryEscape(admin.csrf), body, "Content-Type", "multipart/form-data; boundary=b")
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than 1 MiB") {
			t.Fatalf("%d", res.StatusCode)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// repeat is an endless reader of s.
func repeat(s string) io.Reader {
	off := 0
	return readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = s[off]
			off = (off + 1) % len(s)
		}
		return len(p), nil
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// 3. Sessions end on the server: a copied cookie stops working after
// sign-out, a password reset, disabling the user (also once re-enabled) and
// a role change.
func TestSessionsRevocable(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	admin := e.login("admin")
	victorID := func() int64 {
		users, _ := e.db.Users(ctx)
		for _, u := range users {
			if u.Name == "victor" {
				return u.ID
			}
		}
		t.Fatal("no victor")
		return 0
	}()
	// copyOf is a second client holding the same cookies: a stolen cookie.
	copyOf := func(c *client) *client {
		cp := e.client()
		u, _ := url.Parse(e.ts.URL)
		cp.http.Jar.SetCookies(u, c.http.Jar.Cookies(u))
		return cp
	}
	signedIn := func(c *client) bool {
		res, _ := c.get("/servers")
		return res.StatusCode == http.StatusOK
	}
	for _, tt := range []struct {
		name string
		end  func(victor *client)
	}{
		{"sign-out", func(v *client) { v.post("/logout", nil) }},
		{"password reset by an admin", func(*client) {
			admin.post(fmt.Sprintf("/users/%d", victorID), url.Values{"role": {"viewer"}, "password": {"another-password-1"}})
			e.db.ChangeUser(ctx, "test", victorID, store.UserChange{Password: testPassword})
		}},
		{"disabled, then enabled again", func(*client) {
			admin.post(fmt.Sprintf("/users/%d", victorID), url.Values{"role": {"viewer"}, "disabled": {"1"}})
			admin.post(fmt.Sprintf("/users/%d", victorID), url.Values{"role": {"viewer"}})
		}},
		{"role change", func(*client) {
			admin.post(fmt.Sprintf("/users/%d", victorID), url.Values{"role": {"operator"}})
			admin.post(fmt.Sprintf("/users/%d", victorID), url.Values{"role": {"viewer"}})
		}},
		{"own password change ends the other sessions", func(v *client) {
			other := e.login("victor")
			v.post("/account/password", url.Values{"current": {testPassword}, "password": {"a-new-password-9"}})
			if !signedIn(v) {
				t.Error("the session that changed the password was ended")
			}
			if signedIn(other) {
				t.Error("another session of the user survived the password change")
			}
			e.db.ChangeUser(ctx, "test", victorID, store.UserChange{Password: testPassword})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			victor := e.login("victor")
			stolen := copyOf(victor)
			if !signedIn(stolen) {
				t.Fatal("the copied cookie does not work to begin with")
			}
			tt.end(victor)
			if signedIn(stolen) {
				t.Fatal("the copied cookie still works")
			}
		})
	}
	t.Run("users who did not change keep their sessions", func(t *testing.T) {
		if !signedIn(admin) {
			t.Fatal("the admin was signed out by changes to another user")
		}
	})
}

// 4. With the session key (from a copy of the database), a forged cookie is
// still no session: the session's secret is not in the database.
func TestForgedCookieWithTheKey(t *testing.T) {
	e := newEnv(t, 0)
	e.login("admin") // a live session exists
	users, _ := e.db.Users(context.Background())
	for _, values := range []map[any]any{
		{"uid": users[0].ID, "csrf": "x", "created": time.Now().Unix(), "seen": time.Now().Unix()}, // the old cookie format
		{"sid": "guessed-secret", "csrf": "x"},
	} {
		hash := sha256Key("hash:test-key")
		enc := sha256Key("enc:test-key")
		codec := securecookie.CodecsFromPairs(hash, enc)
		cookie, err := securecookie.EncodeMulti(sessionName, values, codec...)
		if err != nil {
			t.Fatal(err)
		}
		c := e.client()
		res, _ := c.do("GET", "/servers", nil, "Cookie", sessionName+"="+cookie)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("forged cookie %v: %d", values, res.StatusCode)
		}
	}
}

// 6 and 7. Bad input is a 4xx with a plain message, and changes nothing.
func TestBadInputAnswers4xx(t *testing.T) {
	e := newEnv(t, 300)
	op := e.login("olivia")
	admin := e.login("admin")
	tok, _ := e.db.CreateToken(context.Background(), "test", "hard")
	ep := e.endpointWith(store.PoweredOff)
	soon := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	subSecond := fmt.Sprintf(`{"from": %q, "until": %q, "reason": "x"}`, soon.Add(100*time.Millisecond).Format(time.RFC3339Nano), soon.Add(600*time.Millisecond).Format(time.RFC3339Nano))
	sched, _ := e.db.CreateSchedule(context.Background(), "test", store.ScheduleInput{Name: "hard"})
	form := "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name   string
		c      *client // nil: the API with the token
		method string
		path   string
		body   string
		header []string
		want   int
		says   string
	}{
		{"API suspension shorter than a second", nil, "POST", "/api/v1/endpoints/" + ep.Name + "/suspend", subSecond, nil, 400, "End must be after start"},
		{"page suspension shorter than a second", op, "POST", fmt.Sprintf("/servers/%d/suspend", ep.ID),
			"from=" + soon.Format("2006-01-02T15:04:05") + "&until=" + soon.Format("2006-01-02T15:04:05"), []string{"Content-Type", form}, 422, "End must be after start"},
		{"bulk suspension shorter than a second", op, "POST", "/servers/bulk",
			fmt.Sprintf("action=suspend&scope=checked&id=%d&reason=x&from=%s&until=%s", ep.ID, soon.Format("2006-01-02T15:04:05"), soon.Format("2006-01-02T15:04:05")),
			[]string{"Content-Type", form}, 422, "End must be after start"},
		{"window shorter than a minute", op, "POST", fmt.Sprintf("/schedules/%d/entries", sched),
			"starts_at=" + soon.Format("2006-01-02T15:04:05") + "&duration_minutes=0&kind=once", []string{"Content-Type", form}, 422, "A window lasts from 1 minute"},
		{"malformed form to columns", op, "POST", "/servers/columns", "col=name&%zz", []string{"Content-Type", form}, 400, "could not be read"},
		{"malformed multipart to bulk", op, "POST", "/servers/bulk", "--x\r\nbroken", []string{"Content-Type", "multipart/form-data; boundary=x"}, 400, "could not be read"},
		{"low disk NaN", admin, "POST", "/settings", "low_disk_pct=NaN&disconnect_after_minutes=60&wsus_after_hours=24", []string{"Content-Type", form}, 422, "Give a number"},
		{"low disk Inf", admin, "POST", "/settings", "low_disk_pct=%2BInf&disconnect_after_minutes=60&wsus_after_hours=24", []string{"Content-Type", form}, 422, "Give a number"},
		{"semicolon in the query", op, "GET", "/servers?impact=cannot-patch;os=linux", "", nil, 400, "malformed query string"},
		{"bad escape in the query", op, "GET", "/servers?q=%zz", "", nil, 400, "malformed query string"},
		{"bad escape in the CSV query", op, "GET", "/servers.csv?os=%", "", nil, 400, "malformed query string"},
		{"bad escape in the API query", nil, "GET", "/api/v1/endpoints?impact=%G1", "", nil, 400, "malformed query string"},
		{"bidi override in a name", nil, "PUT", "/api/v1/endpoints", `[{"name": "web\u202e1"}]`, nil, 422, "invisible formatting"},
		{"control character in an address", nil, "PUT", "/api/v1/endpoints", `[{"name": "web-1", "ip": "10.0.0.1\u0000"}]`, nil, 422, "control"},
		{"line break in an OS name", nil, "PUT", "/api/v1/endpoints", `[{"name": "web-1", "os_name": "Ubuntu\r\n=1+1"}]`, nil, 422, "control"},
		{"slash in a name", nil, "PUT", "/api/v1/endpoints", `[{"name": "rack/web-1"}]`, nil, 422, "slash"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set := e.db.Settings()
			var res *http.Response
			var body string
			if tt.c == nil {
				res, body = e.api(tok, tt.method, tt.path, tt.body)
			} else {
				if tt.method == "POST" {
					tt.header = append(tt.header, "X-CSRF-Token", tt.c.csrf)
				}
				res, body = tt.c.do(tt.method, tt.path, strings.NewReader(tt.body), tt.header...)
			}
			if res.StatusCode != tt.want || !strings.Contains(body, tt.says) {
				t.Fatalf("%d, want %d saying %q: %.300s", res.StatusCode, tt.want, tt.says, body)
			}
			if e.db.Settings() != set {
				t.Fatal("settings changed")
			}
		})
	}
	if after, _ := e.db.Endpoint(context.Background(), ep.ID); after.Suspension != nil {
		t.Fatal("a refused suspension was written")
	}
	if _, err := e.db.EndpointByName(context.Background(), "web-1"); store.KindOf(err) != store.NotFound {
		t.Fatal("a refused endpoint was written")
	}
}

// 7. An oversized form sent in chunks (no Content-Length) is 413, not an
// empty form.
func TestOversizedChunkedForm(t *testing.T) {
	e := newEnv(t, 0)
	op := e.login("olivia")
	body := io.MultiReader(strings.NewReader("col=name&pad="), io.LimitReader(repeat("x"), 2<<20))
	req, _ := http.NewRequest("POST", e.ts.URL+"/servers/columns", body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", op.csrf)
	res, err := op.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d", res.StatusCode)
	}
}

// 7. The sign-in redirect stays on this site whatever the next parameter holds.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/servers?impact=cannot-patch": "/servers?impact=cannot-patch",
		"/\t/evil.example":             "/",
		"/\\evil.example":              "/evil.example",
		"\\\\evil.example":             "/",
		"//evil.example":               "/",
		"/\r\n/evil.example":           "/",
		"/\u200b/evil.example":         "/",
		"https://evil.example/":        "/",
		"javascript:alert(1)":          "/",
		"":                             "/",
		"/kb/powered-off":              "/kb/powered-off",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// 8. Every leading form a spreadsheet reads as a formula is guarded.
func TestCSVFormulaGuard(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":      "'=1+1",
		"+1":        "'+1",
		"-1":        "'-1",
		"@SUM(A1)":  "'@SUM(A1)",
		"\t=1+1":    "'\t=1+1",
		"\r=1+1":    "'\r=1+1",
		"  =1+1":    "'  =1+1",
		"\n@x":      "'\n@x",
		"web-01":    "web-01",
		"10.0.0.1":  "10.0.0.1",
		"":          "",
		"Ubuntu 24": "Ubuntu 24",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// 9. A name with a slash, escaped as %2F, reaches the endpoint's routes
// rather than another route or a router 404.
func TestAPINameEscapes(t *testing.T) {
	e := newEnv(t, 0)
	tok, _ := e.db.CreateToken(context.Background(), "test", "esc")
	e.api(tok, "PUT", "/api/v1/endpoints", `[{"name": "100%-busy"}]`)
	if res, body := e.api(tok, "GET", "/api/v1/endpoints/100%25-busy", ""); res.StatusCode != 200 || !strings.Contains(body, `"100%-busy"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res, body := e.api(tok, "GET", "/api/v1/endpoints/rack%2Fweb-1", "")
	if res.StatusCode != 404 || !strings.Contains(body, "rack/web-1") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res, body := e.api(tok, "POST", "/api/v1/endpoints/rack%2Fweb-1/unsuspend", ""); res.StatusCode != 404 || !strings.Contains(body, "rack/web-1") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

// 6. A full disk is 503 with a plain message, on pages and in the API.
func TestDiskFullAnswers503(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.echo.GET("/test/full", func(echo.Context) error { return fmt.Errorf("saving: %w", store.ErrDiskFull) })
	e.srv.echo.GET("/api/v1/test/full", func(echo.Context) error { return store.ErrDiskFull })
	for _, path := range []string{"/test/full", "/api/v1/test/full"} {
		res, body := e.client().get(path)
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}

func sha256Key(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
