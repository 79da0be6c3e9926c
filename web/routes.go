package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"patchready/store"
)

// routes registers every route, grouped by what they require. Middleware is
// attached per route rather than with Group.Use, whose catch-all routes
// would answer unknown paths with a sign-in or role error instead of 404.
func (s *Server) routes() {
	e := s.echo
	e.Use(middleware.Recover(), requestID, s.logRequests, securityHeaders, strictQuery)

	// Anonymous.
	e.GET("/healthz", s.healthz)
	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	e.GET("/static/:file", serveStatic)
	e.GET("/api/v1/openapi.json", s.apiOpenAPI)

	// The JSON API, by bearer token: no session, no CSRF. A token's role
	// is checked like a user's: viewer reads, reporter also reports facts,
	// operator also acts and edits schedules and views, admin also webhooks.
	token := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{middleware.BodyLimit("4M"), s.requireToken, tokenRole(need)}
	}
	read, report, act, manage := token(store.Viewer), token(store.Reporter), token(store.Operator), token(store.Admin)
	e.GET("/api/v1/exemptions", s.apiExemptions, read...)
	e.GET("/api/v1/endpoints", s.apiListEndpoints, read...)
	e.GET("/api/v1/facets", s.apiFacets, read...)
	e.GET("/api/v1/history", s.apiHistory, read...)
	e.PUT("/api/v1/endpoints", s.apiUpsertEndpoints, report...)
	e.PATCH("/api/v1/endpoints", s.apiUpsertEndpoints, report...)
	e.GET("/api/v1/endpoints/:name", s.apiGetEndpoint, read...)
	e.POST("/api/v1/endpoints/:name/suspend", s.apiSuspend, act...)
	e.POST("/api/v1/endpoints/:name/unsuspend", s.apiUnsuspend, act...)
	e.POST("/api/v1/endpoints/:name/acknowledge-reboot", s.apiAcknowledgeReboot, act...)
	e.POST("/api/v1/endpoints/:name/labels", s.apiLabels, act...)
	e.PUT("/api/v1/endpoints/:name/schedule", s.apiEndpointSchedule, act...)
	e.GET("/api/v1/schedules", s.apiSchedules, read...)
	e.POST("/api/v1/schedules", s.apiScheduleCreate, act...)
	e.GET("/api/v1/schedules/:id", s.apiSchedule, read...) // also :id.ics
	e.PUT("/api/v1/schedules/:id", s.apiScheduleUpdate, act...)
	e.DELETE("/api/v1/schedules/:id", s.apiScheduleDelete, act...)
	e.GET("/api/v1/schedules/:id/windows", s.apiWindows, read...)
	e.GET("/api/v1/webhooks", s.apiWebhooks, manage...)
	e.POST("/api/v1/webhooks", s.apiWebhookCreate, manage...)
	e.DELETE("/api/v1/webhooks/:id", s.apiWebhookDelete, manage...)
	e.GET("/api/v1/views", s.apiViews, read...)
	e.POST("/api/v1/views", s.apiViewCreate, act...)
	e.DELETE("/api/v1/views/:id", s.apiViewDelete, act...)

	// The HTML side. Who is asking is settled before any body is read: the
	// session, then the user and role, then the form (bounded), then its
	// CSRF token.
	anon := []echo.MiddlewareFunc{s.withSession, readForm(16 << 10), s.checkCSRF}
	e.GET("/login", s.loginForm, anon...)
	e.POST("/login", s.login, anon...)
	e.POST("/logout", s.logout, anon...)
	if s.sso != nil {
		e.GET("/auth/oidc/login", s.oidcLogin, anon...)
		e.GET("/auth/oidc/callback", s.oidcCallback, anon...)
	}

	signedIn := func(need store.Role) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.withSession, s.requireUser, requireRole(need), readForm(1 << 20), s.checkCSRF}
	}

	// Signed in: any role reads everything.
	viewer := signedIn(store.Viewer)
	e.GET("/", s.overview, viewer...)
	e.GET("/servers", s.serversList, viewer...)
	e.GET("/servers.csv", s.serversCSV, viewer...)
	e.GET("/servers/:id", s.serverShow, viewer...)
	e.POST("/servers/columns", s.saveColumns, viewer...)
	e.GET("/schedules", s.schedulesList, viewer...)
	e.GET("/schedules/:id", s.scheduleShow, viewer...) // also :id.ics
	e.GET("/kb", s.kbIndex, viewer...)
	e.GET("/kb/:slug", s.kbPage, viewer...)
	e.GET("/audit", s.auditList, viewer...)
	e.GET("/account", s.accountForm, viewer...)
	e.POST("/account/password", s.accountPassword, viewer...)
	e.POST("/account/timezone", s.accountTimezone, viewer...)
	e.POST("/views", s.viewCreate, viewer...)
	e.POST("/views/:id/delete", s.viewDelete, viewer...)

	// Operators: remediation and schedules.
	op := signedIn(store.Operator)
	e.POST("/servers/:id/suspend", s.serverSuspend, op...)
	e.POST("/servers/:id/unsuspend", s.serverUnsuspend, op...)
	e.POST("/servers/:id/acknowledge-reboot", s.serverAcknowledgeReboot, op...)
	e.POST("/servers/:id/schedule", s.serverSchedule, op...)
	e.POST("/servers/:id/labels", s.serverLabels, op...)
	e.POST("/servers/bulk", s.serversBulk, op...)
	e.POST("/schedules", s.scheduleCreate, op...)
	e.POST("/schedules/:id", s.scheduleUpdate, op...)
	e.POST("/schedules/:id/delete", s.scheduleDelete, op...)
	e.POST("/schedules/:id/entries", s.entryAdd, op...)
	e.POST("/schedules/:id/entries/:entry/delete", s.entryDelete, op...)
	e.POST("/audit/:id/undo", s.auditUndo, op...)

	// Admins: users, tokens, settings.
	admin := signedIn(store.Admin)
	e.GET("/settings", s.settingsForm, admin...)
	e.POST("/settings", s.settingsSave, admin...)
	e.GET("/users", s.usersList, admin...)
	e.POST("/users", s.userCreate, admin...)
	e.POST("/users/:id", s.userChange, admin...)
	e.GET("/tokens", s.tokensList, admin...)
	e.POST("/tokens", s.tokenCreate, admin...)
	e.POST("/tokens/:id/revoke", s.tokenRevoke, admin...)
	e.GET("/import", s.importForm, admin...)
	e.GET("/import/template.csv", s.importTemplate, admin...)
	e.GET("/sources", s.sourcesList, admin...)
	e.GET("/webhooks", s.webhooksPage, admin...)
	e.POST("/webhooks", s.webhookCreate, admin...)
	e.POST("/webhooks/:id/delete", s.webhookDelete, admin...)
	e.POST("/webhooks/:id/test", s.webhookTest, admin...)
	// A CSV import of a large estate is bigger than any form: its token is
	// checked from the address and the file is streamed by the handler.
	e.POST("/import", s.importCSV, s.withSession, s.requireUser, requireRole(store.Admin), s.checkCSRF)

	// A refused form is shown at the address it posted to; loading that
	// address again (reload, a bookmark, the back button) lands on the
	// page the form belongs to rather than an error.
	back := func(to func(c echo.Context) string) echo.HandlerFunc {
		return func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, to(c)) }
	}
	to := func(path string) func(echo.Context) string { return func(echo.Context) string { return path } }
	server := func(c echo.Context) string { return "/servers/" + url.PathEscape(c.Param("id")) }
	schedule := func(c echo.Context) string { return "/schedules/" + url.PathEscape(c.Param("id")) }
	for path, dest := range map[string]func(echo.Context) string{
		"/servers/bulk": to("/servers"), "/servers/columns": to("/servers"), "/views": to("/servers"), "/views/:id/delete": to("/servers"),
		"/servers/:id/suspend": server, "/servers/:id/unsuspend": server, "/servers/:id/acknowledge-reboot": server,
		"/servers/:id/schedule": server, "/servers/:id/labels": server,
		"/schedules/:id/delete": schedule, "/schedules/:id/entries": schedule, "/schedules/:id/entries/:entry/delete": schedule,
		"/audit/:id/undo": to("/audit"), "/account/password": to("/account"), "/account/timezone": to("/account"),
		"/tokens/:id/revoke": to("/tokens"), "/webhooks/:id/delete": to("/webhooks"), "/webhooks/:id/test": to("/webhooks"), "/users/:id": to("/users"), "/logout": to("/"),
	} {
		e.GET(path, back(dest))
	}
}
