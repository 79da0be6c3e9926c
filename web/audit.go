package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

var auditActions = []string{"suspend", "unsuspend", "acknowledge-reboot", "schedule", "schedule.create", "schedule.update",
	"schedule.delete", "schedule.entry.add", "schedule.entry.delete", "labels", "undo", "view.create", "view.delete",
	"user.create", "user.change", "token.create", "token.revoke", "settings", "import"}

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
	m := views.AuditPage{Page: s.page(c, "Audit log", "audit"), Actor: f.Actor, Action: f.Action, Endpoint: f.Endpoint, Actions: auditActions,
		Zone: userZone(c).String()}
	const shown = 5
	names := s.scheduleNames(c)
	for _, e := range entries {
		row := views.AuditRow{ID: e.ID, At: stamp(c, e.At), AtT: e.At.Format(time.RFC3339), Actor: e.Actor, Action: e.Action, Summary: e.Summary,
			Targets: e.Targets, Undoable: e.Undoable && m.Can(store.Operator)}
		if e.Scope != "" {
			row.Scope = "Endpoints matching: " + filterOfScope(e.Scope, names)
			row.ScopeURL = listURLFromQuery(e.Scope)
		}
		if e.UndoneBy != 0 {
			row.UndoneBy = "undone by #" + strconv.FormatInt(e.UndoneBy, 10)
		}
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

// filterOfScope is a kept filter in words.
func filterOfScope(scope string, names valueNames) string {
	q, err := url.ParseQuery(scope)
	if err != nil {
		return scope
	}
	f, err := parseFilter(q)
	if err != nil {
		return scope // a filter of an older version: shown as kept
	}
	return filterInWords(f, names)
}

// auditUndo undoes the action of an audit entry.
func (s *Server) auditUndo(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := s.db.Undo(c.Request().Context(), actor(c), id)
	back := c.FormValue("return")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/audit"
	}
	if k := store.KindOf(err); k == store.Conflict || k == store.Invalid || k == store.NotFound {
		return redirectWithFlash(c, back, "error", "Nothing was undone: "+err.Error())
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Undone: %s put back as before.", plural(int64(res.Restored), "endpoint", "endpoints"))
	if res.Skipped > 0 {
		msg += fmt.Sprintf(" %s changed again since were left as they are.", plural(int64(res.Skipped), "endpoint", "endpoints"))
	}
	if res.Gone > 0 {
		msg += fmt.Sprintf(" %s deleted since.", plural(int64(res.Gone), "endpoint was", "endpoints were"))
	}
	return redirectWithFlash(c, back, "ok", msg)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
