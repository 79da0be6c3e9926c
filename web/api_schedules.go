package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
)

// apiScheduleBody is a schedule in the API, as sent and as shown.
type apiScheduleBody struct {
	ID          int64          `json:"id,omitempty"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Timezone    string         `json:"timezone"`
	Entries     []apiEntryBody `json:"entries"`
	Endpoints   *int           `json:"endpoints,omitempty"`
}

type apiEntryBody struct {
	ID              int64  `json:"id,omitempty"`
	StartsAt        string `json:"starts_at"` // local wall time: 2026-12-09T22:00
	DurationMinutes int    `json:"duration_minutes"`
	RRule           string `json:"rrule"`
}

func toAPISchedule(sc *store.Schedule) apiScheduleBody {
	n := sc.Endpoints
	out := apiScheduleBody{ID: sc.ID, Name: sc.Name, Description: sc.Description, Timezone: sc.Timezone, Entries: []apiEntryBody{}, Endpoints: &n}
	for _, e := range sc.Entries {
		out.Entries = append(out.Entries, apiEntryBody{ID: e.ID, StartsAt: e.Start.String(), DurationMinutes: int(e.Duration / time.Minute), RRule: e.RRule})
	}
	return out
}

// scheduleBody reads a schedule from a request body.
func scheduleBody(c echo.Context) (store.ScheduleInput, []store.EntryInput, error) {
	var b apiScheduleBody
	if err := decodeStrict(c, &b, `{"name": "…", "description": "…", "timezone": "Europe/Berlin", "entries": [{"starts_at": "2026-12-09T22:00", "duration_minutes": 240, "rrule": "FREQ=WEEKLY"}]}`); err != nil {
		return store.ScheduleInput{}, nil, err
	}
	if b.ID != 0 || b.Endpoints != nil {
		return store.ScheduleInput{}, nil, &store.Error{Kind: store.Invalid, Message: "id and endpoints are shown, not set"}
	}
	in := store.ScheduleInput{Name: b.Name, Description: b.Description, Timezone: b.Timezone}
	entries := make([]store.EntryInput, 0, len(b.Entries))
	var d []store.FieldError
	for i, e := range b.Entries {
		start, err := store.ParseWall(e.StartsAt)
		if err != nil {
			d = append(d, store.FieldError{Index: i, Field: fmt.Sprintf("entries[%d].starts_at", i), Message: err.Error()})
		}
		entries = append(entries, store.EntryInput{Start: start, Duration: time.Duration(e.DurationMinutes) * time.Minute, RRule: e.RRule})
	}
	if len(d) > 0 {
		return in, nil, &store.Error{Kind: store.Invalid, Message: d[0].Message, Details: d}
	}
	return in, entries, nil
}

func (s *Server) apiSchedules(c echo.Context) error {
	all, err := s.db.Schedules(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]apiScheduleBody, 0, len(all))
	for i := range all {
		out = append(out, toAPISchedule(&all[i]))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiScheduleCreate(c echo.Context) error {
	in, entries, err := scheduleBody(c)
	if err != nil {
		return err
	}
	id, err := s.db.CreateSchedule(c.Request().Context(), actor(c), in, entries...)
	if err != nil {
		return err
	}
	sc, err := s.db.Schedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPISchedule(sc))
}

func (s *Server) apiSchedule(c echo.Context) error {
	if strings.HasSuffix(c.Param("id"), ".ics") {
		return s.scheduleICS(c)
	}
	sc, err := s.scheduleParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPISchedule(sc))
}

func (s *Server) apiScheduleUpdate(c echo.Context) error {
	sc, err := s.scheduleParam(c)
	if err != nil {
		return err
	}
	in, entries, err := scheduleBody(c)
	if err != nil {
		return err
	}
	if err := s.db.UpdateSchedule(c.Request().Context(), actor(c), sc.ID, in, entries); err != nil {
		return err
	}
	if sc, err = s.db.Schedule(c.Request().Context(), sc.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPISchedule(sc))
}

func (s *Server) apiScheduleDelete(c echo.Context) error {
	sc, err := s.scheduleParam(c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteSchedule(c.Request().Context(), actor(c), sc.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiWindows lists the next windows of a schedule from a time.
func (s *Server) apiWindows(c echo.Context) error {
	sc, err := s.scheduleParam(c)
	if err != nil {
		return err
	}
	from := time.Now()
	if v := c.QueryParam("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return badParam("from", v, "a time in RFC 3339, like 2026-12-01T00:00:00Z")
		}
	}
	n := 10
	if v := c.QueryParam("count"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			return badParam("count", v, "a number from 1 to 100")
		}
	}
	type window struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	}
	out := []window{}
	for _, w := range sc.WindowsFrom(from, n+1) {
		if !w.Start.Before(from) && len(out) < n { // windows starting at or after from
			out = append(out, window{w.Start.UTC(), w.End.UTC()})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"windows": out})
}

// apiEndpointSchedule assigns a schedule to one endpoint, or none.
func (s *Server) apiEndpointSchedule(c echo.Context) error {
	var body struct {
		Schedule *int64 `json:"schedule"`
	}
	if err := decodeStrict(c, &body, `{"schedule": 3} or {"schedule": null}`); err != nil {
		return err
	}
	id := int64(0)
	if body.Schedule != nil {
		if *body.Schedule < 1 {
			return &store.Error{Kind: store.Invalid, Message: "schedule is a schedule's id, or null for none"}
		}
		id = *body.Schedule
	}
	return s.apiAction(c, func(tg store.Target) (store.ActionResult, error) {
		return s.db.AssignSchedule(c.Request().Context(), actor(c), tg, id)
	})
}

// scheduleParam is the schedule the path names: /…/schedules/{id} or {id}.ics.
func (s *Server) scheduleParam(c echo.Context) (*store.Schedule, error) {
	raw := strings.TrimSuffix(c.Param("id"), ".ics")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return nil, badParam("id", c.Param("id"), "a schedule's number")
	}
	return s.db.Schedule(c.Request().Context(), id)
}

// scheduleICS serves a schedule as iCalendar: one VEVENT per entry with
// its rule and the schedule's zone, for admins' calendar programs.
func (s *Server) scheduleICS(c echo.Context) error {
	sc, err := s.scheduleParam(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/calendar; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="schedule-%d.ics"`, sc.ID))
	return c.String(http.StatusOK, iCalendar(sc, c.Request().Host, time.Now()))
}

