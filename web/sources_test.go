package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"patchready/store"
)

func TestPatchEndpointsAPI(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	inventory, _ := e.db.CreateToken(ctx, "admin", "cmdb")
	vcenter, _ := e.db.CreateToken(ctx, "admin", "vcenter-sync")
	if res, body := e.api(inventory, "PUT", "/api/v1/endpoints", `[{"name": "app-01", "ip": "10.0.0.1", "power": "on", "labels": ["env:prod"]}]`); res.StatusCode != 200 {
		t.Fatalf("put %d %s", res.StatusCode, body)
	}
	res, body := e.api(vcenter, "PATCH", "/api/v1/endpoints", `[{"name": "app-01", "power": "off", "ip": null}, {"name": "app-02", "power": "on"}]`)
	if res.StatusCode != 200 || !strings.Contains(body, `"created":1`) || !strings.Contains(body, `"updated":1`) {
		t.Fatalf("patch %d %s", res.StatusCode, body)
	}
	res, body = e.api(vcenter, "GET", "/api/v1/endpoints/app-01", "")
	var got apiEndpoint
	json.Unmarshal([]byte(body), &got)
	if res.StatusCode != 200 || *got.Power != "off" || got.IP != nil || len(got.Labels) != 1 {
		t.Fatalf("after patch %s", body)
	}
	if got.Sources["power"].Source != "vcenter-sync" || got.Sources["labels"].Source != "cmdb" || got.Sources["ip"].Source != "vcenter-sync" || got.ReportedAt == nil {
		t.Fatalf("sources %+v", got.Sources)
	}
	// A bad item: 422 naming it, and nothing of the batch written.
	res, body = e.api(vcenter, "PATCH", "/api/v1/endpoints", `[{"name": "app-03", "power": "on"}, {"name": "app-01", "power": "sleeping", "colour": "red"}]`)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"index":1`) || !strings.Contains(body, `"field":"colour"`) {
		t.Fatalf("bad patch %d %s", res.StatusCode, body)
	}
	if _, err := e.db.EndpointByName(ctx, "app-03"); store.KindOf(err) != store.NotFound {
		t.Fatal("a refused batch wrote an item")
	}
	// The endpoint page says who said what.
	c := e.login("admin")
	page := mustGet(c, "/servers/1")
	if !strings.Contains(page, "off — vcenter-sync, ") || !strings.Contains(page, "cmdb") {
		t.Fatal("the endpoint page does not show the facts' sources")
	}
	// The Sources page lists both, with the endpoints they feed.
	sources := mustGet(c, "/sources")
	if !strings.Contains(sources, "<strong>vcenter-sync</strong>") || !strings.Contains(sources, "<strong>cmdb</strong>") {
		t.Fatal("the Sources page lacks a source")
	}
}

// CSV as spreadsheets write it, and a facts export that imports back
// unchanged.
func TestCSVRoundTrip(t *testing.T) {
	src := newEnv(t, 300)
	admin := src.login("admin")
	res, exported := admin.get("/servers.csv?format=facts")
	if res.StatusCode != 200 || !strings.HasPrefix(exported, "name,ip,os_family,") {
		t.Fatalf("export %d %.80s", res.StatusCode, exported)
	}
	if n := strings.Count(exported, "\n"); n != 301 {
		t.Fatalf("%d lines for 300 endpoints", n)
	}
	dst := newEnv(t, 0)
	admin2 := dst.login("admin")
	if res, body := postFile(t, admin2, "/import", "facts.csv", exported); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("import %d %s", res.StatusCode, body)
	}
	if _, again := admin2.get("/servers.csv?format=facts"); again != exported {
		a, b := strings.Split(exported, "\n"), strings.Split(again, "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("line %d differs after the round trip:\n%s\n%s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("%d lines exported, %d after the round trip", len(a), len(b))
	}
	ep, _ := dst.db.EndpointByName(context.Background(), "app-ams2-0000105")
	if ep == nil || ep.Sources["power"].Source != "import:admin" {
		t.Fatalf("imported facts' source: %+v", ep)
	}

	// A spreadsheet's file: byte-order mark, semicolons, quotes, labels.
	sheet := "\ufeffname;power;labels;drives\r\n\"sheet-01\";on;\"env:prod;site:fra1\";/=40/100\r\n"
	if res, body := postFile(t, admin2, "/import", "sheet.csv", sheet); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("spreadsheet import %d %s", res.StatusCode, body)
	}
	got, err := dst.db.EndpointByName(context.Background(), "sheet-01")
	if err != nil || *got.Power != "on" || len(got.Labels) != 2 || len(got.Drives) != 1 {
		t.Fatalf("spreadsheet row %+v %v", got, err)
	}
	// A file that sets only some columns leaves the others.
	if res, _ := postFile(t, admin2, "/import", "power.csv", "name,power\nsheet-01,off\n"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("partial import refused")
	}
	if got, _ = dst.db.EndpointByName(context.Background(), "sheet-01"); *got.Power != "off" || len(got.Labels) != 2 {
		t.Fatalf("a partial import changed other facts: %+v", got.Facts)
	}
	// Header problems are reported once, as line 1.
	res, body := postFile(t, admin2, "/import", "bad.csv", "name,colour,flavour\na,red,mint\nb,blue,lime\n")
	if res.StatusCode != http.StatusUnprocessableEntity || strings.Count(body, "unknown column") != 1 || !strings.Contains(body, "line 1") ||
		!strings.Contains(body, `&#34;colour&#34;, &#34;flavour&#34;`) {
		t.Fatalf("header problems %d", res.StatusCode)
	}
	if res, body := postFile(t, admin2, "/import", "noname.csv", "power\non\n"); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "no name column") {
		t.Fatalf("no name column %d", res.StatusCode)
	}
	// The template imports as it is, and the page lists allowed values.
	_, tmpl := admin2.get("/import/template.csv")
	if res, body := postFile(t, admin2, "/import", "template.csv", tmpl); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("template import %d %s", res.StatusCode, body)
	}
	if page := mustGet(admin2, "/import"); !strings.Contains(page, "one of on, off, suspended, unknown") {
		t.Fatal("the import page does not list allowed values")
	}
	if res, _ := admin2.get("/servers.csv?format=xml"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown format %d", res.StatusCode)
	}
}

