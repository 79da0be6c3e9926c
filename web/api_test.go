package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"patchready/store"
)

func (e *env) token(name string) string {
	e.t.Helper()
	tok, err := e.db.CreateToken(context.Background(), "test", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

const goodItem = `{"name": "api-01", "os_family": "linux", "managed": true, "platform_supported": true, "protocol": "ssh",
	"credentials": "valid", "connector": "running", "reachable": true, "connection": "ok", "power": "on",
	"reboot_required_since": "2026-11-20T10:00:00Z",
	"drives": [{"mount": "/", "total_bytes": 1000, "used_bytes": 950}, {"mount": "/var", "total_bytes": 1000, "used_bytes": 100}]}`

func TestAPIAuth(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.token("sync")
	for _, tt := range []struct {
		token string
		want  int
	}{{"", 401}, {"prt_wrong", 401}, {tok, 200}} {
		res, body := e.api(tt.token, "GET", "/api/v1/exemptions", "")
		if res.StatusCode != tt.want {
			t.Errorf("token %q: %d %s", tt.token, res.StatusCode, body)
		}
		if tt.want == 401 && !strings.Contains(body, `"error"`) {
			t.Errorf("401 without a JSON error: %s", body)
		}
	}
	// Use is written off the request path; flush what is pending.
	e.db.FlushUsage(context.Background())
	tokens, _ := e.db.Tokens(context.Background())
	if tokens[0].LastUsedAt == nil {
		t.Fatal("last use not recorded")
	}
	e.db.RevokeToken(context.Background(), "test", tokens[0].ID)
	if res, _ := e.api(tok, "GET", "/api/v1/exemptions", ""); res.StatusCode != 401 {
		t.Fatalf("revoked token: %d", res.StatusCode)
	}
	// A session cookie is not an API credential.
	c := e.login("admin")
	res, _ := c.http.Get(e.ts.URL + "/api/v1/exemptions")
	if res.StatusCode != 401 {
		t.Fatalf("cookie on the API: %d", res.StatusCode)
	}
}

func TestAPICatalog(t *testing.T) {
	e := newEnv(t, 0)
	res, body := e.api(e.token("t"), "GET", "/api/v1/exemptions", "")
	var got []apiExemption
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 {
		t.Fatal(err, res.StatusCode)
	}
	if len(got) != 26 || got[0].Code != store.UnknownEndpoint || got[0].Impact != "cannot-patch" || got[0].KB == "" || len(got[0].Fix) == 0 {
		t.Fatalf("%+v", got[0])
	}
}

func TestAPIUpsert(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.token("sync")
	ctx := context.Background()
	res, body := e.api(tok, "PUT", "/api/v1/endpoints", "["+goodItem+"]")
	if res.StatusCode != 200 || !strings.Contains(body, `"created":1`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	// Idempotent: the same facts again change nothing and write no history.
	res, body = e.api(tok, "PUT", "/api/v1/endpoints", "["+goodItem+"]")
	if res.StatusCode != 200 || !strings.Contains(body, `"unchanged":1`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	ep, _ := e.db.EndpointByName(ctx, "API-01")
	if h, _ := e.db.History(ctx, ep.ID, 10); len(h) != len(ep.Exemptions) {
		t.Fatalf("history grew: %+v", h)
	}
	res, body = e.api(tok, "GET", "/api/v1/endpoints/api-01", "")
	var got map[string]any
	json.Unmarshal([]byte(body), &got)
	if res.StatusCode != 200 || got["primary"] != "pending-reboot-suspension" || got["impact"] != "cannot-patch" ||
		got["disk_used_pct"] != 95.0 || fmt.Sprint(got["warnings"]) != "[low-disk-space]" || got["id"] == nil {
		t.Fatalf("%d %v", res.StatusCode, got)
	}
	for _, field := range []string{"os_family", "drives", "exemptions", "schedule", "suspension", "last_contact_at", "ps_version"} {
		if _, ok := got[field]; !ok {
			t.Errorf("field %s missing", field)
		}
	}
}

func TestAPIUpsertValidation(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.token("sync")
	long := strings.Repeat("a", 254)
	tests := []struct {
		name, body, field string
		status            int
	}{
		{"unknown enum", `[{"name": "x", "power": "sleeping"}]`, "power", 422},
		{"wrong type", `[{"name": "x", "reachable": "yes"}]`, "reachable", 422},
		{"wrong type number", `[{"name": "x", "ps_version": "five"}]`, "ps_version", 422},
		{"bad timestamp", `[{"name": "x", "last_contact_at": "yesterday"}]`, "last_contact_at", 422},
		{"negative size", `[{"name": "x", "drives": [{"mount": "/", "total_bytes": -1, "used_bytes": 0}]}]`, "drives[0].total_bytes", 422},
		{"used over total", `[{"name": "x", "drives": [{"mount": "/", "total_bytes": 10, "used_bytes": 11}]}]`, "drives[0].used_bytes", 422},
		{"duplicate mount", `[{"name": "x", "drives": [{"mount": "/", "total_bytes": 1, "used_bytes": 0}, {"mount": "/", "total_bytes": 1, "used_bytes": 0}]}]`, "drives[1].mount", 422},
		{"control character in a mount", `[{"name": "x", "drives": [{"mount": "/a\u001eb", "total_bytes": 1, "used_bytes": 0}]}]`, "drives[0].mount", 422},
		{"empty name", `[{"name": ""}]`, "name", 422},
		{"missing name", `[{"ip": "10.0.0.1"}]`, "name", 422},
		{"long name", `[{"name": "` + long + `"}]`, "name", 422},
		{"unknown field", `[{"name": "x", "colour": "blue"}]`, "colour", 422},
		{"duplicate names", `[{"name": "x"}, {"name": "X"}]`, "name", 422},
		{"not an array", `{"name": "x"}`, "", 422},
		{"item not an object", `[42]`, "", 422},
		{"empty array", `[]`, "", 422},
		{"malformed", `[{"name": `, "", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad item comes second, after a good one: nothing at all is written.
			body := tt.body
			if strings.HasPrefix(body, "[{") {
				body = "[" + goodItem + "," + body[1:]
			}
			res, out := e.api(tok, "PUT", "/api/v1/endpoints", body)
			if res.StatusCode != tt.status {
				t.Fatalf("%d %s", res.StatusCode, out)
			}
			var ae apiError
			if err := json.Unmarshal([]byte(out), &ae); err != nil || ae.Error == "" || len(ae.Details) == 0 {
				t.Fatalf("error body %s", out)
			}
			if tt.field != "" && !strings.Contains(out, `"field":"`+tt.field+`"`) {
				t.Fatalf("field %s not named: %s", tt.field, out)
			}
			if p, _ := e.db.List(context.Background(), store.Filter{}, false); p.Total != 0 {
				t.Fatalf("%d endpoints written", p.Total)
			}
		})
	}
	t.Run("more than 1000 items", func(t *testing.T) {
		items := make([]string, 1001)
		for i := range items {
			items[i] = fmt.Sprintf(`{"name": "n%d"}`, i)
		}
		res, out := e.api(tok, "PUT", "/api/v1/endpoints", "["+strings.Join(items, ",")+"]")
		if res.StatusCode != 422 || !strings.Contains(out, "at most 1000") {
			t.Fatalf("%d %s", res.StatusCode, out)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		res, _ := e.api(tok, "PUT", "/api/v1/endpoints", `[{"name": "`+strings.Repeat("x", 5<<20)+`"}]`)
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d", res.StatusCode)
		}
	})
}

func TestAPIListAndActions(t *testing.T) {
	e := newEnv(t, 3000)
	tok := e.token("automation")
	ctx := context.Background()
	res, body := e.api(tok, "GET", "/api/v1/endpoints?impact=cannot-patch&exemption=powered-off&per_page=5", "")
	var page struct {
		Items   []map[string]any `json:"items"`
		Total   int64            `json:"total"`
		Page    int              `json:"page"`
		PerPage int              `json:"per_page"`
	}
	json.Unmarshal([]byte(body), &page)
	p, _ := e.db.List(ctx, filterOf(t, "impact=cannot-patch&exemption=powered-off&per_page=1"), false)
	if res.StatusCode != 200 || page.Total != p.Total || len(page.Items) != 5 || page.PerPage != 5 {
		t.Fatalf("%d total %d/%d items %d", res.StatusCode, page.Total, p.Total, len(page.Items))
	}
	for _, it := range page.Items {
		if it["impact"] != "cannot-patch" || !strings.Contains(fmt.Sprint(it["exemptions"]), "powered-off") {
			t.Fatalf("item %v", it)
		}
	}
	if res, _ := e.api(tok, "GET", "/api/v1/endpoints?impact=maybe", ""); res.StatusCode != 400 {
		t.Fatalf("bad filter %d", res.StatusCode)
	}
	if res, _ := e.api(tok, "GET", "/api/v1/endpoints/no-such-host", ""); res.StatusCode != 404 {
		t.Fatalf("unknown endpoint %d", res.StatusCode)
	}

	susp := e.endpointWith(store.SuspendedByUser)
	res, body = e.api(tok, "POST", "/api/v1/endpoints/"+susp.Name+"/unsuspend", "")
	if res.StatusCode != 200 || !strings.Contains(body, `"changed":true`) || strings.Contains(body, "suspended-by-user") {
		t.Fatalf("unsuspend %d %s", res.StatusCode, body)
	}
	log, _ := e.db.Audit(ctx, store.AuditFilter{Endpoint: susp.Name, Limit: 1})
	if log[0].Actor != "token:automation" {
		t.Fatalf("audited as %q", log[0].Actor)
	}
	res, body = e.api(tok, "POST", "/api/v1/endpoints/"+susp.Name+"/suspend", `{"cycles": 2, "reason": "vendor case"}`)
	if res.StatusCode != 200 || !strings.Contains(body, `"cycles_remaining":2`) {
		t.Fatalf("suspend %d %s", res.StatusCode, body)
	}
	for _, bad := range []string{`{"from": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z", "reason": "x"}`, `{"cycles": 0, "reason": "x"}`,
		`{"cycles": 1}`, `{"cycles": 1, "reason": "x", "extra": 1}`, `not json`} {
		if res, out := e.api(tok, "POST", "/api/v1/endpoints/"+susp.Name+"/suspend", bad); res.StatusCode != 400 || !strings.Contains(out, `"error"`) {
			t.Errorf("%s: %d %s", bad, res.StatusCode, out)
		}
	}
	reboot := e.endpointWith(store.PendingRebootSuspension)
	res, body = e.api(tok, "POST", "/api/v1/endpoints/"+reboot.Name+"/acknowledge-reboot", "")
	if res.StatusCode != 200 || strings.Contains(body, "pending-reboot-suspension") {
		t.Fatalf("ack %d %s", res.StatusCode, body)
	}
}

// TestOpenAPIMatchesRoutes checks every API route against the document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, 0)
	res, body := e.api("", "GET", "/api/v1/openapi.json", "")
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range e.srv.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		path := regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, path)
		}
		n++
	}
	documented := 0
	for _, methods := range doc.Paths {
		documented += len(methods)
	}
	if n != documented {
		t.Errorf("%d API routes, %d documented operations", n, documented)
	}
}

