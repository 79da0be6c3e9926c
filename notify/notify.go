// Package notify delivers webhook events. The store queues them in the
// database, in the transactions that cause them; this package gathers the
// waiting impact changes into deliveries, queues window digests, and posts
// due deliveries, signed, retrying failures with growing delays. A write
// never waits for a receiver, and a restart loses nothing: the queue is
// in the database.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"patchready/metrics"
	"patchready/store"
)

// Client is the HTTP client deliveries go out with. It follows no
// redirects and will not connect to link-local addresses (169.254.0.0/16,
// where clouds answer with instance credentials, and fe80::/10): a hook
// must not become a way to read the server's own network. Loopback and
// private receivers are fine: internal alerting lives there.
func Client() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
			return fmt.Errorf("webhooks may not connect to %s", host)
		}
		return nil
	}}
	return &http.Client{
		Timeout:       20 * time.Second,
		Transport:     &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Sender posts deliveries.
type Sender struct {
	DB      *store.DB
	Client  *http.Client
	BaseURL string // the dashboard's address, for links in messages
	Log     *slog.Logger
}

// Run works the queue every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.safePass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// safePass is a Pass whose panic is logged rather than ending the server.
func (s *Sender) safePass(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Error("webhooks panicked", "panic", fmt.Sprint(r))
		}
	}()
	if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
		s.Log.Error("webhooks", "err", err)
	}
}

// Pass gathers changes, queues digests and sends what is due.
func (s *Sender) Pass(ctx context.Context) error {
	if _, err := s.DB.GatherChanges(ctx); err != nil {
		return err
	}
	if _, err := s.DB.QueueWindowDigests(ctx); err != nil {
		return err
	}
	// Due deliveries go out side by side, so that a receiver that does
	// not answer holds up only its own.
	due, err := s.DB.DueDeliveries(ctx, 32)
	if err != nil || len(due) == 0 {
		return err
	}
	type result struct {
		code    int
		problem string
	}
	results := make([]result, len(due))
	var wg sync.WaitGroup
	for i := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].code, results[i].problem = s.send(ctx, due[i])
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	for i, d := range due {
		r := results[i]
		outcome := "delivered"
		if r.problem != "" {
			outcome = "failed"
			s.Log.Warn("webhook delivery failed; it will be retried", "delivery", d.UID, "host", hostOf(d.HookURL), "code", r.code, "attempt", d.Attempts+1)
		}
		metrics.WebhookDeliveries.WithLabelValues(d.Event, outcome).Inc()
		if err := s.DB.DeliveryDone(ctx, d.ID, r.code, r.problem); err != nil {
			return err
		}
	}
	return nil
}

// hostOf is a URL's host, for logs: the path of a chat service's hook is
// its secret.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return "?"
}

// Sign is the signature header's value for a body and secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// send posts one delivery and returns the receiver's status (0 when there
// was no answer) and, when it failed, why.
func (s *Sender) send(ctx context.Context, d store.Delivery) (int, string) {
	body := d.Body
	if d.Format == "slack" {
		body = s.slack(d)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.HookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "patchready-webhooks")
	req.Header.Set("X-Patchready-Event", d.Event)
	req.Header.Set("X-Patchready-Delivery", d.UID)
	req.Header.Set("X-Patchready-Signature", Sign(d.Secret, body))
	res, err := s.Client.Do(req)
	if err != nil {
		// The error names the URL, which may carry a token (Slack's do):
		// keep only what happened.
		var ue *url.Error
		if errors.As(err, &ue) {
			return 0, ue.Err.Error()
		}
		return 0, "no answer"
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, "the receiver answered " + res.Status
	}
	return res.StatusCode, ""
}

// slack is a delivery as a message Slack and Teams incoming webhooks show:
// {"text": "…"} with links into the dashboard.
func (s *Sender) slack(d store.Delivery) []byte {
	var ev struct {
		Changes  []struct{ Name, From, To, Primary string }
		Schedule struct {
			ID   int64
			Name string
		}
		Window             struct{ Start, End time.Time }
		Endpoints, Blocked int64
		ByExemption        map[string]int64 `json:"by_exemption"`
		SentBy             string           `json:"sent_by"`
	}
	json.Unmarshal(d.Body, &ev)
	base := strings.TrimRight(s.BaseURL, "/")
	var text string
	switch d.Event {
	case store.EventImpactChanged:
		worse, better := 0, 0
		var lines []string
		for i, c := range ev.Changes {
			if c.To == store.Patchable.String() {
				better++
			} else {
				worse++
			}
			if i < 10 {
				lines = append(lines, fmt.Sprintf("• %s: %s → %s", c.Name, c.From, c.To))
			}
		}
		text = fmt.Sprintf("patchready: %d endpoint(s) changed impact (%d can be patched now, %d cannot). %s/servers?impact=cannot-patch\n%s",
			len(ev.Changes), better, worse, base, strings.Join(lines, "\n"))
		if len(ev.Changes) > 10 {
			text += fmt.Sprintf("\n…and %d more", len(ev.Changes)-10)
		}
	case store.EventWindowDigest:
		text = fmt.Sprintf("patchready: the window of %q opens %s (UTC): %d endpoint(s), %d held back. %s/servers?schedule=%d",
			ev.Schedule.Name, ev.Window.Start.UTC().Format("2006-01-02 15:04"), ev.Endpoints, ev.Blocked, base, ev.Schedule.ID)
	default:
		text = "patchready: a test message" + map[bool]string{true: " from " + ev.SentBy, false: ""}[ev.SentBy != ""] + ". " + base + "/webhooks"
	}
	b, _ := json.Marshal(map[string]string{"text": text})
	return b
}
