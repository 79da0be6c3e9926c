package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"patchready/notify"
	"patchready/store"
)

// receiver records deliveries; fail answers 500 to the first n.
type receiver struct {
	mu   sync.Mutex
	got  []delivery
	fail int
}

type delivery struct {
	event, id, signature string
	body                 []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		http.Error(w, "busy", http.StatusInternalServerError)
		return
	}
	r.got = append(r.got, delivery{req.Header.Get("X-Patchready-Event"), req.Header.Get("X-Patchready-Delivery"), req.Header.Get("X-Patchready-Signature"), body})
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, path string, clk *clock) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = clk.now
	return db
}

func sender(db *store.DB) *notify.Sender {
	return &notify.Sender{DB: db, Client: notify.Client(), BaseURL: "https://patchready.example", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// A hook cannot reach the cloud's metadata service, nor be redirected.
func TestClientRefusesLinkLocal(t *testing.T) {
	_, err := notify.Client().Get("http://169.254.169.254/latest/meta-data/")
	if err == nil || !strings.Contains(err.Error(), "may not connect") {
		t.Fatalf("link-local: %v", err)
	}
	moved := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/", http.StatusFound))
	defer moved.Close()
	res, err := notify.Client().Get(moved.URL)
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("a redirect was followed: %v %v", res, err)
	}
}

func report(t *testing.T, db *store.DB, power string, names ...string) {
	t.Helper()
	var items []store.Patch
	bit, _ := store.FieldOf("power")
	for _, n := range names {
		p := power
		items = append(items, store.Patch{Facts: store.Facts{Name: n, Power: &p}, Present: bit})
	}
	for len(items) > 0 {
		k := min(len(items), store.MaxBatch)
		if _, err := db.ReportFacts(context.Background(), "test", items[:k]); err != nil {
			t.Fatal(err)
		}
		items = items[k:]
	}
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("host-%04d", i)
	}
	return out
}