func postFile(t *testing.T, c *client, path, filename, content string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	w.Close()
	// As the page's form does: the token in the address, the file in the body.
	req, _ := http.NewRequest("POST", c.e.ts.URL+path+"?_csrf="+url.QueryEscape(c.csrf), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestCSVImport(t *testing.T) {
	e := newEnv(t, 0)
	c := e.login("admin")
	c.get("/import")
	ctx := context.Background()
	good := "name,os_family,managed,power,ps_version,last_contact_at,drives\n" +
		"csv-01,windows,yes,on,2,2026-11-24T10:00:00Z,C:=95/100;D:=1/100\n" +
		"csv-02,linux,true,off,,,\n"
	res, _ := postFile(t, c, "/import", "facts.csv", good)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/import" {
		t.Fatalf("import %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	ep, err := e.db.EndpointByName(ctx, "csv-01")
	if err != nil || !hasCode(ep, store.UnsupportedPSVersion) || !ep.LowDisk || len(ep.Drives) != 2 {
		t.Fatalf("%v %+v", err, ep)
	}
	if ep2, _ := e.db.EndpointByName(ctx, "csv-02"); !hasCode(ep2, store.PoweredOff) {
		t.Fatal("csv-02 not powered off")
	}
	log, _ := e.db.Audit(ctx, store.AuditFilter{Action: "import"})
	if len(log) != 1 || log[0].Actor != "admin" {
		t.Fatalf("audit %+v", log)
	}
	// One bad row: nothing is written, and each problem names its line and field.
	bad := "name,power,ps_version,drives\ncsv-03,on,,\ncsv-04,sleeping,two,/=5/1\n"
	res, body := postFile(t, c, "/import", "bad.csv", bad)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad import %d", res.StatusCode)
	}
	for _, want := range []string{"line 3 power", "line 3 ps_version", "line 3 drives[0].used_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	if _, err := e.db.EndpointByName(ctx, "csv-03"); store.KindOf(err) != store.NotFound {
		t.Fatal("a row of a rejected import was written")
	}
	if res, _ := postFile(t, c, "/import", "x.csv", "colour\nblue\n"); res.StatusCode != 422 {
		t.Fatalf("unknown column %d", res.StatusCode)
	}
	if res, _ := postFile(t, e.login("olivia"), "/import", "facts.csv", good); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator import %d", res.StatusCode)
	}
}
