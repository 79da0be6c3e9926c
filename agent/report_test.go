package agent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"patchready/agent"
	"patchready/store"
	"patchready/web"
)

// The agent, run once on this machine against the real server, puts this
// host in the list with the drives statfs reports; a bad token is refused
// with the server's message.
func TestAgentReportsThisHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the agent's Linux collectors read this machine")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer(web.New(db, web.Config{SessionKey: "k", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	token, err := db.CreateToken(ctx, "admin", "agent-test")
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	cfg := agent.Config{Server: srv.URL, Token: token, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	reported, err := agent.Once(ctx, cfg)
	if err != nil {
		t.Fatalf("report: %v (%s)", err, logs.String())
	}
	host, _ := os.Hostname()
	e, err := db.EndpointByName(ctx, host)
	if err != nil {
		t.Fatalf("this host (%s) is not in the list: %v", host, err)
	}
	if len(e.Drives) == 0 || len(e.Drives) != len(reported.Drives) {
		t.Fatalf("drives: stored %+v, reported %+v", e.Drives, reported.Drives)
	}
	// Each drive as statfs sees it now: the size exactly, the use within
	// what the tests running beside this one may write meanwhile.
	for _, d := range e.Drives {
		total, used, err := agent.Host{}.Statfs(d.Mount)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(d.TotalBytes) != total || absDiff(uint64(d.UsedBytes), used) > total/100 {
			t.Fatalf("%s: stored %d/%d, statfs %d/%d", d.Mount, d.UsedBytes, d.TotalBytes, used, total)
		}
	}
	if *e.OSFamily != "linux" || *e.Power != "on" || e.Sources["drives"].Source != "agent-test" || e.LastContactAt == nil {
		t.Fatalf("facts %+v sources %+v", e.Facts, e.Sources)
	}
	if time.Since(*e.LastContactAt) > time.Minute {
		t.Fatalf("last contact %v", e.LastContactAt)
	}

	// A revoked or wrong token: refused, with the server's words.
	cfg.Token = "prt_not-a-token"
	_, err = agent.Once(ctx, cfg)
	var refused *agent.Refused
	if !errors.As(err, &refused) || refused.Status != 401 || refused.Message != "unknown or revoked token" {
		t.Fatalf("bad token: %v", err)
	}
	// No server at all: a failure to retry, not a refusal.
	cfg.Server = "http://127.0.0.1:1"
	if _, err := agent.Once(ctx, cfg); err == nil || errors.As(err, &refused) {
		t.Fatalf("no server: %v", err)
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}
