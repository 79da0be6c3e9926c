package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"patchready/store"
)

// A bulk action on "all matching" acts on the set the page showed: a
// count that changed since is refused at review and at confirmation, and
// nothing is written.
func TestBulkAllMatchingRefusesAChangedSet(t *testing.T) {
	e := newEnv(t, 300)
	c := e.login("olivia")
	ctx := context.Background()
	f := filterOf(t, "os=linux")
	n, _ := e.db.Count(ctx, f)
	form := url.Values{"action": {"suspend"}, "scope": {"all"}, "filter": {"os=linux"}, "expect": {strconv.FormatInt(n+1, 10)},
		"cycles": {"1"}, "reason": {"freeze"}}
	before := auditCount(t, e)
	res, _ := c.post("/servers/bulk", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stale review: %d", res.StatusCode)
	}
	if body := mustGet(c, res.Header.Get("Location")); !strings.Contains(body, "Nothing was done: the list showed") {
		t.Fatal("no message for a set that changed before review")
	}
	// The review is right; then the estate changes before the confirmation.
	form.Set("expect", strconv.FormatInt(n, 10))
	res, body := c.post("/servers/bulk", form)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "OS: Linux") || !strings.Contains(body, "will become Suspended by User") {
		t.Fatalf("review %d: no filter in words or consequence", res.StatusCode)
	}
	names := regexp.MustCompile(`<span class="names">([^<]+)</span>`).FindStringSubmatch(body)
	if names == nil || len(strings.Split(names[1], ", ")) != 10 {
		t.Fatalf("the first ten names are not listed: %v", names)
	}
	suspended, _ := e.db.Count(ctx, filterOf(t, "exemption=suspended-by-user&os=linux"))
	os := "linux"
	mustUpsertAPI(t, e, store.Facts{Name: "late-arrival", OSFamily: &os})
	form.Set("confirm", "yes")
	res, _ = c.post("/servers/bulk", form)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(mustGet(c, res.Header.Get("Location")), "Nothing was done") {
		t.Fatalf("confirmation of a changed set: %d", res.StatusCode)
	}
	if got, _ := e.db.Count(ctx, filterOf(t, "exemption=suspended-by-user&os=linux")); got != suspended {
		t.Fatalf("%d endpoints suspended by a refused action", got-suspended)
	}
	if audits := auditCount(t, e); audits > before+1 { // the upsert's own entry at most
		t.Fatalf("%d audit entries for a refused action", audits-before-1)
	}
}

// mustUpsertAPI writes facts as a source would (one audit entry).
func mustUpsertAPI(t *testing.T, e *env, f store.Facts) {
	t.Helper()
	if _, err := e.db.UpsertFacts(context.Background(), []store.Facts{f}); err != nil {
		t.Fatal(err)
	}
}

