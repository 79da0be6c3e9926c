package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"patchready/store"
)

func auditCount(t *testing.T, e *env) int {
	t.Helper()
	entries, err := e.db.Audit(context.Background(), store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestViewerCannotAct(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("victor")
	ep := e.endpointWith(store.SuspendedByUser)
	before := auditCount(t, e)
	for _, tt := range []struct {
		path string
		form url.Values
	}{
		{fmt.Sprintf("/servers/%d/unsuspend", ep.ID), nil},
		{fmt.Sprintf("/servers/%d/acknowledge-reboot", ep.ID), nil},
		{fmt.Sprintf("/servers/%d/suspend", ep.ID), url.Values{"cycles": {"1"}, "reason": {"x"}}},
		{fmt.Sprintf("/servers/%d/schedule", ep.ID), url.Values{"schedule_id": {"0"}}},
		{fmt.Sprintf("/servers/%d/labels", ep.ID), url.Values{"add": {"owner:eve"}}},
		{"/servers/bulk", url.Values{"action": {"unsuspend"}, "scope": {"all"}, "confirm": {"yes"}}},
		{"/servers/bulk", url.Values{"action": {"labels"}, "scope": {"all"}, "add": {"owner:eve"}, "confirm": {"yes"}}},
		{"/schedules", url.Values{"name": {"Mine"}}},
		{"/settings", url.Values{"low_disk_pct": {"50"}}},
		{"/users", url.Values{"name": {"eve"}, "role": {"admin"}, "password": {"longenough1"}}},
		{"/tokens", url.Values{"name": {"sneaky"}}},
		{"/tokens/1/revoke", url.Values{"confirm": {"yes"}}},
		{"/schedules/1/entries", url.Values{"starts_at": {"2030-01-01T02:00"}, "duration_minutes": {"60"}}},
		{"/schedules/1/entries/1/delete", url.Values{"confirm": {"yes"}}},
		{"/schedules/1/delete", url.Values{"confirm": {"yes"}}},
		{"/audit/1/undo", nil},
		{"/webhooks", url.Values{"url": {"https://example.com/h"}, "events": {"impact-changed"}}},
		{"/webhooks/1/test", nil},
		{"/webhooks/1/delete", url.Values{"confirm": {"yes"}}},
	} {
		res, body := c.post(tt.path, tt.form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "role") {
			t.Errorf("%s: %d", tt.path, res.StatusCode)
		}
	}
	after, _ := e.db.Endpoint(context.Background(), ep.ID)
	if !hasCode(after, store.SuspendedByUser) || auditCount(t, e) != before {
		t.Fatal("a viewer changed something")
	}
	// No action buttons are offered either.
	body := mustGet(c, fmt.Sprintf("/servers/%d", ep.ID))
	if strings.Contains(body, ">Remove suspension</button>") || strings.Contains(body, `action="/servers/bulk"`) ||
		strings.Contains(body, ">Change labels</button>") {
		t.Fatal("viewer sees action buttons")
	}
	// Nor in the list's rows, nor in the bulk bar.
	if list := mustGet(c, "/servers?exemption=suspended-by-user"); strings.Contains(list, `class="fixes"`) || strings.Contains(list, `id="bulk"`) {
		t.Fatal("viewer sees the list's fixes or bulk bar")
	}
	// An operator cannot reach admin pages.
	if res, _ := e.login("olivia").get("/settings"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator on /settings: %d", res.StatusCode)
	}
}

func TestActionsNeedCSRF(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("olivia")
	ep := e.endpointWith(store.SuspendedByUser)
	for _, token := range []string{"", "forged"} {
		res, _ := c.post(fmt.Sprintf("/servers/%d/unsuspend", ep.ID), url.Values{"_csrf": {token}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("token %q: %d", token, res.StatusCode)
		}
	}
	if after, _ := e.db.Endpoint(context.Background(), ep.ID); !hasCode(after, store.SuspendedByUser) {
		t.Fatal("changed without a CSRF token")
	}
	// The header works as well as the field.
	req, _ := http.NewRequest("POST", e.ts.URL+fmt.Sprintf("/servers/%d/unsuspend", ep.ID), nil)
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.http.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("header token: %v %d", err, res.StatusCode)
	}
}

func TestOperatorActions(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("olivia")
	ctx := context.Background()
	check := func(id int64, code store.Code, want bool, action string) {
		t.Helper()
		ep, _ := e.db.Endpoint(ctx, id)
		if hasCode(ep, code) != want {
			t.Fatalf("%s: %s present = %v", ep.Name, code, !want)
		}
		log, _ := e.db.Audit(ctx, store.AuditFilter{Endpoint: ep.Name, Limit: 1})
		if len(log) == 0 || log[0].Action != action || log[0].Actor != "olivia" {
			t.Fatalf("audit %+v", log)
		}
	}
	susp := e.endpointWith(store.SuspendedByUser)
	res, _ := c.post(fmt.Sprintf("/servers/%d/unsuspend", susp.ID), nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unsuspend %d", res.StatusCode)
	}
	check(susp.ID, store.SuspendedByUser, false, "unsuspend")
	if !strings.Contains(mustGet(c, fmt.Sprintf("/servers/%d", susp.ID)), "Suspension removed.") {
		t.Fatal("no flash message")
	}

	reboot := e.endpointWith(store.PendingRebootSuspension)
	c.post(fmt.Sprintf("/servers/%d/acknowledge-reboot", reboot.ID), nil)
	check(reboot.ID, store.PendingRebootSuspension, false, "acknowledge-reboot")

	c.post(fmt.Sprintf("/servers/%d/suspend", reboot.ID), url.Values{"cycles": {"2"}, "reason": {"Change freeze"}})
	check(reboot.ID, store.SuspendedByUser, true, "suspend")

	noSched := e.endpointWith(store.MaintenanceWindowRequired)
	c.post(fmt.Sprintf("/servers/%d/schedule", noSched.ID), url.Values{"schedule_id": {"1"}})
	check(noSched.ID, store.MaintenanceWindowRequired, false, "schedule")
}

func TestSuspendBadInputKeepsForm(t *testing.T) {
	e := newEnv(t, 50)
	c := e.login("olivia")
	ep, _ := e.db.Endpoint(context.Background(), 1)
	before := auditCount(t, e)
	for _, tt := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"from": {"2030-01-02T10:00"}, "until": {"2030-01-01T10:00"}, "reason": {"backwards dates"}}, "until"},
		{url.Values{"from": {"2030-01-01T10:00"}, "reason": {"no end"}}, "until"},
		{url.Values{"from": {"yesterday"}, "until": {"2030-01-01T10:00"}, "reason": {"bad date"}}, "from"},
		{url.Values{"cycles": {"0"}, "reason": {"zero"}}, "cycles"},
		{url.Values{"cycles": {"many"}, "reason": {"nan"}}, "cycles"},
		{url.Values{"cycles": {"2"}, "reason": {"  "}}, "reason"},
		{url.Values{"cycles": {"2"}, "from": {"2030-01-01T10:00"}, "until": {"2030-01-02T10:00"}, "reason": {"both"}}, "cycles"},
	} {
		res, body := c.post(fmt.Sprintf("/servers/%d/suspend", ep.ID), tt.form)
		if res.StatusCode < 400 || res.StatusCode > 499 {
			t.Fatalf("%v: %d", tt.form, res.StatusCode)
		}
		if res.StatusCode == http.StatusUnprocessableEntity && !strings.Contains(body, `id="err-`+tt.field+`"`) {
			t.Errorf("%v: no error shown at %s", tt.form, tt.field)
		}
		if r := tt.form.Get("reason"); strings.TrimSpace(r) != "" && res.StatusCode == 422 && !strings.Contains(body, `value="`+r+`"`) {
			t.Errorf("%v: form not kept", tt.form)
		}
	}
	after, _ := e.db.Endpoint(context.Background(), ep.ID)
	if after.Suspension != nil || auditCount(t, e) != before {
		t.Fatal("a rejected suspension changed something")
	}
}