// A token's role is checked on every call, like a user's.
func TestTokenRoles(t *testing.T) {
	e := newEnv(t, 20)
	ctx := context.Background()
	tok := map[store.Role]string{}
	for _, r := range store.TokenRoles {
		tok[r], _ = e.db.CreateTokenWithRole(ctx, "admin", "t-"+string(r), r)
	}
	calls := []struct {
		method, path, body string
		need               store.Role
	}{
		{"GET", "/api/v1/endpoints?per_page=1", "", store.Viewer},
		{"PATCH", "/api/v1/endpoints", `[{"name": "roles-01", "power": "on"}]`, store.Reporter},
		{"POST", "/api/v1/endpoints/roles-01/acknowledge-reboot", "", store.Operator},
		{"POST", "/api/v1/schedules", `{"name": "by token"}`, store.Operator},
		{"GET", "/api/v1/webhooks", "", store.Admin},
	}
	for _, call := range calls {
		for _, r := range store.TokenRoles {
			res, body := e.api(tok[r], call.method, call.path, call.body)
			allowed := r.TokenAllows(call.need)
			if allowed && res.StatusCode == http.StatusForbidden || !allowed && res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d %s", call.method, call.path, r, res.StatusCode, body)
			}
		}
	}
	if _, err := e.db.CreateTokenWithRole(ctx, "admin", "bad", "superuser"); store.KindOf(err) != store.Invalid {
		t.Fatalf("unknown role: %v", err)
	}
}
