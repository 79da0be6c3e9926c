package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is how the agent reports.
type Config struct {
	Server   string        // base URL of the dashboard
	Token    string        // an API token; its name is the facts' source
	Interval time.Duration // between reports (with ±10 % jitter)
	Name     string        // overrides the host name
	System   System
	Registry Registry
	Client   *http.Client
	Log      *slog.Logger
	Now      func() time.Time
}

// Refused is a report the server turned down for its content (a 4xx): it
// will not pass by retrying.
type Refused struct {
	Status  int
	Message string
}

func (r *Refused) Error() string {
	return fmt.Sprintf("the server refused the report (%d): %s", r.Status, r.Message)
}

func (c *Config) defaults() error {
	if c.Server == "" || c.Token == "" {
		return errors.New("give the server (--server or PATCHREADY_SERVER) and an API token (--token or PATCHREADY_TOKEN)")
	}
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not an http(s) URL like https://patchready.example.com", c.Server)
	}
	if c.System == nil {
		c.System = Host{}
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Interval <= 0 {
		c.Interval = 15 * time.Minute
	}
	return nil
}

// Once collects and reports once.
func Once(ctx context.Context, c Config) (Facts, error) {
	if err := c.defaults(); err != nil {
		return Facts{}, err
	}
	f, problems := Collect(c.System, c.Registry, c.Name, primaryIP(c.Server), c.Now())
	for _, p := range problems {
		c.Log.Warn("could not read a fact; it is left out", "problem", p)
	}
	if f.Name == "" {
		return f, errors.New("the host has no name: give one with --name")
	}
	body, err := json.Marshal([]Facts{f})
	if err != nil {
		return f, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, strings.TrimRight(c.Server, "/")+"/api/v1/endpoints", bytes.NewReader(body))
	if err != nil {
		return f, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "patchready-agent")
	res, err := c.Client.Do(req)
	if err != nil {
		return f, err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 400 {
		var e struct {
			Error   string `json:"error"`
			Details []struct {
				Field, Message string
			} `json:"details"`
		}
		text := strings.TrimSpace(string(msg))
		if json.Unmarshal(msg, &e) == nil && e.Error != "" {
			text = e.Error
			for _, d := range e.Details {
				text += "; " + d.Field + ": " + d.Message
			}
		}
		if res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusRequestTimeout {
			return f, &Refused{Status: res.StatusCode, Message: text}
		}
		return f, fmt.Errorf("the server answered %d: %s", res.StatusCode, text)
	}
	c.Log.Info("reported", "name", f.Name, "drives", len(f.Drives), "reboot_required", f.RebootRequiredSince != nil, "server", c.Server)
	return f, nil
}

// Run reports every interval (with jitter, so that a fleet started at once
// does not report at once) until ctx ends. A failed report is retried with
// growing delays (10 s, 20 s … at most the interval); a refused one waits
// for the next interval.
func Run(ctx context.Context, c Config) error {
	if err := c.defaults(); err != nil {
		return err
	}
	c.Log.Info("agent started", "server", c.Server, "interval", c.Interval)
	backoff := 10 * time.Second
	for {
		_, err := Once(ctx, c)
		wait := jitter(c.Interval)
		var refused *Refused
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &refused):
			c.Log.Error("report refused; trying again at the next interval", "status", refused.Status, "message", refused.Message, "next", wait.Round(time.Second))
			backoff = 10 * time.Second
		case err != nil:
			wait = min(backoff, c.Interval)
			c.Log.Warn("report failed; retrying", "err", err, "in", wait)
			backoff *= 2
		default:
			backoff = 10 * time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// jitter is d ± 10 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// primaryIP is the address this host reaches the server from: the
// system's route to it picks the interface. No packet is sent.
func primaryIP(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	conn, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer conn.Close()
	addr, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || addr.IP.IsUnspecified() {
		return ""
	}
	return addr.IP.String()
}
