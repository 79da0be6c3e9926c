package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/static"
)

// healthz answers liveness probes and checks the database.
func (s *Server) healthz(c echo.Context) error {
	if err := s.db.Ping(c.Request().Context()); err != nil {
		s.log.Error("health check", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
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
