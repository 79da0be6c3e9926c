package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) loginForm(c echo.Context) error {
	u, err := s.signedIn(c)
	if err != nil {
		return err
	}
	if u != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, views.Login(views.LoginPage{Page: s.page(c, "Sign in", ""), Next: safeNext(c.QueryParam("next")), SSO: s.sso != nil}))
}

// safeNext keeps a post-login redirect on this site: a path, after control
// characters and backslashes are removed (browsers skip the former and read
// the latter as "/", so "/\t/evil.example" would leave the site).
func safeNext(next string) string {
	next = strings.Map(func(r rune) rune {
		if r == '\\' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, next)
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// clip cuts s to at most n bytes without splitting a character, for user
// names in keys, logs and pages: none that exists is longer.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func (s *Server) login(c echo.Context) error {
	name, password := clip(strings.TrimSpace(c.FormValue("username")), maxNameInKey), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	now := s.cfg.Now()
	addr, key := c.RealIP(), strings.ToLower(name)
	fail := func(status int, msg string) error {
		m := views.LoginPage{Page: s.page(c, "Sign in", ""), Username: name, Error: msg, Next: next, SSO: s.sso != nil}
		return render(c, status, views.Login(m))
	}
	if wait := s.throttle.wait(key, addr, now); wait > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		return fail(http.StatusTooManyRequests, "Too many failed sign-ins for this user. Try again in "+span(max(wait, time.Second))+".")
	}
	if name == "" || password == "" {
		return fail(http.StatusBadRequest, "Enter your user name and password.")
	}
	u, err := s.db.Authenticate(c.Request().Context(), name, password)
	// An SSO user's name gets the same answer as a wrong password: the
	// answer must not tell which names exist.
	if err == store.ErrBadLogin || err == store.ErrSSOOnly {
		s.throttle.fail(key, addr, now)
		s.log.Warn("failed sign-in", "user", name, "addr", addr)
		msg := "Wrong user name or password."
		if s.sso != nil {
			msg += " If you sign in through your organisation, use “Sign in with SSO”."
		}
		return fail(http.StatusUnauthorized, msg)
	}
	if err != nil {
		return err
	}
	s.throttle.succeed(key, addr)
	// On the first sign-in, times are shown in the browser's zone until
	// the user picks another on their account page.
	if zone := c.FormValue("tz"); u.Timezone == "" && zone != "" {
		if err := s.db.SetTimezone(c.Request().Context(), u.ID, zone); err != nil && store.KindOf(err) != store.Invalid {
			return err
		}
	}
	return s.startSession(c, u, next)
}

// startSession signs a user in: a new cookie (nothing from before it — a
// planted cookie — carries over, and the CSRF token changes) holding the
// secret of a session the database knows.
func (s *Server) startSession(c echo.Context, u *store.User, next string) error {
	now := s.cfg.Now()
	secret, err := s.db.CreateSession(c.Request().Context(), u.ID, now, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.MaxAge))
	if err != nil {
		return err
	}
	sess := session(c)
	clear(sess.Values)
	sess.Values["sid"], sess.Values["csrf"] = secret, randomToken()
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// logout ends every session of the user, not only this browser's: a cookie
// copied elsewhere stops working too (the design's "signing out ends that
// user's other sessions").
func (s *Server) logout(c echo.Context) error {
	sess := session(c)
	u, err := s.signedIn(c)
	if err != nil {
		return err
	}
	if u != nil {
		if err := s.db.EndUserSessions(c.Request().Context(), u.ID); err != nil {
			return err
		}
	}
	clear(sess.Values)
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) accountForm(c echo.Context) error {
	return render(c, http.StatusOK, views.Account(s.accountModel(c)))
}

func (s *Server) accountModel(c echo.Context) views.AccountPage {
	return views.AccountPage{Page: s.page(c, "Your account", ""), Timezone: userZone(c).String(), Form: map[string]string{}}
}

// accountTimezone keeps the zone the user reads times in.
func (s *Server) accountTimezone(c echo.Context) error {
	zone := strings.TrimSpace(c.FormValue("timezone"))
	err := s.db.SetTimezone(c.Request().Context(), currentUser(c).ID, zone)
	if store.KindOf(err) == store.Invalid {
		m := s.accountModel(c)
		m.Errors, m.Form["timezone"] = fieldErrors(err), zone
		m.Flash, m.FlashKind = err.Error(), "error"
		return render(c, http.StatusUnprocessableEntity, views.Account(m))
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, "/account", "ok", "Times are now shown in "+zone+".")
}

// accountPassword changes the signed-in user's own password. Every other
// session of the user ends; this one goes on.
func (s *Server) accountPassword(c echo.Context) error {
	u := currentUser(c)
	secret, _ := session(c).Values["sid"].(string)
	err := s.db.ChangeOwnPassword(c.Request().Context(), u.ID, c.FormValue("current"), c.FormValue("password"), secret)
	if k := store.KindOf(err); k == store.Invalid {
		m := s.accountModel(c)
		m.Errors = fieldErrors(err)
		m.Flash, m.FlashKind = "Your password was not changed: "+err.Error(), "error"
		return render(c, http.StatusUnprocessableEntity, views.Account(m))
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, "/account", "ok", "Password changed. Your other sessions have been signed out.")
}
