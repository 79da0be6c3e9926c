package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// statusOf maps the store's error kinds to HTTP statuses, in one place.
var statusOf = map[store.Kind]int{
	store.Invalid:     http.StatusBadRequest,
	store.NotFound:    http.StatusNotFound,
	store.Conflict:    http.StatusConflict,
	store.Unavailable: http.StatusServiceUnavailable,
	store.Forbidden:   http.StatusForbidden,
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error   string             `json:"error"`
	Details []store.FieldError `json:"details,omitempty"`
}

// handleError turns any error into a status and a message a person can act
// on: an HTML page, or JSON under /api/. Internal errors are logged and
// shown without their text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.log.Error("error after the response started", "path", c.Path(), "err", err)
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
	var details []store.FieldError
	var he *echo.HTTPError
	var se *store.Error
	switch {
	case errors.As(err, &se) && se.Kind != store.Internal:
		status, msg, details = statusOf[se.Kind], se.Message, se.Details
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
		if he.Code == http.StatusNotFound && he.Message == "Not Found" {
			msg = "There is no page at this address."
		}
	default:
		s.log.Error("internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		c.JSON(status, apiError{Error: msg, Details: details})
		return
	}
	title := http.StatusText(status)
	if c.Get(ctxSession) == nil { // the error came before the session middleware ran
		render(c, status, views.ErrorPage(views.Page{Title: title}, status, msg))
		return
	}
	render(c, status, views.ErrorPage(s.page(c, title, ""), status, msg))
}