func TestImpactChangedSignedAndBatched(t *testing.T) {
	ctx := context.Background()
	clk := &clock{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	db := open(t, filepath.Join(t.TempDir(), "hooks.db"), clk)
	defer db.Close()
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	report(t, db, "on", names(1500)...) // before any hook: nothing is recorded
	const secret = "a-shared-secret-of-some-length"
	if _, _, err := db.CreateWebhook(ctx, "admin", store.WebhookInput{URL: srv.URL, Events: []string{store.EventImpactChanged}, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	s := sender(db)
	// 1,500 endpoints turn off: two deliveries, at most 1,000 changes each.
	report(t, db, "off", names(1500)...)
	if err := s.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.deliveries()); n != 1 {
		t.Fatalf("%d deliveries for 1,500 changes (a full batch goes at once, the rest waits)", n)
	}
	clk.t = clk.t.Add(3 * time.Second) // the rest waited long enough
	if err := s.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	got := rcv.deliveries()
	total := 0
	for _, d := range got {
		if d.signature != notify.Sign(secret, d.body) || d.event != store.EventImpactChanged || d.id == "" {
			t.Fatalf("delivery %s: event %q signature %q", d.id, d.event, d.signature)
		}
		var body struct {
			Event   string
			Changes []struct{ Name, From, To, Primary string }
		}
		if err := json.Unmarshal(d.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Changes) > store.MaxChangesPerDelivery || body.Event != store.EventImpactChanged {
			t.Fatalf("a delivery of %d changes", len(body.Changes))
		}
		c := body.Changes[0]
		if c.From != "temporarily-cannot-patch" || c.To != "cannot-patch" || c.Primary != "powered-off" {
			t.Fatalf("change %+v", c)
		}
		total += len(body.Changes)
	}
	if total != 1500 || len(got) != 2 {
		t.Fatalf("%d changes in %d deliveries, want 1500 in 2", total, len(got))
	}
	// Nothing more to send: each change went once.
	clk.t = clk.t.Add(time.Minute)
	s.Pass(ctx)
	if n := len(rcv.deliveries()); n != 2 {
		t.Fatalf("%d deliveries after a quiet pass", n)
	}
}

func TestRetriesAndRestarts(t *testing.T) {
	ctx := context.Background()
	clk := &clock{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "hooks.db")
	db := open(t, path, clk)
	rcv := &receiver{fail: 2}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	h, secret, err := db.CreateWebhook(ctx, "admin", store.WebhookInput{URL: srv.URL, Events: []string{store.EventImpactChanged}, Format: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	report(t, db, "on", "web-01")
	report(t, db, "off", "web-01")
	clk.t = clk.t.Add(3 * time.Second)
	s := sender(db)
	s.Pass(ctx) // 500
	log, _ := db.Deliveries(ctx, h.ID, 10)
	if len(log) != 1 || log[0].Status != "pending" || log[0].LastCode != 500 || log[0].Attempts != 1 {
		t.Fatalf("after a 500: %+v", log)
	}
	// Not again before its delay.
	clk.t = clk.t.Add(10 * time.Second)
	s.Pass(ctx)
	if log, _ = db.Deliveries(ctx, h.ID, 10); log[0].Attempts != 1 {
		t.Fatalf("retried before the delay: %+v", log[0])
	}
	clk.t = clk.t.Add(store.RetryDelay(1))
	s.Pass(ctx) // 500 again; the next delay is longer
	// The server restarts: the queue is in the database.
	db.Close()
	db = open(t, path, clk)
	defer db.Close()
	clk.t = clk.t.Add(store.RetryDelay(2))
	if err := sender(db).Pass(ctx); err != nil {
		t.Fatal(err)
	}
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries after the restart", len(got))
	}
	var msg struct{ Text string }
	if json.Unmarshal(got[0].body, &msg); !strings.Contains(msg.Text, "web-01: temporarily-cannot-patch → cannot-patch") ||
		!strings.Contains(msg.Text, "https://patchready.example/servers") || got[0].signature != notify.Sign(secret, got[0].body) || len(secret) < 16 {
		t.Fatalf("slack message %s", got[0].body)
	}
	if log, _ = db.Deliveries(ctx, h.ID, 10); log[0].Status != "delivered" || log[0].Attempts != 3 || log[0].LastCode != 200 {
		t.Fatalf("after the restart: %+v", log[0])
	}

	// A receiver that never answers well is given up after 24 hours.
	rcv.fail = 1 << 30
	report(t, db, "on", "web-01")
	clk.t = clk.t.Add(3 * time.Second)
	for range 40 {
		sender(db).Pass(ctx)
		clk.t = clk.t.Add(time.Hour)
	}
	if log, _ = db.Deliveries(ctx, h.ID, 10); log[0].Status != "failed" {
		t.Fatalf("never given up: %+v", log[0])
	}
}

func TestWindowDigestAndDeletedHooks(t *testing.T) {
	ctx := context.Background()
	clk := &clock{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	db := open(t, filepath.Join(t.TempDir(), "hooks.db"), clk)
	defer db.Close()
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if _, _, err := db.CreateWebhook(ctx, "admin", store.WebhookInput{URL: srv.URL, Events: []string{store.EventWindowDigest}}); err != nil {
		t.Fatal(err)
	}
	// A window opening in 30 hours: no digest yet (the lead is 24 h).
	start := store.Wall{Time: clk.t.Add(30 * time.Hour)}
	id, err := db.CreateSchedule(ctx, "admin", store.ScheduleInput{Name: "Tomorrow night", Timezone: "UTC"}, store.EntryInput{Start: start, Duration: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	report(t, db, "off", "db-01")
	e, _ := db.EndpointByName(ctx, "db-01")
	db.AssignSchedule(ctx, "admin", store.Target{IDs: []int64{e.ID}}, id)
	s := sender(db)
	s.Pass(ctx)
	if n := len(rcv.deliveries()); n != 0 {
		t.Fatalf("%d digests 30 h ahead", n)
	}
	clk.t = clk.t.Add(7 * time.Hour) // 23 h before
	s.Pass(ctx)
	s.Pass(ctx)
	got := rcv.deliveries()
	if len(got) != 1 || got[0].event != store.EventWindowDigest {
		t.Fatalf("digests at the lead time: %d", len(got))
	}
	var digest struct {
		Schedule    struct{ Name string }
		Window      struct{ Start time.Time }
		Endpoints   int64
		Blocked     int64
		ByExemption map[string]int64 `json:"by_exemption"`
	}
	json.Unmarshal(got[0].body, &digest)
	if digest.Schedule.Name != "Tomorrow night" || !digest.Window.Start.Equal(start.In(time.UTC)) || digest.Endpoints != 1 || digest.Blocked != 1 || digest.ByExemption["powered-off"] != 1 {
		t.Fatalf("digest %s", got[0].body)
	}

	// A deleted hook gets nothing, not even what was waiting for it.
	hooks, _ := db.Webhooks(ctx)
	db.SendTest(ctx, "admin", hooks[0].ID)
	if err := db.DeleteWebhook(ctx, "admin", hooks[0].ID); err != nil {
		t.Fatal(err)
	}
	s.Pass(ctx)
	if n := len(rcv.deliveries()); n != 1 {
		t.Fatalf("a deleted hook got %d deliveries", n-1)
	}
}
