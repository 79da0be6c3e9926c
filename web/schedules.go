package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func scheduleRow(c echo.Context, sc *store.Schedule, now time.Time) views.ScheduleRow {
	return views.ScheduleRow{ID: sc.ID, Name: sc.Name, Description: sc.Description, Timezone: sc.Timezone, Entries: len(sc.Entries),
		Endpoints: int64(sc.Endpoints), URL: fmt.Sprintf("/schedules/%d", sc.ID),
		EndpointsURL: fmt.Sprintf("/servers?schedule=%d", sc.ID), NextWindow: nextWindowText(c, sc, now)}
}

func (s *Server) schedulesList(c echo.Context) error {
	return s.renderSchedules(c, http.StatusOK, nil, nil)
}

func (s *Server) renderSchedules(c echo.Context, status int, errs, form map[string]string) error {
	all, err := s.db.Schedules(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.SchedulesPage{Page: s.page(c, "Schedules", "schedules"), Errors: errs, Form: form}
	if msg, ok := errs["_"]; ok {
		m.Flash, m.FlashKind = msg, "error"
	}
	for i := range all {
		m.Schedules = append(m.Schedules, scheduleRow(c, &all[i], time.Now()))
	}
	return render(c, status, views.Schedules(m))
}

func (s *Server) scheduleShow(c echo.Context) error {
	if strings.HasSuffix(c.Param("id"), ".ics") { // /schedules/3.ics
		return s.scheduleICS(c)
	}
	return s.renderSchedule(c, http.StatusOK, nil, nil)
}

func (s *Server) renderSchedule(c echo.Context, status int, errs, form map[string]string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	sc, err := s.db.Schedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	now := time.Now()
	// A refused window keeps what was typed for it, and the Edit form
	// keeps the schedule's name and description.
	if form == nil {
		form = map[string]string{}
	}
	if _, typed := form["name"]; !typed {
		form["name"], form["description"], form["timezone"] = sc.Name, sc.Description, sc.Timezone
	}
	m := views.SchedulePage{Page: s.page(c, sc.Name, "schedules"), ScheduleRow: scheduleRow(c, sc, now), Errors: errs, Form: form}
	if msg, ok := errs["_"]; ok {
		m.Flash, m.FlashKind = msg, "error"
	}
	loc := sc.Location()
	for _, e := range sc.Entries {
		row := views.EntryRow{ID: e.ID, Starts: e.Start.Format("2006-01-02 15:04") + " " + sc.Timezone, Duration: durationWords(e.Duration),
			Repeat: store.DescribeRule(e.RRule), Rule: e.RRule}
		one := store.Schedule{Timezone: sc.Timezone, Entries: []store.ScheduleEntry{e}}
		switch w, ok := one.NextWindow(now); {
		case !ok:
			row.Status = "ended"
		case !w.Start.After(now):
			row.Status = "open now"
		default:
			row.Status = "next opens in " + span(w.Start.Sub(now))
		}
		m.Entries = append(m.Entries, row)
	}
	for _, w := range sc.WindowsFrom(now, 8) {
		m.Windows = append(m.Windows, views.WindowRow{
			Local: w.Start.In(loc).Format("Mon 2006-01-02 15:04") + " – " + w.End.In(loc).Format("15:04 MST"),
			Yours: stamp(c, w.Start) + " – " + w.End.In(userZone(c)).Format("15:04 MST"), Open: !w.Start.After(now)})
	}
	m.Problems = sc.Problems(now)
	m.ZoneDiffers = loc.String() != userZone(c).String()
	m.UserZone = userZone(c).String()
	m.Presets = presetOptions(form["kind"])
	return render(c, status, views.Schedule(m))
}

func scheduleInput(c echo.Context) (store.ScheduleInput, map[string]string) {
	in := store.ScheduleInput{Name: c.FormValue("name"), Description: c.FormValue("description"), Timezone: c.FormValue("timezone")}
	return in, map[string]string{"name": in.Name, "description": in.Description, "timezone": in.Timezone}
}

func (s *Server) scheduleCreate(c echo.Context) error {
	in, form := scheduleInput(c)
	id, err := s.db.CreateSchedule(c.Request().Context(), actor(c), in)
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderSchedules(c, statusOf[k], fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, fmt.Sprintf("/schedules/%d", id), "ok", "Schedule created. Add its windows below.")
}

func (s *Server) scheduleUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in, form := scheduleInput(c)
	err = s.db.UpdateSchedule(c.Request().Context(), actor(c), id, in, nil)
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderSchedule(c, statusOf[k], fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return s.savedSchedule(c, id, "Schedule saved.")
}

func (s *Server) scheduleDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		sc, err := s.db.Schedule(c.Request().Context(), id)
		if err != nil {
			return err
		}
		n := int64(sc.Endpoints)
		return s.confirm(c, views.ConfirmPage{Heading: "Delete the schedule “" + sc.Name + "”?", Count: n, Noun: "endpoint",
			Consequences: []string{
				fmt.Sprintf("%s on this schedule will have none and become %s.", plural(n, "endpoint", "endpoints"), exemptionWords(store.MaintenanceWindowRequired)),
				fmt.Sprintf("Its %s go with it. Deleting cannot be undone.", plural(int64(len(sc.Entries)), "window", "windows"))},
			Action: fmt.Sprintf("/schedules/%d/delete", id), Button: "Delete " + sc.Name, Danger: true, BackURL: fmt.Sprintf("/schedules/%d", id)})
	}
	if err := s.db.DeleteSchedule(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "/schedules", "ok", "Schedule deleted; its endpoints now have no schedule.")
}

