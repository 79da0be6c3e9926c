package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"patchready/views"
)

// render writes a templ component with a status.
func render(c echo.Context, status int, t templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return t.Render(c.Request().Context(), c.Response().Writer)
}

// page is the shared part of every screen's model; it takes the pending
// flash message out of the session.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, CSRF: csrfToken(c)}
	if u := currentUser(c); u != nil {
		p.User, p.Role = u.Name, u.Role
	}
	sess := session(c)
	if msg, ok := sess.Values["flash"].(string); ok {
		p.Flash, _ = sess.Values["flash_kind"].(string)
		p.Flash, p.FlashKind = msg, p.Flash
		delete(sess.Values, "flash")
		delete(sess.Values, "flash_kind")
		sess.Save(c.Request(), c.Response())
	}
	return p
}

// redirectWithFlash shows msg on the next page.
func redirectWithFlash(c echo.Context, to, kind, msg string) error {
	sess := session(c)
	sess.Values["flash"], sess.Values["flash_kind"] = msg, kind
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}
