package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"patchready/views"
)

// pages are reusable buffers that whole pages are rendered into: a list of
// a few rather than a sync.Pool, which every garbage collection empties (a
// buffer grown anew to a Servers page's ~100 KiB leaves ~250 KiB of
// garbage behind).
var pages = make(chan *bytes.Buffer, 16)

// render writes a templ component with a status. The page is rendered in
// memory first and sent with one write: streaming it through a small
// buffer cost a system call per 4 KiB (a Servers page is ~80 KiB), and a
// failure half-way would have sent half a page under a 200.
func render(c echo.Context, status int, t templ.Component) error {
	var buf *bytes.Buffer
	select {
	case buf = <-pages:
		buf.Reset()
	default:
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 1<<20 { // a rare huge page is not kept
			select {
			case pages <- buf:
			default:
			}
		}
	}()
	if err := t.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// page is the shared part of every screen's model; it takes the pending
// flash message out of the session.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, CSRF: csrfToken(c), Here: c.Request().URL.RequestURI()}
	if c.Request().Method != http.MethodGet {
		p.Here = ""
	}
	if u := currentUser(c); u != nil {
		p.User, p.Role = u.Name, u.Role
	}
	sess := session(c)
	if msg, ok := sess.Values["flash"].(string); ok {
		p.Flash, _ = sess.Values["flash_kind"].(string)
		p.Flash, p.FlashKind = msg, p.Flash
		p.UndoID, _ = sess.Values["flash_undo"].(int64)
		delete(sess.Values, "flash")
		delete(sess.Values, "flash_kind")
		delete(sess.Values, "flash_undo")
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

// redirectWithUndo is redirectWithFlash for a done action, offering to undo
// it from the page it lands on.
func redirectWithUndo(c echo.Context, to, msg string, auditID int64) error {
	if auditID != 0 {
		session(c).Values["flash_undo"] = auditID
	}
	return redirectWithFlash(c, to, "ok", msg)
}

// confirm asks before an action: its form posts again with confirm=yes.
func (s *Server) confirm(c echo.Context, m views.ConfirmPage) error {
	m.Page = s.page(c, m.Heading, "")
	if m.Noun == "" {
		m.Noun = "endpoint"
	}
	return render(c, http.StatusOK, views.Confirm(m))
}
