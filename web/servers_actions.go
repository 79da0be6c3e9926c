package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// formTime reads a datetime-local field as UTC; "" is nil.
func formTime(c echo.Context, field string) (*time.Time, error) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return &t, nil
		}
	}
	return nil, &store.Error{Kind: store.Invalid, Message: fmt.Sprintf("%s: %q is not a date and time (YYYY-MM-DDTHH:MM)", field, v),
		Details: []store.FieldError{{Field: field, Message: "not a date and time"}}}
}

// suspendForm reads the suspension fields shared by the endpoint page and
// the bulk action.
func suspendForm(c echo.Context) (store.SuspendInput, error) {
	in := store.SuspendInput{Reason: c.FormValue("reason")}
	if v := strings.TrimSpace(c.FormValue("cycles")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return in, &store.Error{Kind: store.Invalid, Message: fmt.Sprintf("cycles: %q is not a whole number", v),
				Details: []store.FieldError{{Field: "cycles", Message: "not a whole number"}}}
		}
		in.Cycles = &n
	}
	var err error
	if in.From, err = formTime(c, "from"); err != nil {
		return in, err
	}
	in.Until, err = formTime(c, "until")
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
	return redirectWithFlash(c, fmt.Sprintf("/servers/%d", id), "ok", msg)
}

// serversBulk runs an action on the checked rows, or on every endpoint
// matching the list's filter. The first post shows a confirmation stating
// how many endpoints will change; the confirmed post runs it.
func (s *Server) serversBulk(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action, scope := form.Get("action"), form.Get("scope")
	var tg store.Target
	var count int64
	switch scope {
	case "all":
		q, err := url.ParseQuery(form.Get("filter"))
		if err != nil {
			return badParam("filter", form.Get("filter"), "the Servers list's query")
		}
		f, err := parseFilter(q)
		if err != nil {
			return err
		}
		tg.Filter = &f
		if count, err = s.db.Count(ctx, f); err != nil {
			return err
		}
	case "checked", "":
		for _, v := range form["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 1 {
				return badParam("id", v, "endpoint ids")
			}
			tg.IDs = append(tg.IDs, id)
		}
		if len(tg.IDs) == 0 {
			return redirectWithFlash(c, "/servers?"+form.Get("filter"), "error", "Check at least one row, or choose “all endpoints matching this filter”.")
		}
		count = int64(len(tg.IDs))
	default:
		return badParam("scope", scope, "checked or all")
	}

	var what string
	var run func() (store.ActionResult, error)
	who := actor(c)
	switch action {
	case "unsuspend":
		what, run = "remove the suspension", func() (store.ActionResult, error) { return s.db.Unsuspend(ctx, who, tg) }
	case "acknowledge-reboot":
		what, run = "acknowledge the reboot", func() (store.ActionResult, error) { return s.db.AcknowledgeReboot(ctx, who, tg) }
	case "suspend":
		in, err := suspendForm(c)
		if err == nil {
			err = in.Validate(time.Now())
		}
		if err != nil {
			return s.rejectBulk(c, form, err)
		}
		what = "suspend (" + strings.TrimSpace(in.Reason) + ")"
		run = func() (store.ActionResult, error) { return s.db.Suspend(ctx, who, tg, in) }
	case "schedule":
		id, err := strconv.ParseInt(form.Get("schedule_id"), 10, 64)
		if err != nil || id < 0 {
			return s.rejectBulk(c, form, badParam("schedule_id", form.Get("schedule_id"), "a schedule id, or 0 for none"))
		}
		what = "remove the schedule"
		if id != 0 {
			sc, err := s.db.Schedule(ctx, id)
			if err != nil {
				return s.rejectBulk(c, form, err)
			}
			what = "assign schedule " + sc.Name
		}
		run = func() (store.ActionResult, error) { return s.db.AssignSchedule(ctx, who, tg, id) }
	case "labels":
		add, remove := labelList(c, "add"), labelList(c, "remove")
		if _, err := store.ParseLabels(append(slices.Clone(add), remove...)); err != nil || len(add)+len(remove) == 0 {
			msg := "give labels to add or remove, separated by commas"
			if err != nil {
				msg = err.Error()
			}
			return s.rejectBulk(c, form, &store.Error{Kind: store.Invalid, Message: msg, Details: []store.FieldError{{Field: "add", Message: msg}}})
		}
		what = "change labels (" + strings.Join(append(prefixed("+", add), prefixed("−", remove)...), " ") + ")"
		run = func() (store.ActionResult, error) { return s.db.ChangeLabels(ctx, who, tg, add, remove) }
	default:
		return badParam("action", action, "unsuspend, acknowledge-reboot, suspend, schedule or labels")
	}

	if form.Get("confirm") != "yes" {
		m := views.BulkConfirm{Page: s.page(c, "Confirm bulk action", "servers"), Action: action, What: what, Count: count,
			BackURL: "/servers?" + form.Get("filter")}
		for _, k := range []string{"action", "scope", "filter", "cycles", "from", "until", "reason", "schedule_id", "add", "remove"} {
			if v := form.Get(k); v != "" {
				m.Fields = append(m.Fields, views.Fact{Label: k, Value: v})
			}
		}
		for _, id := range form["id"] {
			m.Fields = append(m.Fields, views.Fact{Label: "id", Value: id})
		}
		return render(c, http.StatusOK, views.Confirm(m))
	}
	res, err := run()
	if err != nil {
		return err
	}
	return redirectWithFlash(c, "/servers?"+form.Get("filter"), "ok",
		fmt.Sprintf("Done: %s — %d of %d endpoints changed (the others needed no change).", what, res.Changed, res.Matched))
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
