package web

import (
	"context"
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

// formTime reads a datetime-local field as wall time in loc; "" is nil.
func formTime(c echo.Context, field string, loc *time.Location) (*time.Time, error) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return &t, nil
		}
	}
	msg := fmt.Sprintf("“%s” is not a date and time; write it like 2026-12-01T22:00.", v)
	return nil, &store.Error{Kind: store.Invalid, Message: msg, Details: []store.FieldError{{Field: field, Message: msg}}}
}

// suspendForm reads the suspension fields shared by the endpoint page and
// the bulk action.
func suspendForm(c echo.Context) (store.SuspendInput, error) {
	in := store.SuspendInput{Reason: c.FormValue("reason")}
	if v := strings.TrimSpace(c.FormValue("cycles")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			msg := fmt.Sprintf("Cycles must be a whole number from 1 to 100, not “%s”.", v)
			return in, &store.Error{Kind: store.Invalid, Message: msg, Details: []store.FieldError{{Field: "cycles", Message: msg}}}
		}
		in.Cycles = &n
	}
	var err error
	if in.From, err = formTime(c, "from", userZone(c)); err != nil {
		return in, err
	}
	in.Until, err = formTime(c, "until", userZone(c))
	return in, err
}

// fieldErrors lists an error's details by field, for a form shown again;
// "_" holds the whole message.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	if se, ok := err.(*store.Error); ok {
		for _, d := range se.Details {
			if _, seen := out[d.Field]; !seen {
				out[d.Field] = d.Message
			}
		}
		out["_"] = se.Message
	}
	return out
}

func (s *Server) serverSuspend(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in, err := suspendForm(c)
	if err == nil {
		_, err = s.db.Suspend(c.Request().Context(), actor(c), store.Target{IDs: []int64{id}}, in)
	}
	if store.KindOf(err) == store.Invalid {
		// Show the page again with the form as typed and what was wrong.
		m, merr := s.serverModel(c, id)
		if merr != nil {
			return merr
		}
		m.Errors = fieldErrors(err)
		m.Form = map[string]string{"cycles": c.FormValue("cycles"), "from": c.FormValue("from"), "until": c.FormValue("until"), "reason": c.FormValue("reason")}
		m.Flash, m.FlashKind = err.Error(), "error"
		return render(c, http.StatusUnprocessableEntity, views.Server(m))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, fmt.Sprintf("/servers/%d", id), "ok", "Endpoint suspended.")
}

func (s *Server) serverUnsuspend(c echo.Context) error {
	return s.serverAction(c, "Suspension removed.", "There was no suspension to remove.", func(tg store.Target) (store.ActionResult, error) {
		return s.db.Unsuspend(c.Request().Context(), actor(c), tg)
	})
}

func (s *Server) serverAcknowledgeReboot(c echo.Context) error {
	return s.serverAction(c, "Reboot acknowledged.", "No reboot was waiting for acknowledgement.", func(tg store.Target) (store.ActionResult, error) {
		return s.db.AcknowledgeReboot(c.Request().Context(), actor(c), tg)
	})
}

func (s *Server) serverSchedule(c echo.Context) error {
	sched, err := strconv.ParseInt(c.FormValue("schedule_id"), 10, 64)
	if err != nil || sched < 0 {
		return badParam("schedule_id", c.FormValue("schedule_id"), "a schedule id, or 0 for none")
	}
	return s.serverAction(c, "Schedule assigned.", "The endpoint already had that schedule.", func(tg store.Target) (store.ActionResult, error) {
		return s.db.AssignSchedule(c.Request().Context(), actor(c), tg, sched)
	})
}

