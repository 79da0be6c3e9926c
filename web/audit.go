package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

var auditActions = []string{"suspend", "unsuspend", "acknowledge-reboot", "schedule", "schedule.create", "schedule.update",
	"schedule.delete", "schedule.entry.add", "schedule.entry.delete", "user.create", "user.change", "token.create", "token.revoke", "settings", "import"}

func (s *Server) auditList(c echo.Context) error {
	f := store.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Endpoint: c.QueryParam("endpoint"), Limit: 50}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return badParam("before", v, "an audit entry id")
		}
		f.Before = n
	}
	if f.Action != "" && !contains(auditActions, f.Action) {
		return badParam("action", f.Action, "one of the listed actions")
	}
	ctx := c.Request().Context()
	entries, err := s.db.Audit(ctx, f)
	if err != nil {
		return err
	}
	m := views.AuditPage{Page: s.page(c, "Audit log", "audit"), Actor: f.Actor, Action: f.Action, Endpoint: f.Endpoint, Actions: auditActions}
	const shown = 5
	for _, e := range entries {
		row := views.AuditRow{At: stamp(e.At), AtT: e.At.Format(time.RFC3339), Actor: e.Actor, Action: e.Action, Summary: e.Summary, Targets: e.Targets}
		if e.Targets > 0 {
			changes, err := s.db.AuditChanges(ctx, e.ID, shown)
			if err != nil {
				return err
			}
			for _, ch := range changes {
				row.Changes = append(row.Changes, views.Fact{Label: ch.EndpointName, Value: ch.Before + " → " + ch.After})
			}
			row.MoreChanges = e.Targets - len(changes)
		}
		m.Rows = append(m.Rows, row)
	}
	if len(entries) == f.Limit {
		q := url.Values{"actor": {f.Actor}, "action": {f.Action}, "endpoint": {f.Endpoint}, "before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		m.NextURL = "/audit?" + q.Encode()
	}
	return render(c, http.StatusOK, views.Audit(m))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
