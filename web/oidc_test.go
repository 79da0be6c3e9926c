package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"patchready/store"
)

// provider is an OpenID provider in the test: go-oidc's oidctest serves
// discovery and keys; this adds the authorization and token endpoints of
// the code flow with PKCE. claims makes each token's claims; tests change
// them to forge what a broken or hostile provider would send.
type provider struct {
	*httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]url.Values // code → the authorization request
	claims func(req url.Values) map[string]any
}

func newProvider(t *testing.T) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, codes: map[string]url.Values{}}
	keys := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: "RS256"}}}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/openid-configuration", keys)
	mux.Handle("/keys", keys)
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
			http.Error(w, "PKCE, nonce and state are required", http.StatusBadRequest)
			return
		}
		code := randomToken()
		p.mu.Lock()
		p.codes[code] = q
		p.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		req, ok := p.codes[r.Form.Get("code")]
		delete(p.codes, r.Form.Get("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != req.Get("code_challenge") {
			http.Error(w, `{"error": "invalid_grant"}`, http.StatusBadRequest)
			return
		}
		claims, _ := json.Marshal(p.claims(req))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600,
			"id_token": oidctest.SignIDToken(p.key, "k1", "RS256", string(claims))})
	})
	p.Server = httptest.NewServer(mux)
	keys.SetIssuer(p.URL)
	t.Cleanup(p.Close)
	return p
}

// standard are the claims of a good token for a user in groups.
func (p *provider) standard(user string, groups ...string) func(url.Values) map[string]any {
	return func(req url.Values) map[string]any {
		return map[string]any{"iss": p.URL, "aud": req.Get("client_id"), "sub": "sub-" + user, "preferred_username": user,
			"groups": groups, "nonce": req.Get("nonce"), "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()}
	}
}

// ssoSignIn runs the code flow from the login link to the callback's
// answer, as a browser would, and returns that answer.
func ssoSignIn(t *testing.T, c *client, tamper func(callback *url.URL)) *http.Response {
	t.Helper()
	res, _ := c.get("/auth/oidc/login?next=/servers")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login %d", res.StatusCode)
	}
	res, err := c.http.Get(res.Header.Get("Location")) // to the provider
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("provider: %v %v", res.StatusCode, err)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	if tamper != nil {
		tamper(back)
	}
	res, _ = c.get(back.RequestURI())
	return res
}

func TestSingleSignOn(t *testing.T) {
	idp := newProvider(t)
	e := newEnv(t, 10, func(cfg *Config) {
		cfg.OIDC = &OIDCConfig{Issuer: idp.URL, ClientID: "patchready", ClientSecret: "s3cret", AdminGroups: []string{"it-admins"},
			OperatorGroups: []string{"patching", "oncall"}}
	})
	e.srv.cfg.OIDC.RedirectURL = e.ts.URL + "/auth/oidc/callback"
	e.srv.sso.cfg.RedirectURL = e.ts.URL + "/auth/oidc/callback"
	ctx := context.Background()

	if login := mustGet(e.client(), "/login"); !strings.Contains(login, "Sign in with SSO") {
		t.Fatal("no SSO link on the sign-in page")
	}
	for _, tt := range []struct {
		user   string
		groups []string
		role   store.Role
	}{
		{"ada", []string{"staff", "it-admins"}, store.Admin},
		{"bo", []string{"oncall"}, store.Operator},
		{"cy", []string{"staff"}, store.Viewer},
		{"di", nil, store.Viewer},
	} {
		idp.claims = idp.standard(tt.user, tt.groups...)
		c := e.client()
		res := ssoSignIn(t, c, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/servers" {
			t.Fatalf("%s: callback %d %s", tt.user, res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := c.get("/servers"); res.StatusCode != 200 {
			t.Fatalf("%s: not signed in: %d", tt.user, res.StatusCode)
		}
		u, err := e.db.UserByName(ctx, tt.user)
		if err != nil || u.Role != tt.role {
			t.Fatalf("%s: role %v (%v), want %s", tt.user, u, err, tt.role)
		}
	}
	// A changed group changes the role at the next sign-in.
	idp.claims = idp.standard("cy", "patching")
	ssoSignIn(t, e.client(), nil)
	if u, _ := e.db.UserByName(ctx, "cy"); u.Role != store.Operator {
		t.Fatalf("role after a group change: %s", u.Role)
	}
	// An SSO user has no password to sign in with.
	c := e.client()
	c.get("/login")
	if res, body := c.post("/login", url.Values{"username": {"ada"}, "password": {"whatever-it-is"}}); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password. If you sign in through your organisation") {
		t.Fatalf("password sign-in of an SSO user: %d", res.StatusCode)
	}
	// A provider's user may not take over a local user's name.
	idp.claims = idp.standard("admin", "it-admins")
	if res := ssoSignIn(t, e.client(), nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SSO sign-in as the local admin: %d", res.StatusCode)
	}

	refused := []struct {
		name   string
		claims func(url.Values) map[string]any
		tamper func(*url.URL)
	}{
		{"wrong state", idp.standard("eve"), func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
		}},
		{"wrong nonce", func(req url.Values) map[string]any {
			c := idp.standard("eve")(req)
			c["nonce"] = "replayed"
			return c
		}, nil},
		{"expired token", func(req url.Values) map[string]any {
			c := idp.standard("eve")(req)
			c["exp"], c["iat"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
			return c
		}, nil},
		{"wrong audience", func(req url.Values) map[string]any {
			c := idp.standard("eve")(req)
			c["aud"] = "another-app"
			return c
		}, nil},
		{"wrong issuer", func(req url.Values) map[string]any {
			c := idp.standard("eve")(req)
			c["iss"] = "https://evil.example"
			return c
		}, nil},
	}
	for _, tt := range refused {
		idp.claims = tt.claims
		c := e.client()
		res := ssoSignIn(t, c, tt.tamper)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d", tt.name, res.StatusCode)
		}
		if res, _ := c.get("/servers"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: signed in anyway", tt.name)
		}
	}
	if _, err := e.db.UserByName(ctx, "eve"); store.KindOf(err) != store.NotFound {
		t.Fatal("a refused sign-in created its user")
	}
}
