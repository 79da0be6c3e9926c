package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"patchready/store"
)

func TestHistoryAndBlockedFilter(t *testing.T) {
	e := newEnv(t, 300)
	ctx := context.Background()
	if err := e.db.SeedHistory(ctx, 90); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.RecordHistory(ctx); err != nil {
		t.Fatal(err)
	}
	token, _ := e.db.CreateToken(ctx, "admin", "reports")
	res, body := e.api(token, "GET", "/api/v1/history?days=30", "")
	var h struct{ Days []store.HistoryDay }
	json.Unmarshal([]byte(body), &h)
	if res.StatusCode != 200 || len(h.Days) != 30 || h.Days[29].Date != time.Now().UTC().Format("2006-01-02") || h.Days[29].Demo {
		t.Fatalf("history %d: %d days", res.StatusCode, len(h.Days))
	}
	ov, _ := e.db.Overview(ctx)
	if h.Days[29].Impact["cannot-patch"] != ov.ByImpact[store.CannotPatch] || h.Days[29].Total != ov.Total {
		t.Fatalf("today's record %+v, the estate %+v", h.Days[29].Counts, ov)
	}
	for _, bad := range []string{"0", "401", "x"} {
		if res, _ := e.api(token, "GET", "/api/v1/history?days="+bad, ""); res.StatusCode != 400 {
			t.Errorf("days=%s: %d", bad, res.StatusCode)
		}
	}
	c := e.login("victor")
	page := mustGet(c, "/?trend=90")
	if !strings.Contains(page, `class="trendchart"`) || !strings.Contains(page, "made up by the demo") || !strings.Contains(page, `role="img" aria-label="`+time.Now().UTC().AddDate(0, 0, -89).Format("2006-01-02")+`: `) {
		t.Fatal("no trend chart with focusable days on the overview")
	}
	if kb := mustGet(c, "/kb/powered-off?trend=30"); !strings.Contains(kb, "Endpoints with Powered Off over time") {
		t.Fatal("no trend on the guidance page")
	}
	if res, _ := c.get("/?trend=7"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("trend=7: %d", res.StatusCode)
	}

	// Blocked for more than N days: the seeded exemptions began up to two
	// months ago. The list, the API and brute force agree.
	all, _ := e.db.List(ctx, store.Filter{PerPage: store.MaxPerPage, Page: 1}, false)
	want := 0
	for _, r := range all.Rows {
		if !r.BlockedSince.IsZero() && time.Since(r.BlockedSince) > 30*24*time.Hour {
			want++
		}
	}
	if want == 0 {
		t.Fatal("no endpoint blocked for a month in the demo")
	}
	if body := mustGet(c, "/servers?blocked_days_gt=30"); !strings.Contains(body, fmt.Sprintf(`data-total="%d"`, want)) || !strings.Contains(body, "for more than 30 days") {
		t.Fatalf("blocked_days_gt=30 does not list the %d endpoints", want)
	}
	res, body = e.api(token, "GET", "/api/v1/endpoints?blocked_days_gt=30&sort=blocked&per_page=3", "")
	if res.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf(`"total":%d`, want)) || !strings.Contains(body, `"since":`) {
		t.Fatalf("API %d %.300s", res.StatusCode, body)
	}
	if res, _ := c.get("/servers?blocked_days_gt=-1"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("blocked_days_gt=-1: %d", res.StatusCode)
	}
}

func TestWebhooksPageAndAPI(t *testing.T) {
	e := newEnv(t, 20)
	admin := e.login("admin")
	res, _ := admin.post("/webhooks", url.Values{"url": {"https://hooks.example.com/x"}, "events": {"impact-changed", "window-digest"}, "format": {"slack"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add %d", res.StatusCode)
	}
	page := mustGet(admin, "/webhooks")
	if !strings.Contains(page, `id="new-secret"`) || !strings.Contains(page, "https://hooks.example.com/x") {
		t.Fatal("the new hook or its made-up secret is not shown")
	}
	if strings.Contains(mustGet(admin, "/webhooks"), `id="new-secret"`) {
		t.Fatal("the secret was shown twice")
	}
	if res, body := admin.post("/webhooks", url.Values{"url": {"ftp://x"}, "events": {"everything"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "http or https address") || !strings.Contains(body, "Events are") {
		t.Fatalf("bad hook %d", res.StatusCode)
	}
	hooks, _ := e.db.Webhooks(context.Background())
	if res, _ := admin.post(fmt.Sprintf("/webhooks/%d/test", hooks[0].ID), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test %d", res.StatusCode)
	}
	if log, _ := e.db.Deliveries(context.Background(), hooks[0].ID, 5); len(log) != 1 || log[0].Event != "test" {
		t.Fatalf("no test delivery queued: %+v", log)
	}
	if res, _ := e.login("olivia").get("/webhooks"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an operator sees webhooks: %d", res.StatusCode)
	}
	token, _ := e.db.CreateToken(context.Background(), "admin", "ops")
	res, body := e.api(token, "POST", "/api/v1/webhooks", `{"url": "http://127.0.0.1:9/hook", "events": ["impact-changed"], "secret": "0123456789abcdef0123"}`)
	if res.StatusCode != http.StatusCreated || strings.Contains(body, "0123456789abcdef0123") || !strings.Contains(body, `"id":`) {
		t.Fatalf("API add %d %s", res.StatusCode, body)
	}
	if res, body := e.api(token, "GET", "/api/v1/webhooks", ""); res.StatusCode != 200 || strings.Count(body, `"url"`) != 2 || strings.Contains(body, "secret") {
		t.Fatalf("API list %d %s", res.StatusCode, body)
	}
	if res, _ := e.api(token, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hooks[0].ID), ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("API delete %d", res.StatusCode)
	}
}

// A new installation: no endpoints, no schedules, no history, no sources,
// no hooks. Every page says what to do next instead of failing.
func TestEmptyEstatePages(t *testing.T) {
	e := newEnv(t, 0)
	admin := e.login("admin")
	for path, want := range map[string]string{
		"/":                              "No endpoints yet",
		"/?trend=365":                    "Not enough history yet",
		"/servers":                       "There are no endpoints yet",
		"/servers?exemption=powered-off": "No endpoint matches these filters",
		"/servers?page=3":                "There are no endpoints yet",
		"/sources":                       "No source has reported yet",
		"/webhooks":                      "Add a webhook",
		"/schedules":                     "No schedules yet",
		"/kb/powered-off":                "Not enough history yet",
	} {
		res, body := admin.get(path)
		if res.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, lacks %q", path, res.StatusCode, want)
		}
	}
	token, _ := e.db.CreateToken(context.Background(), "admin", "empty")
	for path, want := range map[string]string{
		"/api/v1/history?days=7": `{"days":[]}`, "/api/v1/endpoints?per_page=5": `"total":0`,
		"/api/v1/views": `[]`, "/api/v1/webhooks": `[]`, "/api/v1/schedules": `[]`,
	} {
		res, body := e.api(token, "GET", path, "")
		if res.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	// A saved view that is not there, or not a number: 4xx naming it.
	for _, v := range []string{"0", "x", "999"} {
		if res, body := admin.get("/servers?view=" + v); res.StatusCode < 400 || res.StatusCode > 499 || !strings.Contains(body, "view") {
			t.Errorf("view=%s: %d", v, res.StatusCode)
		}
	}
}