// The audit entry of an all-matching action keeps its filter, the page
// after it offers Undo, and Undo puts back exactly what changed.
func TestBulkUndoThroughThePages(t *testing.T) {
	e := newEnv(t, 300)
	c := e.login("olivia")
	ctx := context.Background()
	already := e.endpointWith(store.SuspendedByUser)
	query := "os=" + *already.OSFamily
	n, _ := e.db.Count(ctx, filterOf(t, query))
	form := url.Values{"action": {"suspend"}, "scope": {"all"}, "filter": {query}, "expect": {fmt.Sprint(n)}, "cycles": {"2"},
		"reason": {"patch night"}, "confirm": {"yes"}}
	res, _ := c.post("/servers/bulk", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk %d", res.StatusCode)
	}
	page := mustGet(c, res.Header.Get("Location"))
	undo := regexp.MustCompile(`action="(/audit/(\d+)/undo)"`).FindStringSubmatch(page)
	if undo == nil {
		t.Fatal("no Undo offered after the bulk action")
	}
	if audit := mustGet(c, "/audit"); !strings.Contains(audit, "Endpoints matching: OS: ") {
		t.Fatal("the audit log does not show the filter the action used")
	}
	// A viewer cannot undo.
	v := e.login("victor")
	if res, _ := v.post(undo[1], nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer undo: %d", res.StatusCode)
	}
	res, _ = c.post(undo[1], url.Values{"return": {"/servers?" + query}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/servers?"+query {
		t.Fatalf("undo %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	after, _ := e.db.Endpoint(ctx, already.ID)
	if after.Suspension == nil || after.Suspension.Reason != already.Suspension.Reason {
		t.Fatalf("the earlier suspension was not put back: %v", after.Suspension)
	}
	if got, _ := e.db.Count(ctx, filterOf(t, query+"&exemption=suspended-by-user")); got == n {
		t.Fatal("the bulk suspension is still in force")
	}
	if res, _ := c.post(undo[1], nil); res.StatusCode != http.StatusSeeOther || !strings.Contains(mustGet(c, "/audit"), "undone by #") {
		t.Fatalf("second undo: %d", res.StatusCode)
	}
}

func TestSavedViews(t *testing.T) {
	e := newEnv(t, 300)
	olivia, victor := e.login("olivia"), e.login("victor")
	ctx := context.Background()

	// A viewer saves a private view; sharing needs an operator.
	res, _ := victor.post("/views", url.Values{"name": {"Linux blocked"}, "query": {"os=linux&impact=cannot-patch&columns=ip,impact&page=3"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/servers?view=") {
		t.Fatalf("save %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	viewURL := res.Header.Get("Location")
	want, _ := e.db.Count(ctx, filterOf(t, "os=linux&impact=cannot-patch"))
	body := mustGet(victor, viewURL)
	if !strings.Contains(body, "· Linux blocked") || !strings.Contains(body, fmt.Sprintf(`data-total="%d"`, want)) {
		t.Fatal("the view does not apply its filter")
	}
	if strings.Contains(body, `<th scope="col" data-col="os"`) || !strings.Contains(body, `data-col="ip"`) {
		t.Fatal("the view does not apply its columns")
	}
	// Parameters beside the view add to it and win.
	win, _ := e.db.Count(ctx, filterOf(t, "os=windows&impact=cannot-patch"))
	if body := mustGet(victor, viewURL+"&os=windows"); !strings.Contains(body, fmt.Sprintf(`data-total="%d"`, win)) {
		t.Fatal("an explicit parameter does not win over the view's")
	}
	if res, _ := victor.post("/views", url.Values{"name": {"Shared"}, "query": {"os=linux"}, "shared": {"yes"}}); res.StatusCode != http.StatusSeeOther ||
		!strings.Contains(mustGet(victor, "/servers"), "Only operators and admins share views") {
		t.Fatalf("a viewer shared a view: %d", res.StatusCode)
	}
	if res, _ := victor.post("/views", url.Values{"name": {"Bad"}, "query": {"os=solaris"}}); res.StatusCode != http.StatusSeeOther ||
		!strings.Contains(mustGet(victor, "/servers"), "The view was not saved: The os parameter") {
		t.Fatalf("a view with a bad filter: %d", res.StatusCode)
	}
	// The owner's private view is not another user's.
	id := strings.TrimPrefix(viewURL, "/servers?view=")
	if res, _ := olivia.get(viewURL); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another user's private view: %d", res.StatusCode)
	}

	// Through the API, as the token's creator (admin): shared views and their own.
	token, _ := e.db.CreateToken(ctx, "admin", "views")
	res, body = e.api(token, "POST", "/api/v1/views", `{"name": "Prod", "query": "label=env:prod", "shared": true}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("API create %d %s", res.StatusCode, body)
	}
	var created apiView
	json.Unmarshal([]byte(body), &created)
	if created.ID == 0 || created.Owner != "admin" || !created.Shared || created.Query != "label=env%3Aprod" {
		t.Fatalf("created %+v", created)
	}
	if res, body := e.api(token, "POST", "/api/v1/views", `{"name": "Prod", "query": "x=1"}`); res.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate name %d %s", res.StatusCode, body)
	}
	if res, body := e.api(token, "POST", "/api/v1/views", `{"name": "Bad", "query": "label=BAD KEY"}`); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "label") {
		t.Fatalf("bad query %d %s", res.StatusCode, body)
	}
	res, body = e.api(token, "GET", "/api/v1/views", "")
	var list []apiView
	json.Unmarshal([]byte(body), &list)
	if res.StatusCode != 200 || len(list) != 1 || list[0].Name != "Prod" {
		t.Fatalf("API list %d %s", res.StatusCode, body)
	}
	prod, _ := e.db.Count(ctx, filterOf(t, "label=env:prod"))
	res, body = e.api(token, "GET", fmt.Sprintf("/api/v1/facets?view=%d", created.ID), "")
	if res.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf(`"total":%d`, prod)) {
		t.Fatalf("facets of a view %d %s", res.StatusCode, body)
	}
	// The shared view is listed beside the list for everyone, with its count.
	if body := mustGet(olivia, "/servers"); !strings.Contains(body, ">Prod</a>") || !strings.Contains(body, fmt.Sprintf(`<span class="count">%d</span>`, prod)) {
		t.Fatal("the shared view is not listed with its count")
	}
	// And is a bulk scope.
	res, body = olivia.post("/servers/bulk", url.Values{"action": {"acknowledge-reboot"}, "scope": {fmt.Sprintf("view:%d", created.ID)}})
	if res.StatusCode != 200 || !strings.Contains(body, "Saved view") || !strings.Contains(body, plural(prod, "endpoint", "endpoints")) {
		t.Fatalf("view as bulk scope %d", res.StatusCode)
	}
	// Only its owner or an admin deletes a view.
	if res, _ := olivia.post(fmt.Sprintf("/views/%d/delete", created.ID), nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("non-owner delete %d", res.StatusCode)
	}
	if res, _ := e.api(token, "DELETE", fmt.Sprintf("/api/v1/views/%d", created.ID), ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("API delete %d", res.StatusCode)
	}
	if res, _ := victor.post("/views/"+id+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner delete %d", res.StatusCode)
	}
	if res, _ := victor.get(viewURL); res.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted view %d", res.StatusCode)
	}
}

// Each row says why it is in a list filtered by exemptions, and the
// columns that sort worst first do so on their first click.
func TestRowsSayWhyAndSortWorstFirst(t *testing.T) {
	e := newEnv(t, 2000)
	c := e.login("olivia")
	ctx := context.Background()
	// An endpoint whose primary exemption is another than the one filtered by.
	p, _ := e.db.List(ctx, filterOf(t, "exemption=suspended-by-user&per_page=500"), false)
	var row *store.Row
	for i := range p.Rows {
		if p.Rows[i].Primary != store.SuspendedByUser {
			row = &p.Rows[i]
			break
		}
	}
	if row == nil {
		t.Fatal("no endpoint suspended behind another exemption")
	}
	body := mustGet(c, "/servers?per_page=500&exemption=suspended-by-user")
	cell := regexp.MustCompile(`<tr data-id="` + strconv.FormatInt(row.ID, 10) + `">.*?<td data-col="exemption">(.*?)</td>`).FindStringSubmatch(body)
	if cell == nil || !strings.Contains(cell[1], ">Suspended by User</a>") || !strings.Contains(cell[1], "matches the filter") {
		t.Fatalf("the row does not show the exemption it matched: %v", cell)
	}
	primary, _ := store.Lookup(row.Primary)
	if !strings.Contains(cell[1], "<span>"+primary.Name+"</span>") {
		t.Fatalf("+N more does not list the primary %s: %s", primary.Name, cell[1])
	}
	// Worst first: impact ascending is cannot-patch first.
	if p, _ := e.db.List(ctx, filterOf(t, "sort=impact&per_page=1"), false); p.Rows[0].Impact != store.CannotPatch {
		t.Fatalf("impact ascending starts with %v", p.Rows[0].Impact)
	}
	// Operators get the fix in the row, and it comes back to the list.
	if !strings.Contains(body, `action="/servers/`+strconv.FormatInt(row.ID, 10)+`/unsuspend"`) {
		t.Fatal("no one-click fix in the row")
	}
	res, _ := c.post(fmt.Sprintf("/servers/%d/unsuspend", row.ID), url.Values{"return": {"/servers?exemption=suspended-by-user"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/servers?exemption=suspended-by-user" {
		t.Fatalf("row fix %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for col, href := range map[string]string{"impact": `per_page=500&amp;sort=impact"`, "disk": `order=desc[^"]*sort=disk"`, "last_contact": `per_page=500&amp;sort=last_contact"`} {
		if !regexp.MustCompile(`href="/servers\?[^"]*` + href).MatchString(body) {
			t.Errorf("first click on %s is not worst first", col)
		}
	}
	// Page X of Y, and Last jumps there without a cursor.
	n, _ := e.db.Count(ctx, store.Filter{})
	pages := (n + 49) / 50
	home := mustGet(c, "/servers")
	if !strings.Contains(home, fmt.Sprintf("Page 1 of %d", pages)) || strings.Count(home, "Page 1 of") != 2 {
		t.Fatal("no page X of Y above and below")
	}
	last := regexp.MustCompile(`href="(/servers\?page=\d+)" aria-label="Last page"`).FindStringSubmatch(home)
	if last == nil {
		t.Fatal("no Last link")
	}
	lp := mustGet(c, last[1])
	if !strings.Contains(lp, fmt.Sprintf("Page %d of %d", pages, pages)) || !strings.Contains(lp, fmt.Sprintf("–%s</strong>", thousands(n))) {
		t.Fatal("the last page is not the end of the list")
	}
}

// Addresses a refused form leaves in the address bar lead back to its
// page; confirmations come before what cannot be undone.
func TestFormsAddressesAndConfirmations(t *testing.T) {
	e := newEnv(t, 50)
	admin := e.login("admin")
	for path, want := range map[string]string{"/servers/bulk": "/servers", "/servers/7/suspend": "/servers/7", "/schedules/1/entries": "/schedules/1",
		"/tokens/3/revoke": "/tokens", "/account/timezone": "/account"} {
		res, _ := admin.get(path)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	token, _ := e.db.CreateToken(context.Background(), "admin", "sync")
	tokens, _ := e.db.Tokens(context.Background())
	revoke := fmt.Sprintf("/tokens/%d/revoke", tokens[0].ID)
	res, body := admin.post(revoke, nil)
	if res.StatusCode != 200 || !strings.Contains(body, "refused from now on") || !strings.Contains(body, `class="danger"`) {
		t.Fatalf("revoke asks first: %d", res.StatusCode)
	}
	if res, _ := e.api(token, "GET", "/api/v1/exemptions", ""); res.StatusCode != 200 {
		t.Fatal("the question revoked the token")
	}
	admin.post(revoke, url.Values{"confirm": {"yes"}})
	if res, _ := e.api(token, "GET", "/api/v1/exemptions", ""); res.StatusCode != http.StatusUnauthorized {
		t.Fatal("the token still works after revoking")
	}

	sc, _ := e.db.Schedules(context.Background())
	var withEntry store.Schedule
	for _, s := range sc {
		if len(s.Entries) > 0 {
			withEntry = s
		}
	}
	del := fmt.Sprintf("/schedules/%d/entries/%d/delete", withEntry.ID, withEntry.Entries[0].ID)
	if res, body := admin.post(del, nil); res.StatusCode != 200 || !strings.Contains(body, "no longer be patched in its windows") {
		t.Fatalf("window removal asks first: %d", res.StatusCode)
	}
	if s, _ := e.db.Schedule(context.Background(), withEntry.ID); len(s.Entries) != len(withEntry.Entries) {
		t.Fatal("the question removed the window")
	}
	// A refused window keeps the Edit form's name.
	res, body = admin.post(fmt.Sprintf("/schedules/%d/entries", withEntry.ID), url.Values{"starts_at": {"2030-01-01T04:00"}, "duration_minutes": {"four hours"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="`+withEntry.Name+`"`) || !strings.Contains(body, "Give the window&#39;s length in whole minutes") {
		t.Fatalf("refused window: %d", res.StatusCode)
	}
	if !strings.Contains(body, `aria-invalid="true" aria-describedby="err-duration_minutes"`) && !strings.Contains(body, `aria-describedby="err-duration_minutes" aria-invalid="true"`) {
		t.Fatal("the refused input is not tied to its message")
	}
	if !strings.Contains(body, `id="err-duration_minutes"`) || !strings.Contains(body, `role="alert"`) {
		t.Fatal("the message is not announced")
	}
}

// Times are shown in the user's zone, named; the first sign-in takes the
// browser's zone.
func TestUserTimeZone(t *testing.T) {
	e := newEnv(t, 300)
	c := e.client()
	c.get("/login")
	res, _ := c.post("/login", url.Values{"username": {"olivia"}, "password": {testPassword}, "tz": {"Europe/Berlin"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %d", res.StatusCode)
	}
	c.get("/")
	if !strings.Contains(mustGet(c, "/audit"), "When (Europe/Berlin)") {
		t.Fatal("the browser's zone was not taken on first sign-in")
	}
	ep := e.endpointWith(store.Disconnected)
	page := mustGet(c, fmt.Sprintf("/servers/%d", ep.ID))
	if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST)`).MatchString(page) {
		t.Fatal("times not shown in Berlin time with the zone named")
	}
	if res, body := c.post("/account/timezone", url.Values{"timezone": {"Mars/Olympus"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, `value="Mars/Olympus"`) || !strings.Contains(body, "We do not know this time zone") {
		t.Fatalf("bad zone %d", res.StatusCode)
	}
	if res, _ := c.post("/account/timezone", url.Values{"timezone": {"America/New_York"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("zone %d", res.StatusCode)
	}
	if !strings.Contains(mustGet(c, "/audit"), "When (America/New_York)") {
		t.Fatal("zone not changed")
	}
	// A later sign-in does not replace a chosen zone with the browser's.
	c2 := e.client()
	c2.get("/login")
	c2.post("/login", url.Values{"username": {"olivia"}, "password": {testPassword}, "tz": {"Asia/Tokyo"}})
	c2.get("/")
	if !strings.Contains(mustGet(c2, "/audit"), "When (America/New_York)") {
		t.Fatal("the browser's zone replaced the chosen one")
	}
}
