package web

import (
	"github.com/labstack/echo/v4/middleware"

	"patchready/store"
)

// routes registers every route, grouped by what they require.
func (s *Server) routes() {
	e := s.echo
	e.Use(middleware.Recover(), s.logRequests, securityHeaders)

	// Anonymous.
	e.GET("/healthz", s.healthz)
	e.GET("/static/:file", serveStatic)

	// The JSON API, by bearer token: no session, no CSRF.
	api := e.Group("/api/v1", middleware.BodyLimit("4M"))
	api.GET("/openapi.json", s.apiOpenAPI)
	api.Use(s.requireToken)
	api.GET("/exemptions", s.apiExemptions)
	api.GET("/endpoints", s.apiListEndpoints)
	api.PUT("/endpoints", s.apiUpsertEndpoints)
	api.GET("/endpoints/:name", s.apiGetEndpoint)
	api.POST("/endpoints/:name/suspend", s.apiSuspend)
	api.POST("/endpoints/:name/unsuspend", s.apiUnsuspend)
	api.POST("/endpoints/:name/acknowledge-reboot", s.apiAcknowledgeReboot)

	// The HTML side: sessions and CSRF for everything.
	web := e.Group("", middleware.BodyLimit("1M"), s.withSession, s.checkCSRF)
	web.GET("/login", s.loginForm)
	web.POST("/login", s.login)
	web.POST("/logout", s.logout)

	// Signed in: any role reads everything.
	viewer := web.Group("", s.requireUser)
	viewer.GET("/", s.overview)
	viewer.GET("/servers", s.serversList)
	viewer.GET("/servers.csv", s.serversCSV)
	viewer.GET("/servers/:id", s.serverShow)
	viewer.POST("/servers/columns", s.saveColumns)
	viewer.GET("/schedules", s.schedulesList)
	viewer.GET("/schedules/:id", s.scheduleShow)
	viewer.GET("/kb", s.kbIndex)
	viewer.GET("/kb/:slug", s.kbPage)
	viewer.GET("/audit", s.auditList)

	// Operators: remediation and schedules.
	op := viewer.Group("", requireRole(store.Operator))
	op.POST("/servers/:id/suspend", s.serverSuspend)
	op.POST("/servers/:id/unsuspend", s.serverUnsuspend)
	op.POST("/servers/:id/acknowledge-reboot", s.serverAcknowledgeReboot)
	op.POST("/servers/:id/schedule", s.serverSchedule)
	op.POST("/servers/bulk", s.serversBulk)
	op.POST("/schedules", s.scheduleCreate)
	op.POST("/schedules/:id", s.scheduleUpdate)
	op.POST("/schedules/:id/delete", s.scheduleDelete)
	op.POST("/schedules/:id/entries", s.entryAdd)
	op.POST("/schedules/:id/entries/:entry/delete", s.entryDelete)

	// Admins: users, tokens, settings.
	admin := viewer.Group("", requireRole(store.Admin))
	admin.GET("/settings", s.settingsForm)
	admin.POST("/settings", s.settingsSave)
	admin.GET("/users", s.usersList)
	admin.POST("/users", s.userCreate)
	admin.POST("/users/:id", s.userChange)
	admin.GET("/tokens", s.tokensList)
	admin.POST("/tokens", s.tokenCreate)
	admin.POST("/tokens/:id/revoke", s.tokenRevoke)
}
