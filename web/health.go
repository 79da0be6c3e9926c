package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/static"
	"patchready/store"
)

// healthz answers liveness probes and checks the database.
func (s *Server) healthz(c echo.Context) error {
	if err := s.db.Ping(c.Request().Context()); err != nil {
		s.log.Error("health check", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// livez says the process answers; nothing else is checked, so that a
// busy database never gets the process restarted.
func (s *Server) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "alive"})
}

// readyz says whether the server can serve lists: the database answers,
// every migration is applied, and the list's read model is built.
func (s *Server) readyz(c echo.Context) error {
	notReady := func(why string) error {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": why})
	}
	ctx := c.Request().Context()
	if err := s.db.Ping(ctx); err != nil {
		return notReady("the database does not answer")
	}
	if v, err := s.db.SchemaVersion(ctx); err != nil || v < store.Migrations() {
		return notReady("migrations are not all applied")
	}
	if !s.db.ListReady() {
		return notReady("the Servers list's read model is being built")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// serveStatic serves an embedded file by its content-hashed name; the name
// changes with the content, so it may be cached for a year.
func serveStatic(c echo.Context) error {
	name := c.Param("file")
	b, ok := static.Open(name)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such file.")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(b))
	return nil
}
