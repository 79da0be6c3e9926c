package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"patchready/metrics"
	"patchready/store"
)

func TestProbesRequestIDsAndMetrics(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, 200, func(c *Config) { c.Log = slog.New(slog.NewJSONHandler(&logs, nil)) })
	if err := e.db.BuildReadModel(context.Background()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/livez": 200, "/readyz": 200, "/healthz": 200} {
		if res, _ := e.client().get(path); res.StatusCode != want {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	// Every answer carries a request id, logged with its request as JSON.
	res, _ := e.client().get("/login")
	id := res.Header.Get("X-Request-Id")
	if len(id) != 24 || !strings.Contains(logs.String(), `"id":"`+id+`"`) {
		t.Fatalf("request id %q not in the log", id)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, id) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("not a JSON log line: %s", l)
			}
		}
	}
	if line["route"] != "/login" || line["status"] != float64(200) {
		t.Fatalf("log line %v", line)
	}
	// A proxy's id is kept; a hostile one is replaced.
	req, _ := http.NewRequest("GET", e.ts.URL+"/livez", nil)
	req.Header.Set("X-Request-Id", "edge-42.abc")
	r2, _ := http.DefaultClient.Do(req)
	if r2.Header.Get("X-Request-Id") != "edge-42.abc" {
		t.Fatalf("proxy id not kept: %q", r2.Header.Get("X-Request-Id"))
	}
	req.Header.Set("X-Request-Id", "<script>")
	r3, _ := http.DefaultClient.Do(req)
	if r3.Header.Get("X-Request-Id") == "<script>" {
		t.Fatal("a hostile id was echoed")
	}

	c := e.login("victor")
	c.get("/servers")
	m := httptest.NewServer(metrics.Handler(e.db))
	defer m.Close()
	// A request is counted once its answer has gone out: look again shortly.
	var text string
	for range 50 {
		mres, err := http.Get(m.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(mres.Body)
		if text = string(body); strings.Contains(text, `route="/servers"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	ov, _ := e.db.Overview(context.Background())
	for _, want := range []string{
		`patchready_http_request_duration_seconds_bucket{method="GET",route="/servers",status="200"`,
		fmt.Sprintf(`patchready_endpoints{impact="cannot-patch"} %d`, ov.ByImpact[store.CannotPatch]),
		fmt.Sprintf(`patchready_exemption_endpoints{code="powered-off"} %d`, ov.ByCode[store.PoweredOff]),
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepLines(text, "duration_seconds_count"))
		}
	}
	token, _ := e.db.CreateToken(context.Background(), "admin", "m")
	e.api(token, "PATCH", "/api/v1/endpoints", `[{"name": "metrics-01", "power": "on"}]`)
	mres, _ := http.Get(m.URL + "/metrics")
	body, _ := io.ReadAll(mres.Body)
	if !strings.Contains(string(body), `patchready_ingest_endpoints_total{method="patch",result="created"}`) {
		t.Error("ingest not counted")
	}
}

// Until the list's read model is built the server is alive but not ready.
func TestReadyzWaitsForTheReadModel(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir()+"/r.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer(New(db, Config{SessionKey: "k", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	if res, _ := http.Get(srv.URL + "/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ready before the read model: %d", res.StatusCode)
	}
	if res, _ := http.Get(srv.URL + "/livez"); res.StatusCode != 200 {
		t.Fatalf("not alive: %d", res.StatusCode)
	}
	if err := db.BuildReadModel(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, _ := http.Get(srv.URL + "/readyz"); res.StatusCode != 200 {
		t.Fatalf("not ready after the read model: %d", res.StatusCode)
	}
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
