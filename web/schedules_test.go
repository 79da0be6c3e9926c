package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"patchready/store"
)

func TestScheduleAPI(t *testing.T) {
	e := newEnv(t, 50)
	token, _ := e.db.CreateToken(context.Background(), "admin", "calendars")
	body := `{"name": "Windows: Patch Tuesday + 1", "description": "the Wednesday after", "timezone": "Europe/Berlin",
		"entries": [{"starts_at": "2027-01-01T22:00", "duration_minutes": 240, "rrule": "FREQ=MONTHLY;BYDAY=WE;BYMONTHDAY=9,10,11,12,13,14,15"}]}`
	res, out := e.api(token, "POST", "/api/v1/schedules", body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create %d %s", res.StatusCode, out)
	}
	var sc apiScheduleBody
	json.Unmarshal([]byte(out), &sc)
	if sc.ID == 0 || sc.Timezone != "Europe/Berlin" || len(sc.Entries) != 1 || sc.Entries[0].StartsAt != "2027-01-01T22:00" || *sc.Endpoints != 0 {
		t.Fatalf("created %+v", sc)
	}
	path := fmt.Sprintf("/api/v1/schedules/%d", sc.ID)

	// The next windows, in UTC: 13 January 2027 22:00 Berlin is 21:00 UTC.
	res, out = e.api(token, "GET", path+"/windows?from=2027-01-01T00:00:00Z&count=3", "")
	var w struct {
		Windows []struct{ Start, End time.Time }
	}
	json.Unmarshal([]byte(out), &w)
	if res.StatusCode != 200 || len(w.Windows) != 3 || !w.Windows[0].Start.Equal(time.Date(2027, 1, 13, 21, 0, 0, 0, time.UTC)) ||
		!w.Windows[0].End.Equal(time.Date(2027, 1, 14, 1, 0, 0, 0, time.UTC)) || !w.Windows[2].Start.Equal(time.Date(2027, 3, 10, 21, 0, 0, 0, time.UTC)) {
		t.Fatalf("windows %d %s", res.StatusCode, out)
	}
	// In summer the same wall time is 20:00 UTC.
	_, out = e.api(token, "GET", path+"/windows?from=2027-07-01T00:00:00Z&count=1", "")
	if !strings.Contains(out, `"start":"2027-07-14T20:00:00Z"`) {
		t.Fatalf("summer window %s", out)
	}

	// Bad input: a 400 naming what is wrong, and nothing written.
	for _, bad := range []struct{ body, want string }{
		{`{"name": "x", "timezone": "Mars/Base"}`, "IANA time zone"},
		{`{"name": "x", "entries": [{"starts_at": "tomorrow", "duration_minutes": 60}]}`, "entries[0].starts_at"},
		{`{"name": "x", "entries": [{"starts_at": "2027-01-01T22:00", "duration_minutes": 0}]}`, "1 minute to 7 days"},
		{`{"name": "x", "entries": [{"starts_at": "2027-01-01T22:00", "duration_minutes": 60, "rrule": "FREQ=MINUTELY"}]}`, "daily, weekly, monthly or yearly"},
		{`{"name": "x", "entries": [{"starts_at": "2027-01-01T22:00", "duration_minutes": 60, "rrule": "FREQ=DAILY;BYHOUR=2"}]}`, "BYHOUR"},
		{`{"name": "x", "colour": "red"}`, "colour"},
	} {
		res, out := e.api(token, "POST", "/api/v1/schedules", bad.body)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(out, bad.want) {
			t.Errorf("%s: %d %s", bad.body, res.StatusCode, out)
		}
	}
	if all, _ := e.db.Schedules(context.Background()); len(all) != 7 { // six demo schedules and ours
		t.Fatalf("%d schedules after refused bodies", len(all))
	}

	// Assign it to an endpoint, then replace its entries: the endpoint is
	// re-evaluated (an open-ended series never expires).
	ep := e.endpointWith(store.MaintenanceWindowRequired)
	res, out = e.api(token, "PUT", "/api/v1/endpoints/"+url.PathEscape(ep.Name)+"/schedule", fmt.Sprintf(`{"schedule": %d}`, sc.ID))
	if res.StatusCode != 200 || !strings.Contains(out, `"changed":true`) || !strings.Contains(out, `"name":"Windows: Patch Tuesday + 1"`) {
		t.Fatalf("assign %d %s", res.StatusCode, out)
	}
	res, out = e.api(token, "PUT", path, `{"name": "Windows: first Saturday", "timezone": "America/New_York",
		"entries": [{"starts_at": "2020-01-04T23:00", "duration_minutes": 300, "rrule": "FREQ=MONTHLY;BYDAY=1SA"}]}`)
	if res.StatusCode != 200 || !strings.Contains(out, `"endpoints":1`) || !strings.Contains(out, `"timezone":"America/New_York"`) {
		t.Fatalf("replace %d %s", res.StatusCode, out)
	}
	after, _ := e.db.Endpoint(context.Background(), ep.ID)
	if hasCode(after, store.MaintenanceWindowRequired) || hasCode(after, store.MaintenanceWindowExpired) || hasCode(after, store.AwaitingMaintenanceWindow) {
		t.Fatalf("endpoint on an open-ended schedule: %v", after.Exemptions)
	}
	if res, out := e.api(token, "PUT", "/api/v1/endpoints/"+url.PathEscape(ep.Name)+"/schedule", `{"schedule": null}`); res.StatusCode != 200 || !strings.Contains(out, `"schedule":null`) {
		t.Fatalf("unassign %d %s", res.StatusCode, out)
	}

	// The .ics, read back by an iCalendar library, gives the same windows.
	res, out = e.api(token, "GET", path+".ics", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("ics %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	cal, err := ical.NewDecoder(strings.NewReader(out)).Decode()
	if err != nil {
		t.Fatalf("the .ics does not parse: %v\n%s", err, out)
	}
	events := cal.Events()
	if len(events) != 1 || events[0].Props.Get(ical.PropDateTimeStart).Params.Get(ical.ParamTimezoneID) != "America/New_York" {
		t.Fatalf("events %+v", events)
	}
	set, err := events[0].RecurrenceSet(time.UTC)
	if err != nil || set == nil {
		t.Fatalf("recurrence: %v", err)
	}
	stored, _ := e.db.Schedule(context.Background(), sc.ID)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ours := stored.WindowsFrom(from, 14)
	theirs := set.Between(from, ours[len(ours)-1].Start.Add(time.Minute), true)
	if len(theirs) != len(ours) {
		t.Fatalf("%d occurrences in the .ics, %d windows", len(theirs), len(ours))
	}
	for i := range ours {
		if !theirs[i].Equal(ours[i].Start) {
			t.Fatalf("occurrence %d: %v in the .ics, %v here", i, theirs[i], ours[i].Start)
		}
	}
	// The page's link serves it too, to a signed-in user.
	c := e.login("victor")
	if res, body := c.get(fmt.Sprintf("/schedules/%d.ics", sc.ID)); res.StatusCode != 200 || !strings.Contains(body, "RRULE:FREQ=MONTHLY;BYDAY=1SA") {
		t.Fatalf("page .ics %d", res.StatusCode)
	}

	if res, _ := e.api(token, "DELETE", path, ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete %d", res.StatusCode)
	}
	if res, _ := e.api(token, "GET", path, ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted schedule %d", res.StatusCode)
	}
}

// The schedule page offers presets, shows the next windows in the
// schedule's zone and the user's, and flags overlaps and past windows.
func TestSchedulePagePresets(t *testing.T) {
	e := newEnv(t, 20)
	c := e.login("olivia")
	res, _ := c.post("/schedules", url.Values{"name": {"Berlin nights"}, "timezone": {"Europe/Berlin"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create %d", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	next := time.Now().AddDate(0, 1, 0).Format("2006-01-02") + "T22:00"
	for _, form := range []url.Values{
		{"kind": {"patch-tuesday"}, "offset": {"1"}},
		{"kind": {"monthly-weekday"}, "nth": {"-1"}, "weekday": {"SA"}},
		{"kind": {"weekly"}, "days": {"SA", "SU"}, "count": {"10"}},
	} {
		form.Set("starts_at", next)
		form.Set("duration_minutes", "240")
		if res, _ := c.post(loc+"/entries", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%v: %d", form, res.StatusCode)
		}
	}
	body := mustGet(c, loc)
	for _, want := range []string{"every month on Patch Tuesday + 1 (the Wednesday after the second Tuesday)",
		"every month on the last Saturday", "every week on Saturday, Sunday, 10 times", "In Europe/Berlin", "Next windows"} {
		if !strings.Contains(body, want) {
			t.Errorf("the schedule page lacks %q", want)
		}
	}
	// The weekend series and the last Saturday meet: flagged on save.
	if !strings.Contains(body, "Windows overlap") {
		t.Error("overlapping windows not flagged")
	}
	res, _ = c.post(loc+"/entries", url.Values{"starts_at": {"2020-01-01T10:00"}, "duration_minutes": {"60"}, "kind": {"once"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(mustGet(c, loc), "all of them are past") {
		t.Fatal("a past window not flagged")
	}
	// A viewer in another zone sees both.
	v := e.client()
	v.get("/login")
	v.post("/login", url.Values{"username": {"victor"}, "password": {testPassword}, "tz": {"Asia/Tokyo"}})
	if body := mustGet(v, loc); !strings.Contains(body, "In your zone (Asia/Tokyo)") || !strings.Contains(body, "JST") {
		t.Fatal("the windows are not shown in the user's zone")
	}
}

// The overview lists the next windows with the endpoints each covers and
// those held back, by exemption; guidance states the threshold in force.
func TestOverviewNextWindowsAndGuidance(t *testing.T) {
	e := newEnv(t, 500)
	c := e.login("victor")
	body := mustGet(c, "/")
	if !strings.Contains(body, "Next windows") || !strings.Contains(body, "Linux prod: Sundays 02:00–06:00 Berlin") {
		t.Fatal("no next windows on the overview")
	}
	all, _ := e.db.Schedules(context.Background())
	var linux store.Schedule
	for _, s := range all {
		if strings.HasPrefix(s.Name, "Linux prod") {
			linux = s
		}
	}
	f := store.Filter{}
	f.Add(store.DimSchedule, false, fmt.Sprint(linux.ID))
	n, _ := e.db.Count(context.Background(), f)
	if !strings.Contains(body, fmt.Sprintf(`<a href="/servers?schedule=%d">%s</a>`, linux.ID, thousands(n))) {
		t.Fatalf("the window's endpoint count (%d) is not shown as a link", n)
	}
	held := regexp.MustCompile(fmt.Sprintf(`<a href="(/servers\?schedule=%d&amp;exemption=[^"]*)">([\d,]+)</a>`, linux.ID)).FindStringSubmatch(body)
	if held == nil {
		t.Fatal("no held-back count")
	}
	if list := mustGet(c, strings.ReplaceAll(held[1], "&amp;", "&")); !strings.Contains(list, `data-total="`+strings.ReplaceAll(held[2], ",", "")+`"`) {
		t.Fatalf("the held-back link does not list %s endpoints", held[2])
	}
	if kb := mustGet(c, "/kb/low-disk-space"); !strings.Contains(kb, "The threshold in force is 90 %") {
		t.Fatal("the Low Disk Space page does not state the threshold")
	}
	if kb := mustGet(c, "/kb/pending-reboot-suspension"); !strings.Contains(kb, "clear this at once") || !strings.Contains(kb, "next report") {
		t.Fatal("the Pending Reboot page does not explain both ways it clears")
	}
}

// The endpoint page says when a suspension by cycles will end.
func TestEndpointPageShowsWhenCyclesEnd(t *testing.T) {
	e := newEnv(t, 50)
	ctx := context.Background()
	ep := e.endpointWith(store.MaintenanceWindowRequired)
	start := store.Wall{Time: time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)}
	id, err := e.db.CreateSchedule(ctx, "test", store.ScheduleInput{Name: "Daily", Timezone: "UTC"},
		store.EntryInput{Start: start, Duration: time.Hour, RRule: "FREQ=DAILY"})
	if err != nil {
		t.Fatal(err)
	}
	e.db.AssignSchedule(ctx, "test", store.Target{IDs: []int64{ep.ID}}, id)
	e.db.Suspend(ctx, "test", store.Target{IDs: []int64{ep.ID}}, store.SuspendInput{Cycles: ptrTo(3), Reason: "freeze"})
	sc, _ := e.db.Schedule(ctx, id)
	after, _ := e.db.Endpoint(ctx, ep.ID)
	end, ok := sc.SuspensionEnd(after.Suspension)
	if !ok {
		t.Fatal("no end")
	}
	body := mustGet(e.login("victor"), fmt.Sprintf("/servers/%d", ep.ID))
	if !strings.Contains(body, "It ends "+end.UTC().Format("2006-01-02 15:04 UTC")) || !strings.Contains(body, "the last of its 3 windows closes") {
		t.Fatalf("the page does not say when the suspension ends (%v)", end)
	}
}

func ptrTo[T any](v T) *T { return &v }