// entryForm are the add-entry form's fields, as typed.
var entryForm = []string{"starts_at", "duration_minutes", "kind", "month_day", "nth", "weekday", "offset", "until", "count", "rrule"}

func (s *Server) entryAdd(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range entryForm {
		form[k] = c.FormValue(k)
	}
	form["days"] = strings.Join(c.Request().Form["days"], ",")
	in, err := entryFromForm(c)
	if err == nil {
		err = s.db.AddEntry(c.Request().Context(), actor(c), id, in)
	}
	if store.KindOf(err) == store.Invalid {
		return s.renderSchedule(c, http.StatusUnprocessableEntity, fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return s.savedSchedule(c, id, "Entry added; the schedule's endpoints were re-evaluated.")
}

// savedSchedule goes back to a schedule after a change, flagging windows
// that overlap or lie in the past.
func (s *Server) savedSchedule(c echo.Context, id int64, done string) error {
	sc, err := s.db.Schedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if problems := sc.Problems(time.Now()); len(problems) > 0 {
		return redirectWithFlash(c, fmt.Sprintf("/schedules/%d", id), "error", done+" Please check: "+strings.Join(problems, " "))
	}
	return redirectWithFlash(c, fmt.Sprintf("/schedules/%d", id), "ok", done)
}

// entryFromForm reads the add-entry form: a local start, a duration, and a
// preset (or a custom rule) compiled to a recurrence rule.
func entryFromForm(c echo.Context) (store.EntryInput, error) {
	var in store.EntryInput
	var d []store.FieldError
	start, err := store.ParseWall(c.FormValue("starts_at"))
	if err != nil {
		d = append(d, store.FieldError{Field: "starts_at", Message: "Give the local date and time the window starts, like 2026-12-09 22:00."})
	}
	in.Start = start
	mins, err := strconv.Atoi(strings.TrimSpace(c.FormValue("duration_minutes")))
	if err != nil {
		d = append(d, store.FieldError{Field: "duration_minutes", Message: "Give the window's length in whole minutes, like 240."})
	}
	in.Duration = time.Duration(mins) * time.Minute
	num := func(field string) int {
		v := strings.TrimSpace(c.FormValue(field))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			d = append(d, store.FieldError{Field: field, Message: "Give a whole number."})
		}
		return n
	}
	p := store.Preset{Kind: c.FormValue("kind"), Days: c.Request().Form["days"], MonthDay: num("month_day"), Nth: num("nth"),
		Weekday: c.FormValue("weekday"), Offset: num("offset"), Until: c.FormValue("until"), Count: num("count"), Custom: c.FormValue("rrule")}
	rule, fe := p.Rule()
	if fe != nil {
		d = append(d, *fe)
	}
	in.RRule = rule
	if len(d) > 0 {
		return in, &store.Error{Kind: store.Invalid, Message: d[0].Message, Details: d}
	}
	return in, nil
}

// presetOptions are the kinds of repetition offered, the chosen one marked.
func presetOptions(chosen string) []views.Option {
	var out []views.Option
	for _, p := range store.Presets {
		out = append(out, views.Option{Value: p.Kind, Label: p.Label, Selected: p.Kind == chosen || chosen == "" && p.Kind == "weekly"})
	}
	return out
}

// durationWords is a window's length: "4 h", "90 min", "1 day 2 h".
func durationWords(d time.Duration) string {
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, plural(int64(days), "day", "days"))
	}
	if h > 0 {
		parts = append(parts, strconv.Itoa(h)+" h")
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(m)+" min")
	}
	return strings.Join(parts, " ")
}

func (s *Server) entryDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	entry, err := pathID(c, "entry")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		sc, err := s.db.Schedule(c.Request().Context(), id)
		if err != nil {
			return err
		}
		var win string
		for _, e := range sc.Entries {
			if e.ID == entry {
				win = e.Start.Format("2006-01-02 15:04") + " " + sc.Timezone + ", " + store.DescribeRule(e.RRule)
			}
		}
		if win == "" {
			return &store.Error{Kind: store.NotFound, Message: "The schedule has no such window."}
		}
		return s.confirm(c, views.ConfirmPage{Heading: "Remove the entry " + win + "?", Count: -1,
			Consequences: []string{fmt.Sprintf("The %s on “%s” will no longer be patched in its windows; with no entry left they become %s.",
				plural(int64(sc.Endpoints), "endpoint", "endpoints"), sc.Name, exemptionWords(store.NoMaintenanceEntry))},
			Action: fmt.Sprintf("/schedules/%d/entries/%d/delete", id, entry), Button: "Remove the entry", Danger: true, BackURL: fmt.Sprintf("/schedules/%d", id)})
	}
	if err := s.db.DeleteEntry(c.Request().Context(), actor(c), id, entry); err != nil {
		return err
	}
	return redirectWithFlash(c, "/schedules/"+strconv.FormatInt(id, 10), "ok", "Entry removed.")
}

// exemptionWords names an exemption with its impact: "No Maintenance Entry
// (temporarily cannot patch)".
func exemptionWords(code store.Code) string {
	e, _ := store.Lookup(code)
	return e.Name + " (" + strings.ToLower(e.Impact.Label()) + ")"
}
