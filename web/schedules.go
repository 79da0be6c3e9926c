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
	return views.ScheduleRow{ID: sc.ID, Name: sc.Name, Description: sc.Description, Entries: len(sc.Entries),
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
		form["name"], form["description"] = sc.Name, sc.Description
	}
	m := views.SchedulePage{Page: s.page(c, sc.Name, "schedules"), ScheduleRow: scheduleRow(c, sc, now), Errors: errs, Form: form}
	if msg, ok := errs["_"]; ok {
		m.Flash, m.FlashKind = msg, "error"
	}
	for _, e := range sc.Entries {
		row := views.EntryRow{ID: e.ID, Starts: stamp(c, e.StartsAt), Ends: stamp(c, e.EndsAt), Repeat: "once"}
		if e.RepeatWeekly {
			row.Repeat = "weekly until " + stamp(c, *e.RepeatUntil)
		}
		one := store.Schedule{Entries: []store.ScheduleEntry{e}}
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
	return render(c, status, views.Schedule(m))
}

func scheduleInput(c echo.Context) (store.ScheduleInput, map[string]string) {
	in := store.ScheduleInput{Name: c.FormValue("name"), Description: c.FormValue("description")}
	return in, map[string]string{"name": in.Name, "description": in.Description}
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
	err = s.db.UpdateSchedule(c.Request().Context(), actor(c), id, in)
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderSchedule(c, statusOf[k], fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, fmt.Sprintf("/schedules/%d", id), "ok", "Schedule saved.")
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

func (s *Server) entryAdd(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{"starts_at": c.FormValue("starts_at"), "ends_at": c.FormValue("ends_at"),
		"repeat_weekly": c.FormValue("repeat_weekly"), "repeat_until": c.FormValue("repeat_until")}
	in := store.EntryInput{RepeatWeekly: c.FormValue("repeat_weekly") == "1"}
	start, err := formTime(c, "starts_at", time.UTC)
	if err == nil && start == nil {
		err = &store.Error{Kind: store.Invalid, Message: "starts_at is required", Details: []store.FieldError{{Field: "starts_at", Message: "is required"}}}
	}
	var end *time.Time
	if err == nil {
		end, err = formTime(c, "ends_at", time.UTC)
		if err == nil && end == nil {
			err = &store.Error{Kind: store.Invalid, Message: "ends_at is required", Details: []store.FieldError{{Field: "ends_at", Message: "is required"}}}
		}
	}
	if err == nil {
		in.RepeatUntil, err = formTime(c, "repeat_until", time.UTC)
	}
	if err == nil {
		in.StartsAt, in.EndsAt = *start, *end
		err = s.db.AddEntry(c.Request().Context(), actor(c), id, in)
	}
	if store.KindOf(err) == store.Invalid {
		return s.renderSchedule(c, http.StatusUnprocessableEntity, fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, fmt.Sprintf("/schedules/%d", id), "ok", "Window added; the schedule's endpoints were re-evaluated.")
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
				win = stamp(c, e.StartsAt) + " – " + stamp(c, e.EndsAt)
			}
		}
		if win == "" {
			return &store.Error{Kind: store.NotFound, Message: "The schedule has no such window."}
		}
		return s.confirm(c, views.ConfirmPage{Heading: "Remove the window " + win + "?", Count: -1,
			Consequences: []string{fmt.Sprintf("The %s on “%s” will no longer be patched in this window; with no window left they become %s.",
				plural(int64(sc.Endpoints), "endpoint", "endpoints"), sc.Name, exemptionWords(store.NoMaintenanceEntry))},
			Action: fmt.Sprintf("/schedules/%d/entries/%d/delete", id, entry), Button: "Remove the window", Danger: true, BackURL: fmt.Sprintf("/schedules/%d", id)})
	}
	if err := s.db.DeleteEntry(c.Request().Context(), actor(c), id, entry); err != nil {
		return err
	}
	return redirectWithFlash(c, "/schedules/"+strconv.FormatInt(id, 10), "ok", "Window removed.")
}

// exemptionWords names an exemption with its impact: "No Maintenance Entry
// (temporarily cannot patch)".
func exemptionWords(code store.Code) string {
	e, _ := store.Lookup(code)
	return e.Name + " (" + strings.ToLower(e.Impact.Label()) + ")"
}
