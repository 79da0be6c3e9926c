package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) loginForm(c echo.Context) error {
	if _, ok := session(c).Values["uid"].(int64); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, views.Login(views.LoginPage{Page: s.page(c, "Sign in", ""), Next: safeNext(c.QueryParam("next"))}))
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) login(c echo.Context) error {
	name, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	now := s.cfg.Now()
	userKey, addrKey := "user:"+strings.ToLower(name), "addr:"+c.RealIP()
	fail := func(status int, msg string) error {
		m := views.LoginPage{Page: s.page(c, "Sign in", ""), Username: name, Error: msg, Next: next}
		return render(c, status, views.Login(m))
	}
	if s.throttle.blocked(userKey, maxFailsPerUser, now) || s.throttle.blocked(addrKey, maxFailsPerAddr, now) {
		return fail(http.StatusTooManyRequests, "Too many failed sign-ins. Wait 15 minutes and try again.")
	}
	if name == "" || password == "" {
		return fail(http.StatusBadRequest, "Enter your user name and password.")
	}
	u, err := s.db.Authenticate(c.Request().Context(), name, password)
	if err == store.ErrBadLogin {
		s.throttle.fail(now, userKey, addrKey)
		s.log.Warn("failed sign-in", "user", name, "addr", c.RealIP())
		return fail(http.StatusUnauthorized, "Wrong user name or password.")
	}
	if err != nil {
		return err
	}
	s.throttle.reset(userKey)
	// A new session on sign-in: nothing from before it (a planted cookie)
	// carries over, and the CSRF token changes.
	sess := session(c)
	clear(sess.Values)
	sess.Values["uid"], sess.Values["csrf"] = u.ID, randomToken()
	sess.Values["created"], sess.Values["seen"] = now.Unix(), now.Unix()
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c echo.Context) error {
	sess := session(c)
	clear(sess.Values)
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
