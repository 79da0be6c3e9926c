package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"patchready/store"
)

const sessionName = "patchready"

// Keys of values kept in the echo context.
const (
	ctxSession = "session"
	ctxUser    = "user"
	ctxActor   = "actor"
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// withSession loads the session cookie (starting a new session when there
// is none or it cannot be read), ends it when idle or too old, and gives
// every session a CSRF token.
func (s *Server) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil { // a cookie from another key or tampered with
			sess, _ = s.sessions.New(c.Request(), sessionName)
		}
		sess.Options.Secure = c.IsTLS()
		now := s.cfg.Now().Unix()
		created, _ := sess.Values["created"].(int64)
		seen, _ := sess.Values["seen"].(int64)
		if _, signedIn := sess.Values["uid"]; signedIn &&
			(now-seen > int64(s.cfg.IdleTimeout.Seconds()) || now-created > int64(s.cfg.MaxAge.Seconds())) {
			clear(sess.Values)
			sess.Values["flash"], sess.Values["flash_kind"] = "Your session has ended. Please sign in again.", "error"
		}
		dirty := false
		if _, ok := sess.Values["csrf"].(string); !ok {
			sess.Values["csrf"], sess.Values["created"] = randomToken(), now
			dirty = true
		}
		// Refreshing the idle clock at most once a minute keeps most
		// responses free of a new cookie.
		if now-seen >= 60 {
			sess.Values["seen"] = now
			dirty = true
		}
		c.Set(ctxSession, sess)
		if dirty {
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func session(c echo.Context) *sessions.Session { return c.Get(ctxSession).(*sessions.Session) }

func csrfToken(c echo.Context) string {
	if sess, ok := c.Get(ctxSession).(*sessions.Session); ok {
		t, _ := sess.Values["csrf"].(string)
		return t
	}
	return ""
}

// checkCSRF refuses any unsafe request whose _csrf field (or X-CSRF-Token
// header) does not match the session's token.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := csrfToken(c)
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from patchready (missing or wrong CSRF token). Reload the page and try again.")
		}
		return next(c)
	}
}

// requireUser sends anonymous visitors to the sign-in page and loads the
// signed-in user, who may have been disabled since signing in.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := session(c)
		uid, ok := sess.Values["uid"].(int64)
		var u *store.User
		if ok {
			var err error
			if u, err = s.db.User(c.Request().Context(), uid); err != nil && store.KindOf(err) != store.NotFound {
				return err
			}
		}
		if u == nil || u.Disabled {
			if c.Request().Method != http.MethodGet {
				return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		c.Set(ctxUser, u)
		c.Set(ctxActor, u.Name)
		return next(c)
	}
}

func currentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

// actor is who an action is audited as: a user's name, or "token:NAME".
func actor(c echo.Context) string { return c.Get(ctxActor).(string) }

// requireRole refuses users whose role does not include need.
func requireRole(need store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if u := currentUser(c); u == nil || !u.Role.Allows(need) {
				return echo.NewHTTPError(http.StatusForbidden, "This needs the "+string(need)+" role; ask an admin if you need it.")
			}
			return next(c)
		}
	}
}

// requireToken authenticates API calls by bearer token.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || secret == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
		}
		tk, err := s.db.TokenBySecret(c.Request().Context(), strings.TrimSpace(secret))
		if store.KindOf(err) == store.NotFound {
			return echo.NewHTTPError(http.StatusUnauthorized, "unknown or revoked token")
		} else if err != nil {
			return err
		}
		c.Set(ctxActor, "token:"+tk.Name)
		return next(c)
	}
}

// securityHeaders sets headers every response should carry.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
		return next(c)
	}
}

// throttle limits failed sign-ins per user name and per address.
type throttle struct {
	mu    sync.Mutex
	fails map[string][]time.Time
}

const (
	throttleWindow  = 15 * time.Minute
	maxFailsPerUser = 5
	maxFailsPerAddr = 20
)

func newThrottle() *throttle { return &throttle{fails: map[string][]time.Time{}} }

// blocked tells whether key has failed limit times within the window.
func (t *throttle) blocked(key string, limit int, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.fails[key][:0]
	for _, at := range t.fails[key] {
		if now.Sub(at) < throttleWindow {
			recent = append(recent, at)
		}
	}
	if len(recent) == 0 {
		delete(t.fails, key)
	} else {
		t.fails[key] = recent
	}
	return len(recent) >= limit
}

func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		t.fails[k] = append(t.fails[k], now)
	}
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

// logRequests logs each request once it is answered.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Debug("request", "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", c.Response().Status, "ms", float64(time.Since(start).Microseconds())/1000)
		return nil
	}
}