// labelList reads a comma-separated list of labels from a form field.
func labelList(c echo.Context, field string) []string {
	var out []string
	for _, l := range strings.Split(c.FormValue(field), ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) serverLabels(c echo.Context) error {
	add, remove := labelList(c, "add"), labelList(c, "remove")
	return s.serverAction(c, "Labels changed.", "The endpoint already had those labels.", func(tg store.Target) (store.ActionResult, error) {
		return s.db.ChangeLabels(c.Request().Context(), actor(c), tg, add, remove)
	})
}

// returnTo is where a form asked to come back to (a fix in a row of the
// list comes back to the list), if it is a page of the Servers list; else
// fallback.
func returnTo(c echo.Context, fallback string) string {
	to := c.FormValue("return")
	if to == "/servers" || strings.HasPrefix(to, "/servers?") {
		return to
	}
	return fallback
}

// serverAction runs a one-endpoint action and returns to the endpoint page.
func (s *Server) serverAction(c echo.Context, done, nothing string, run func(store.Target) (store.ActionResult, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := run(store.Target{IDs: []int64{id}})
	if err != nil {
		return err
	}
	msg := done
	if res.Changed == 0 {
		msg = nothing
	}
	return redirectWithUndo(c, returnTo(c, fmt.Sprintf("/servers/%d", id)), msg, res.AuditID)
}

// serversBulk runs an action on the checked rows, on every endpoint
// matching the list's filter as the page showed it, or on a saved view.
// The first post shows what the action would do, found by running it and
// rolling it back; the confirmed post runs it, refused if the filter has
// come to match another number of endpoints since.
func (s *Server) serversBulk(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	back := listURLFromQuery(form.Get("filter"))
	action, scope := form.Get("action"), form.Get("scope")
	var tg store.Target
	var scopeWords []views.Fact
	switch {
	case scope == "all" || strings.HasPrefix(scope, "view:"):
		raw := form.Get("filter")
		if id, ok := strings.CutPrefix(scope, "view:"); ok {
			q, v, err := s.listQuery(c, url.Values{"view": {id}})
			if err != nil {
				return err
			}
			raw = q.Encode()
			scopeWords = append(scopeWords, views.Fact{Label: "Saved view", Value: v.Name})
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			return badParam("filter", raw, "the Servers list's query")
		}
		f, err := parseFilter(q)
		if err != nil {
			return err
		}
		tg.Filter, tg.Scope = &f, filterValues(f).Encode()
		scopeWords = append(scopeWords, views.Fact{Label: "Endpoints matching", Value: filterInWords(f, s.scheduleNames(c))})
		// The count the person saw (the list's for all matching, the
		// review's for a view) must still hold: a filter that matches
		// another number now is not the set they chose.
		if v := form.Get("expect"); v != "" || scope == "all" {
			shown, err := strconv.Atoi(v)
			if err != nil || shown < 0 {
				return badParam("expect", v, "the number of endpoints the page showed")
			}
			n, err := s.db.Count(ctx, f)
			if err != nil {
				return err
			}
			if n != int64(shown) {
				where := map[bool]string{true: "list", false: "review"}[scope == "all"]
				return redirectWithFlash(c, back, "error", fmt.Sprintf(
					"Nothing was done: the %s showed %s, but %s match this filter now. Look at the list again, then choose the action.",
					where, plural(int64(shown), "endpoint", "endpoints"), plural(n, "endpoint", "endpoints")))
			}
			if form.Get("confirm") == "yes" {
				tg.Expect = shown // and held inside the action's transaction
			}
		}
	case scope == "checked" || scope == "":
		for _, v := range form["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 1 {
				return badParam("id", v, "endpoint ids")
			}
			tg.IDs = append(tg.IDs, id)
		}
		if len(tg.IDs) == 0 {
			return redirectWithFlash(c, back, "error", "Nothing was done: no row is checked. Check at least one row, or choose “all endpoints matching the list”.")
		}
		scopeWords = append(scopeWords, views.Fact{Label: "Endpoints", Value: plural(int64(len(tg.IDs)), "checked row", "checked rows")})
	default:
		return badParam("scope", scope, "checked, all or view:ID")
	}

	var what string
	var run func(ctx context.Context) (store.ActionResult, error)
	who := actor(c)
	switch action {
	case "unsuspend":
		what, run = "Remove the suspension", func(ctx context.Context) (store.ActionResult, error) { return s.db.Unsuspend(ctx, who, tg) }
	case "acknowledge-reboot":
		what, run = "Acknowledge the reboot", func(ctx context.Context) (store.ActionResult, error) { return s.db.AcknowledgeReboot(ctx, who, tg) }
	case "suspend":
		in, err := suspendForm(c)
		if err == nil {
			err = in.Validate(time.Now())
		}
		if err != nil {
			return s.rejectBulk(c, form, err)
		}
		what = "Suspend (" + in.Reason + ")"
		run = func(ctx context.Context) (store.ActionResult, error) { return s.db.Suspend(ctx, who, tg, in) }
	case "schedule":
		id, err := strconv.ParseInt(form.Get("schedule_id"), 10, 64)
		if err != nil || id < 0 {
			return s.rejectBulk(c, form, fieldError("schedule_id", "Choose a schedule, or “No schedule”."))
		}
		what = "Remove the schedule"
		if id != 0 {
			sc, err := s.db.Schedule(ctx, id)
			if err != nil {
				return s.rejectBulk(c, form, err)
			}
			what = "Assign schedule " + sc.Name
		}
		run = func(ctx context.Context) (store.ActionResult, error) { return s.db.AssignSchedule(ctx, who, tg, id) }
	case "labels":
		add, remove := labelList(c, "add"), labelList(c, "remove")
		if len(add)+len(remove) == 0 {
			return s.rejectBulk(c, form, fieldError("add", "Give labels to add or remove, separated by commas."))
		}
		what = "Change labels (" + strings.Join(append(prefixed("+", add), prefixed("−", remove)...), " ") + ")"
		run = func(ctx context.Context) (store.ActionResult, error) {
			return s.db.ChangeLabels(ctx, who, tg, add, remove)
		}
	default:
		return badParam("action", action, "unsuspend, acknowledge-reboot, suspend, schedule or labels")
	}

	if form.Get("confirm") != "yes" {
		p, err := s.db.PreviewOf(ctx, run)
		if err != nil {
			return s.rejectBulk(c, form, err)
		}
		m := views.ConfirmPage{Page: s.page(c, "Confirm: "+what, "servers"), Heading: "Confirm: " + what, Scope: scopeWords,
			Count: int64(p.Matched), Noun: "endpoint", Names: p.Names, Action: "/servers/bulk", BackURL: back,
			Button: fmt.Sprintf("%s on %s", what, plural(int64(p.Matched), "endpoint", "endpoints"))}
		m.Consequences, m.Danger = consequences(p)
		for _, k := range []string{"action", "scope", "filter", "cycles", "from", "until", "reason", "schedule_id", "add", "remove"} {
			if v := form.Get(k); v != "" {
				m.Fields = append(m.Fields, views.Fact{Label: k, Value: v})
			}
		}
		if scope == "all" || strings.HasPrefix(scope, "view:") {
			m.Fields = append(m.Fields, views.Fact{Label: "expect", Value: strconv.Itoa(p.Matched)})
		}
		for _, id := range form["id"] {
			m.Fields = append(m.Fields, views.Fact{Label: "id", Value: id})
		}
		return render(c, http.StatusOK, views.Confirm(m))
	}
	res, err := run(ctx)
	if store.KindOf(err) == store.Conflict || store.KindOf(err) == store.Invalid || store.KindOf(err) == store.NotFound {
		return redirectWithFlash(c, back, "error", "Nothing was done: "+err.Error())
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Done: %s — %d of %s changed (the others needed no change).", what, res.Changed, plural(int64(res.Matched), "endpoint", "endpoints"))
	return redirectWithUndo(c, back, msg, res.AuditID)
}

// consequences says in sentences what a preview found, and whether the
// action leaves any endpoint unable to patch (then it looks destructive).
func consequences(p store.Preview) ([]string, bool) {
	if p.Changed == 0 {
		return []string{"Nothing would change: every one of them is already so."}, false
	}
	out := []string{fmt.Sprintf("%s will change; the others are already so.", plural(int64(p.Changed), "endpoint", "endpoints"))}
	if p.Changed == p.Matched {
		out[0] = fmt.Sprintf("All %s will change.", plural(int64(p.Changed), "endpoint", "endpoints"))
	}
	danger := false
	for _, b := range p.Becomes {
		if b.Primary == "" {
			out = append(out, fmt.Sprintf("%s will become patchable.", plural(int64(b.Count), "endpoint", "endpoints")))
			continue
		}
		e, _ := store.Lookup(b.Primary)
		out = append(out, fmt.Sprintf("%s will become %s (%s).", plural(int64(b.Count), "endpoint", "endpoints"), e.Name, strings.ToLower(b.Impact.Label())))
		danger = true
	}
	if len(p.Becomes) == 0 {
		out = append(out, "None of them changes what holds it back from patching.")
	}
	return out, danger
}

// fieldError is a refused form field with a sentence a person can act on.
func fieldError(field, msg string) error {
	return &store.Error{Kind: store.Invalid, Message: msg, Details: []store.FieldError{{Field: field, Message: msg}}}
}

// rejectBulk shows the list again, with the bulk form as typed, the rows
// still checked and what was wrong, when a bulk action's input is refused.
func (s *Server) rejectBulk(c echo.Context, form url.Values, err error) error {
	if k := store.KindOf(err); k != store.Invalid && k != store.NotFound {
		return err
	}
	query, qerr := url.ParseQuery(form.Get("filter"))
	if qerr != nil {
		return badParam("filter", form.Get("filter"), "the Servers list's query")
	}
	rej := &bulkRejected{err: err, fields: map[string]string{}, checked: map[int64]bool{}}
	for _, k := range []string{"action", "scope", "cycles", "from", "until", "reason", "schedule_id", "add", "remove"} {
		rej.fields[k] = form.Get(k)
	}
	for _, v := range form["id"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			rej.checked[id] = true
		}
	}
	return s.renderServers(c, http.StatusUnprocessableEntity, query, rej)
}

func prefixed(p string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = p + v
	}
	return out
}