func TestBulkActionOverThousandEndpoints(t *testing.T) {
	e := newEnv(t, 3000)
	c := e.login("olivia")
	ctx := context.Background()
	f := filterOf(t, "os=linux&per_page=1")
	p, _ := e.db.List(ctx, f, false)
	if p.Total < 1000 {
		t.Fatalf("only %d linux endpoints", p.Total)
	}
	form := url.Values{"action": {"suspend"}, "scope": {"all"}, "filter": {"os=linux"}, "expect": {fmt.Sprint(p.Total)}, "cycles": {"3"}, "reason": {"Kernel freeze"}}
	// First the confirmation, which states how many and changes nothing.
	res, body := c.post("/servers/bulk", form)
	if res.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf("%d,%03d endpoints", p.Total/1000, p.Total%1000)) {
		t.Fatalf("confirmation %d", res.StatusCode)
	}
	before := auditCount(t, e)
	form.Set("confirm", "yes")
	res, _ = c.post("/servers/bulk", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk %d", res.StatusCode)
	}
	log, _ := e.db.Audit(ctx, store.AuditFilter{Limit: 1})
	if auditCount(t, e) != before+1 || log[0].Action != "suspend" || int64(log[0].Targets) != p.Total {
		t.Fatalf("one audit entry for all: %+v", log[0])
	}
	sus := filterOf(t, "os=linux&exemption=suspended-by-user&per_page=1")
	// Unmanaged endpoints keep the suspension but show only Unknown Endpoint.
	unknown := filterOf(t, "os=linux&exemption=unknown-endpoint&per_page=1")
	q, _ := e.db.List(ctx, sus, false)
	u, _ := e.db.List(ctx, unknown, false)
	if q.Total+u.Total != p.Total {
		t.Fatalf("%d suspended + %d unmanaged of %d", q.Total, u.Total, p.Total)
	}
	// Checked rows: only those.
	res, _ = c.post("/servers/bulk", url.Values{"action": {"unsuspend"}, "scope": {"checked"}, "id": {"1", "2"}, "confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("checked %d", res.StatusCode)
	}
	// Nothing checked: an error message, not an action on everything.
	res, _ = c.post("/servers/bulk", url.Values{"action": {"unsuspend"}, "scope": {"checked"}, "confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("empty selection: %d", res.StatusCode)
	}
	if !strings.Contains(mustGet(c, "/servers"), "Check at least one row") {
		t.Fatal("no message for an empty selection")
	}
	// Refused input: the list again, the form as typed, what was wrong, nothing changed.
	before = auditCount(t, e)
	first, _ := e.db.List(ctx, filterOf(t, "os=linux&per_page=1"), false)
	row := strconv.FormatInt(first.Rows[0].ID, 10)
	res, body = c.post("/servers/bulk", url.Values{"action": {"suspend"}, "scope": {"checked"}, "id": {row}, "filter": {"os=linux"},
		"cycles": {"2"}, "from": {"2030-01-02T10:00"}, "until": {"2030-01-01T10:00"}, "reason": {"typed reason"}, "confirm": {"yes"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="typed reason"`) ||
		!strings.Contains(body, "The bulk action was not run") || !strings.Contains(body, `value="`+row+`" form="bulk" aria-label=`) {
		t.Fatalf("rejected bulk suspend: %d", res.StatusCode)
	}
	if !regexp.MustCompile(`value="`+row+`" form="bulk" aria-label="[^"]+" checked`).MatchString(body) || auditCount(t, e) != before {
		t.Fatal("checked row not kept, or something changed")
	}
	for _, bad := range []url.Values{
		{"action": {"reboot-now"}, "scope": {"all"}},
		{"action": {"unsuspend"}, "scope": {"galaxy"}},
		{"action": {"unsuspend"}, "scope": {"all"}, "filter": {"impact=bad"}},
		{"action": {"unsuspend"}, "scope": {"checked"}, "id": {"x"}},
		{"action": {"schedule"}, "scope": {"checked"}, "id": {"1"}, "schedule_id": {"999"}},
	} {
		if res, _ := c.post("/servers/bulk", bad); res.StatusCode < 400 || res.StatusCode > 499 {
			t.Errorf("%v: %d", bad, res.StatusCode)
		}
	}
}

func TestSchedulesPages(t *testing.T) {
	e := newEnv(t, 100)
	c := e.login("olivia")
	res, _ := c.post("/schedules", url.Values{"name": {"Night shift"}, "description": {"Linux DB servers"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create %d", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	res, body := c.post("/schedules", url.Values{"name": {"night SHIFT"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate %d", res.StatusCode)
	}
	res, body = c.post(loc+"/entries", url.Values{"starts_at": {"2030-01-01T02:00"}, "duration_minutes": {"0"}, "kind": {"weekly"}, "days": {"TU"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="2030-01-01T02:00"`) || !strings.Contains(body, "A window lasts from 1 minute") {
		t.Fatalf("impossible window %d", res.StatusCode)
	}
	if !strings.Contains(body, `value="TU" checked`) {
		t.Fatal("the chosen days were not kept")
	}
	res, _ = c.post(loc+"/entries", url.Values{"starts_at": {"2030-01-01T02:00"}, "duration_minutes": {"120"}, "kind": {"weekly"}, "days": {"TU"}, "until": {"2030-06-01"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add window %d", res.StatusCode)
	}
	if body := mustGet(c, loc); !strings.Contains(body, "every week on Tuesday, until 2030-06-01") || !strings.Contains(body, "opens in") {
		t.Fatal("window not shown")
	}
	// Deleting asks first, saying what follows; only the confirmed post deletes.
	res, body = c.post(loc+"/delete", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Maintenance Window Required") || !strings.Contains(body, `name="confirm" value="yes"`) {
		t.Fatalf("delete asks first: %d", res.StatusCode)
	}
	if res, _ := c.get(loc); res.StatusCode != http.StatusOK {
		t.Fatalf("the question deleted the schedule: %d", res.StatusCode)
	}
	res, _ = c.post(loc+"/delete", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete %d", res.StatusCode)
	}
	if res, _ := c.get(loc); res.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted schedule still there: %d", res.StatusCode)
	}
}

func TestAdminPages(t *testing.T) {
	e := newEnv(t, 10)
	c := e.login("admin")
	res, body := c.post("/users", url.Values{"name": {"nina"}, "role": {"operator"}, "password": {"short"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `value="nina"`) {
		t.Fatalf("short password %d", res.StatusCode)
	}
	if res, _ := c.post("/users", url.Values{"name": {"nina"}, "role": {"operator"}, "password": {"long-enough-pw"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create user %d", res.StatusCode)
	}
	users, _ := e.db.Users(context.Background())
	var nina, admin int64
	for _, u := range users {
		switch u.Name {
		case "nina":
			nina = u.ID
		case "admin":
			admin = u.ID
		}
	}
	c.post(fmt.Sprintf("/users/%d", nina), url.Values{"role": {"operator"}, "disabled": {"1"}})
	cl := e.client()
	cl.get("/login")
	if res, _ := cl.post("/login", url.Values{"username": {"nina"}, "password": {"long-enough-pw"}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled user signed in: %d", res.StatusCode)
	}
	// The last admin cannot demote themselves.
	if res, _ := c.post(fmt.Sprintf("/users/%d", admin), url.Values{"role": {"viewer"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("demote last admin: %d", res.StatusCode)
	}
	// Creating a token redirects to the page that shows its secret once:
	// reloading that page shows it no more and creates nothing.
	res, _ = c.post("/tokens", url.Values{"name": {"vmware"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tokens" {
		t.Fatalf("token %d", res.StatusCode)
	}
	if body := mustGet(c, "/tokens"); !strings.Contains(body, "prt_") {
		t.Fatal("token secret not shown")
	}
	if strings.Contains(mustGet(c, "/tokens"), "prt_") {
		t.Fatal("token secret shown twice")
	}
	if tokens, _ := e.db.Tokens(context.Background()); len(tokens) != 1 {
		t.Fatalf("%d tokens", len(tokens))
	}
	res, body = c.post("/settings", url.Values{"low_disk_pct": {"150"}, "disconnect_after_minutes": {"60"}, "wsus_after_hours": {"24"}, "stale_after_hours": {"24"}, "digest_lead_hours": {"24"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="150"`) {
		t.Fatalf("bad setting %d", res.StatusCode)
	}
	if e.db.Settings().LowDiskPct != 90 {
		t.Fatal("bad setting saved")
	}
	if res, _ := c.post("/settings", url.Values{"low_disk_pct": {"50"}, "disconnect_after_minutes": {"60"}, "wsus_after_hours": {"24"}, "stale_after_hours": {"24"}, "digest_lead_hours": {"24"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("settings %d", res.StatusCode)
	}
	before, _ := e.db.Overview(context.Background())
	if err := e.db.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := e.db.Overview(context.Background())
	if after.LowDisk <= before.LowDisk {
		t.Fatalf("lower threshold did not raise more warnings: %d → %d", before.LowDisk, after.LowDisk)
	}
}
