package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhook events.
const (
	EventImpactChanged = "impact-changed"
	EventWindowDigest  = "window-digest"
	EventTest          = "test"
)

// WebhookEvents are the events a hook may subscribe to.
var WebhookEvents = []string{EventImpactChanged, EventWindowDigest}

// Webhook is a receiver of events. Its secret signs every delivery and is
// never shown again after it is set.
type Webhook struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Format    string    `json:"format"` // json, or slack (a text summary Slack and Teams show)
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookInput is a hook as given.
type WebhookInput struct {
	URL    string
	Events []string
	Secret string // "" makes one
	Format string // "" is json
}

// Limits of the webhook machinery.
const (
	MaxChangesPerDelivery = 1000
	changeGather          = 2 * time.Second // changes wait this long for others to join them
	retryFor              = 24 * time.Hour
	keepDeliveries        = 7 * 24 * time.Hour
)

// CreateWebhook adds a hook and returns it with its secret.
func (db *DB) CreateWebhook(ctx context.Context, actor string, in WebhookInput) (Webhook, string, error) {
	var d []FieldError
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		d = append(d, FieldError{Field: "url", Message: "Give the receiver's http or https address, like https://hooks.example.com/patchready."})
	}
	if len(in.Events) == 0 {
		d = append(d, FieldError{Field: "events", Message: "Choose at least one event."})
	}
	for _, e := range in.Events {
		if !slices.Contains(WebhookEvents, e) {
			d = append(d, FieldError{Field: "events", Message: fmt.Sprintf("Events are %s; not %q.", strings.Join(WebhookEvents, " and "), e)})
		}
	}
	if in.Format == "" {
		in.Format = "json"
	}
	if in.Format != "json" && in.Format != "slack" {
		d = append(d, FieldError{Field: "format", Message: "The format is json, or slack (a text summary for Slack and Teams)."})
	}
	if in.Secret == "" {
		b := make([]byte, 24)
		rand.Read(b)
		in.Secret = hex.EncodeToString(b)
	} else if len(in.Secret) < 16 || len(in.Secret) > 256 {
		d = append(d, FieldError{Field: "secret", Message: "A secret is 16 to 256 characters; leave it empty to have one made."})
	}
	if len(d) > 0 {
		return Webhook{}, "", &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	slices.Sort(in.Events)
	in.Events = slices.Compact(in.Events)
	h := Webhook{URL: u.String(), Events: in.Events, Format: in.Format, CreatedBy: actor}
	err = db.update(ctx, func(t *txn) error {
		h.CreatedAt = t.now.Truncate(time.Second)
		if err := t.QueryRow(`INSERT INTO webhooks (url, events, secret, format, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			h.URL, strings.Join(h.Events, ","), in.Secret, h.Format, actor, t.now.Unix()).Scan(&h.ID); err != nil {
			return err
		}
		return t.audit(actor, "webhook.create", fmt.Sprintf("added webhook %d to %s for %s", h.ID, u.Host, strings.Join(h.Events, ", ")), nil)
	})
	if err != nil {
		return Webhook{}, "", err
	}
	db.loadHookEvents(context.Background())
	return h, in.Secret, nil
}

// DeleteWebhook removes a hook and its deliveries, pending ones included.
func (db *DB) DeleteWebhook(ctx context.Context, actor string, id int64) error {
	err := db.update(ctx, func(t *txn) error {
		var raw string
		if err := t.QueryRow(`DELETE FROM webhooks WHERE id = ? RETURNING url`, id).Scan(&raw); errors.Is(err, sql.ErrNoRows) {
			return errorf(NotFound, "webhook %d does not exist", id)
		} else if err != nil {
			return err
		}
		if _, err := t.Exec(`DELETE FROM webhook_deliveries WHERE hook_id = ?`, id); err != nil {
			return err
		}
		host := raw
		if u, err := url.Parse(raw); err == nil {
			host = u.Host // the path of a chat service's hook is its secret
		}
		return t.audit(actor, "webhook.delete", fmt.Sprintf("deleted webhook %d to %s", id, host), nil)
	})
	if err == nil {
		db.loadHookEvents(context.Background())
	}
	return err
}

// Webhooks lists every hook.
func (db *DB) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, url, events, format, created_by, created_at FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		var h Webhook
		var events string
		var at int64
		if err := rows.Scan(&h.ID, &h.URL, &events, &h.Format, &h.CreatedBy, &at); err != nil {
			return nil, err
		}
		h.Events, h.CreatedAt = strings.Split(events, ","), time.Unix(at, 0).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// loadHookEvents remembers which events any hook wants, so that writes
// record impact changes only when someone listens.
func (db *DB) loadHookEvents(ctx context.Context) {
	hooks, err := db.Webhooks(ctx)
	if err != nil {
		return
	}
	want := false
	for _, h := range hooks {
		want = want || slices.Contains(h.Events, EventImpactChanged)
	}
	db.wantImpactChanges.Store(want)
}

// impactChanged records an endpoint's change of impact for the hooks, in
// the transaction that made it.
func (t *txn) impactChanged(name string, from, to Impact, primary Code) error {
	if !t.db.wantImpactChanges.Load() {
		return nil
	}
	_, err := t.Exec(`INSERT INTO webhook_changes (at, name, from_imp, to_imp, primary_code) VALUES (?, ?, ?, ?, ?)`,
		t.now.Unix(), name, from.String(), to.String(), string(primary))
	return err
}

// Delivery is one POST to a hook, as the sender needs it.
type Delivery struct {
	ID        int64
	UID       string // X-Patchready-Delivery
	Event     string
	Body      []byte
	HookURL   string
	Secret    string
	Format    string
	Attempts  int
	CreatedAt time.Time
}

// DeliveryLog is one delivery as the hook's log shows it.
type DeliveryLog struct {
	ID                int64
	Event, Status     string
	CreatedAt, LastAt time.Time
	Attempts          int
	LastCode          int
	LastError         string
	Changes           int // endpoints in an impact-changed delivery
}

// enqueue adds a delivery of body to every hook that wants event (or to
// one hook, for a test).
func (t *txn) enqueue(event string, body any, hookID int64) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	q := `SELECT id FROM webhooks WHERE ',' || events || ',' LIKE ?`
	args := []any{"%," + event + ",%"}
	if hookID != 0 {
		q, args = `SELECT id FROM webhooks WHERE id = ?`, []any{hookID}
	}
	hooks, err := t.ids(q, args...)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		uid := make([]byte, 12)
		rand.Read(uid)
		if _, err := t.Exec(`INSERT INTO webhook_deliveries (hook_id, uid, event, body, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)`,
			h, hex.EncodeToString(uid), event, string(b), t.now.Unix(), t.now.Unix()); err != nil {
			return err
		}
	}
	return nil
}

// impactChange is one change in an impact-changed delivery.
type impactChange struct {
	Name    string `json:"name"`
	From    string `json:"from"`
	To      string `json:"to"`
	Primary string `json:"primary"`
}

// GatherChanges turns waiting impact changes into deliveries of at most
// MaxChangesPerDelivery each, once the oldest has waited changeGather (or
// a delivery is full). It reports how many changes it took.
func (db *DB) GatherChanges(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := db.update(ctx, func(t *txn) error {
			var oldest sql.NullInt64
			var waiting int
			if err := t.QueryRow(`SELECT min(at), count(*) FROM webhook_changes`).Scan(&oldest, &waiting); err != nil || waiting == 0 {
				return err
			}
			if waiting < MaxChangesPerDelivery && t.now.Sub(time.Unix(oldest.Int64, 0)) < changeGather {
				return nil // let others join
			}
			var changes []impactChange
			var last int64
			if err := eachRow(t.Tx, `SELECT id, name, from_imp, to_imp, primary_code FROM webhook_changes ORDER BY id LIMIT ?`, func(r *sql.Rows) error {
				var c impactChange
				err := r.Scan(&last, &c.Name, &c.From, &c.To, &c.Primary)
				changes = append(changes, c)
				return err
			}, MaxChangesPerDelivery); err != nil {
				return err
			}
			n = len(changes)
			if _, err := t.Exec(`DELETE FROM webhook_changes WHERE id <= ?`, last); err != nil {
				return err
			}
			return t.enqueue(EventImpactChanged, map[string]any{"event": EventImpactChanged, "at": t.now.UTC(), "changes": changes}, 0)
		})
		total += n
		if err != nil || n < MaxChangesPerDelivery {
			return total, err
		}
	}
}

// QueueWindowDigests queues, for each schedule whose next window opens
// within the lead time, one digest of that window: how many endpoints it
// covers, how many are held back and by which exemption. Each window's
// digest is queued once.
func (db *DB) QueueWindowDigests(ctx context.Context) (int, error) {
	all, err := db.Schedules(ctx)
	if err != nil {
		return 0, err
	}
	lead, now, queued := db.Settings().DigestLead, db.now(), 0
	for i := range all {
		sc := &all[i]
		w, ok := sc.NextWindow(now)
		if !ok || !w.Start.After(now) || w.Start.Sub(now) > lead {
			continue
		}
		var sent bool
		if err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM window_digests WHERE schedule_id = ? AND window_start = ?)`,
			sc.ID, w.Start.Unix()).Scan(&sent); err != nil || sent {
			if err != nil {
				return queued, err
			}
			continue
		}
		wc, err := db.WindowCounts(ctx, sc.ID)
		if err != nil {
			return queued, err
		}
		body := map[string]any{"event": EventWindowDigest, "at": now.UTC(),
			"schedule":  map[string]any{"id": sc.ID, "name": sc.Name},
			"window":    map[string]any{"start": w.Start.UTC(), "end": w.End.UTC()},
			"endpoints": wc.Endpoints, "blocked": wc.HeldBack, "by_exemption": wc.ByExemption}
		err = db.update(ctx, func(t *txn) error {
			res, err := t.Exec(`INSERT OR IGNORE INTO window_digests (schedule_id, window_start) VALUES (?, ?)`, sc.ID, w.Start.Unix())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // sent before
			}
			queued++
			return t.enqueue(EventWindowDigest, body, 0)
		})
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// SendTest queues a test delivery to one hook.
func (db *DB) SendTest(ctx context.Context, actor string, hookID int64) error {
	return db.update(ctx, func(t *txn) error {
		var exists bool
		if err := t.QueryRow(`SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = ?)`, hookID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errorf(NotFound, "webhook %d does not exist", hookID)
		}
		return t.enqueue(EventTest, map[string]any{"event": EventTest, "at": t.now.UTC(), "sent_by": actor}, hookID)
	})
}

// DueDeliveries are the deliveries to attempt now, oldest first.
func (db *DB) DueDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT d.id, d.uid, d.event, d.body, d.attempts, d.created_at, h.url, h.secret, h.format
		FROM webhook_deliveries d JOIN webhooks h ON h.id = d.hook_id
		WHERE d.next_at IS NOT NULL AND d.next_at <= ? ORDER BY d.next_at, d.id LIMIT ?`, db.now().Unix(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var body string
		var at int64
		if err := rows.Scan(&d.ID, &d.UID, &d.Event, &body, &d.Attempts, &at, &d.HookURL, &d.Secret, &d.Format); err != nil {
			return nil, err
		}
		d.Body, d.CreatedAt = []byte(body), time.Unix(at, 0).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// RetryDelay is the wait after the n-th failed attempt: 30 s, 1 min, 2 min
// … at most an hour.
func RetryDelay(attempts int) time.Duration {
	d := 30 * time.Second << min(attempts-1, 7)
	return min(d, time.Hour)
}

// DeliveryDone records an attempt: delivered on a 2xx answer; else tried
// again later, or given up once it has been tried for 24 hours.
func (db *DB) DeliveryDone(ctx context.Context, id int64, code int, problem string) error {
	return db.update(ctx, func(t *txn) error {
		var attempts int
		var created int64
		if err := t.QueryRow(`SELECT attempts + 1, created_at FROM webhook_deliveries WHERE id = ?`, id).Scan(&attempts, &created); errors.Is(err, sql.ErrNoRows) {
			return nil // the hook was deleted meanwhile
		} else if err != nil {
			return err
		}
		status, next := "delivered", sql.NullInt64{}
		if code < 200 || code > 299 {
			status = "pending"
			retry := t.now.Add(RetryDelay(attempts))
			if retry.Sub(time.Unix(created, 0)) > retryFor {
				status = "failed"
			} else {
				next = sql.NullInt64{Int64: retry.Unix(), Valid: true}
			}
		}
		_, err := t.Exec(`UPDATE webhook_deliveries SET attempts = ?, status = ?, next_at = ?, last_code = nullif(?, 0), last_error = ?, last_at = ? WHERE id = ?`,
			attempts, status, next, code, problem, t.now.Unix(), id)
		if err != nil {
			return err
		}
		_, err = t.Exec(`DELETE FROM webhook_deliveries WHERE next_at IS NULL AND last_at < ?`, t.now.Add(-keepDeliveries).Unix())
		return err
	})
}

// Deliveries is a hook's recent deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, hookID int64, limit int) ([]DeliveryLog, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, event, status, created_at, coalesce(last_at, 0), attempts, coalesce(last_code, 0), last_error,
		coalesce(json_array_length(body, '$.changes'), 0) FROM webhook_deliveries WHERE hook_id = ? ORDER BY id DESC LIMIT ?`, hookID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeliveryLog
	for rows.Next() {
		var d DeliveryLog
		var created, last int64
		if err := rows.Scan(&d.ID, &d.Event, &d.Status, &created, &last, &d.Attempts, &d.LastCode, &d.LastError, &d.Changes); err != nil {
			return nil, err
		}
		d.CreatedAt = time.Unix(created, 0).UTC()
		if last != 0 {
			d.LastAt = time.Unix(last, 0).UTC()
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// WindowCounts is what a schedule's next window will find: its endpoints,
// those held back from it, and how many have each exemption that holds
// them back. The overview and the window digest say the same numbers.
type WindowCounts struct {
	Endpoints, HeldBack int64
	ByExemption         map[string]int64
}

// WindowCounts counts a schedule's endpoints for its next window.
func (db *DB) WindowCounts(ctx context.Context, scheduleID int64) (WindowCounts, error) {
	f := Filter{}
	f.Add(DimSchedule, false, strconv.FormatInt(scheduleID, 10))
	fc, err := db.Facets(ctx, f)
	if err != nil {
		return WindowCounts{}, err
	}
	wc := WindowCounts{Endpoints: fc.Total, ByExemption: map[string]int64{}}
	for _, code := range HeldBackCodes() {
		if n := fc.Count(DimExemption, code); n > 0 {
			wc.ByExemption[code] = n
		}
	}
	f.Conds = append(f.Conds, Cond{Dim: DimExemption, Values: HeldBackCodes()})
	wc.HeldBack, err = db.Count(ctx, f)
	return wc, err
}

// HeldBackCodes are the exemptions that hold an endpoint back from its
// next window: all but Awaiting Maintenance Window, which the window
// itself clears.
func HeldBackCodes() []string {
	var out []string
	for _, e := range Catalog {
		if e.Code != AwaitingMaintenanceWindow {
			out = append(out, string(e.Code))
		}
	}
	return out
}
