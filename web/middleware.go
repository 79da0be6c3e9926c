package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"patchready/metrics"
	"patchready/store"
)

const sessionName = "patchready"

// Keys of values kept in the echo context.
const (
	ctxSession   = "session"
	ctxUser      = "user"
	ctxActor     = "actor"
	ctxToken     = "token"
	ctxRequestID = "request_id"
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// withSession loads the session cookie, starting a new one when there is
// none or it cannot be read, and gives every visitor a CSRF token. Who is
// signed in is not decided here: the cookie carries only the secret of a
// server-side session, which requireUser looks up.
func (s *Server) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil { // a cookie from another key or tampered with
			sess, _ = s.sessions.New(c.Request(), sessionName)
		}
		sess.Options.Secure = c.IsTLS()
		c.Set(ctxSession, sess)
		if _, ok := sess.Values["csrf"].(string); !ok {
			sess.Values["csrf"] = randomToken()
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// signedIn returns the user of the request's server-side session, or nil.
// A session that was ended, has been idle too long, is too old, or whose
// user was disabled signs the visitor out, with a word on the next page.
func (s *Server) signedIn(c echo.Context) (*store.User, error) {
	sess := session(c)
	secret, ok := sess.Values["sid"].(string)
	if !ok {
		return nil, nil
	}
	ctx := c.Request().Context()
	u, ses, err := s.db.SessionUser(ctx, secret)
	now := s.cfg.Now()
	switch {
	case store.KindOf(err) == store.NotFound:
	case err != nil:
		return nil, err
	case u.Disabled || now.Sub(ses.SeenAt) > s.cfg.IdleTimeout || now.Sub(ses.CreatedAt) > s.cfg.MaxAge:
		if err := s.db.EndSession(ctx, secret); err != nil {
			return nil, err
		}
	default:
		// The idle clock moves at most once a minute, off the request path.
		if now.Sub(ses.SeenAt) >= time.Minute {
			s.db.TouchSession(secret, now)
		}
		return u, nil
	}
	delete(sess.Values, "sid")
	sess.Values["flash"], sess.Values["flash_kind"] = "Your session has ended. Please sign in again.", "error"
	return nil, sess.Save(c.Request(), c.Response())
}

func session(c echo.Context) *sessions.Session { return c.Get(ctxSession).(*sessions.Session) }

func csrfToken(c echo.Context) string {
	if sess, ok := c.Get(ctxSession).(*sessions.Session); ok {
		t, _ := sess.Values["csrf"].(string)
		return t
	}
	return ""
}

// checkCSRF refuses any unsafe request whose token does not match the
// session's. The token comes from the X-CSRF-Token header, the form's
// _csrf field once readForm has read it, or else the _csrf query parameter
// (an upload, whose body is not read before this check).
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := csrfToken(c)
		got := r.Header.Get("X-CSRF-Token")
		if got == "" && r.PostForm != nil {
			got = r.PostForm.Get("_csrf")
		}
		if got == "" {
			got = r.URL.Query().Get("_csrf")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from patchready (missing or wrong CSRF token). Reload the page and try again.")
		}
		return next(c)
	}
}

// requireUser sends anonymous visitors to the sign-in page and loads the
// signed-in user. It runs before any request body is read.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := s.signedIn(c)
		if err != nil {
			return err
		}
		if u == nil {
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

// readForm reads a form body of at most limit bytes, once the request is
// authorised: too large is 413, unreadable is 400, each with a plain message,
// where net/http would quietly leave the form empty.
func readForm(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				return next(c)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			var err error
			if strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
				err = r.ParseMultipartForm(limit)
			} else {
				err = r.ParseForm()
			}
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d KiB, more than any form here sends.", limit>>10))
			case err != nil:
				return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read: "+err.Error()+".")
			}
			return next(c)
		}
	}
}

// strictQuery refuses a malformed query string (a ";" separator, a broken
// % escape) instead of quietly dropping the parts it cannot read, which
// turned a mistyped filter into the unfiltered list.
func strictQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := url.ParseQuery(c.Request().URL.RawQuery); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The address has a malformed query string ("+err.Error()+"). Parameters are separated by & and special characters written as %XX.")
		}
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
		c.Set(ctxToken, tk)
		return next(c)
	}
}

// tokenRole refuses API tokens whose role does not include need.
func tokenRole(need store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if tk, ok := c.Get(ctxToken).(*store.Token); !ok || !tk.Role.TokenAllows(need) {
				return echo.NewHTTPError(http.StatusForbidden, "this token's role does not allow it: it needs a "+string(need)+" token")
			}
			return next(c)
		}
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

// requestID gives each request an id, sent back as X-Request-Id and in
// its log line: a proxy's id is kept when it looks like one.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// methodLabel keeps the metrics' method label to the methods HTTP has: a
// made-up one would be a new series for anyone to create.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// logRequests logs each request once it is answered, with its id, and
// observes its duration for the metrics (by route pattern, not path, so
// that endpoints' names do not become labels).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		metrics.RequestDuration.WithLabelValues(route, methodLabel(c.Request().Method), strconv.Itoa(status)).Observe(took.Seconds())
		id, _ := c.Get(ctxRequestID).(string)
		s.log.Info("request", "id", id, "method", c.Request().Method, "path", c.Request().URL.Path, "route", route,
			"status", status, "ms", float64(took.Microseconds())/1000)
		return nil
	}
}