// iCalendar writes a schedule as RFC 5545 text. Times are the entries'
// wall times with the schedule's IANA zone as TZID, which calendar
// programs resolve; UNTIL is given in UTC as the standard asks.
func iCalendar(sc *store.Schedule, host string, now time.Time) string {
	var b strings.Builder
	line := func(s string) {
		// Lines are folded at 75 octets (RFC 5545 3.1).
		for len(s) > 75 {
			b.WriteString(s[:75] + "\r\n ")
			s = s[75:]
		}
		b.WriteString(s + "\r\n")
	}
	esc := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace
	loc := sc.Location()
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//patchready//maintenance schedules//EN")
	line("CALSCALE:GREGORIAN")
	line("X-WR-CALNAME:" + esc(sc.Name))
	line("X-WR-TIMEZONE:" + sc.Timezone)
	for _, e := range sc.Entries {
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:schedule-%d-entry-%d@%s", sc.ID, e.ID, host))
		line("DTSTAMP:" + now.UTC().Format("20060102T150405Z"))
		line("SUMMARY:" + esc("Maintenance window: "+sc.Name))
		if sc.Description != "" {
			line("DESCRIPTION:" + esc(sc.Description))
		}
		line(fmt.Sprintf("DTSTART;TZID=%s:%s", sc.Timezone, e.Start.Format("20060102T150405")))
		line(fmt.Sprintf("DURATION:PT%dM", int(e.Duration/time.Minute)))
		if e.RRule != "" {
			line("RRULE:" + icsRule(e.RRule, loc))
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// icsRule writes a kept rule for iCalendar: an UNTIL kept as the zone's
// wall time becomes the UTC time it stands for.
func icsRule(rule string, loc *time.Location) string {
	parts := strings.Split(rule, ";")
	for i, p := range parts {
		if v, ok := strings.CutPrefix(p, "UNTIL="); ok && !strings.HasSuffix(v, "Z") {
			if w, err := time.ParseInLocation("20060102T150405", v, time.UTC); err == nil {
				parts[i] = "UNTIL=" + (store.Wall{Time: w}).In(loc).UTC().Format("20060102T150405Z")
			}
		}
	}
	return strings.Join(parts, ";")
}
