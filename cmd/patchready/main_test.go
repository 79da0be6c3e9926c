package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	env := func(string) string { return "" }
	runOK := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append(args, "--db", db), strings.NewReader(stdin), &out, &errOut, env); err != nil {
			t.Fatalf("%v: %v (%s)", args, err, errOut.String())
		}
		return out.String()
	}
	if out := runOK("", "migrate"); !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %q", out)
	}
	if out := runOK("", "seed", "--endpoints", "500"); !strings.Contains(out, "added 500 endpoints") {
		t.Fatalf("seed: %q", out)
	}
	runOK("a-long-password\n", "user", "add", "carol", "--role", "operator")
	if tok := runOK("", "token", "create", "sync"); !strings.HasPrefix(tok, "prt_") {
		t.Fatalf("token: %q", tok)
	}
	backup := filepath.Join(dir, "copy.db")
	runOK("", "backup", backup)
	if st, err := os.Stat(backup); err != nil || st.Size() == 0 {
		t.Fatalf("backup: %v", err)
	}
	var out, errOut bytes.Buffer
	for _, bad := range [][]string{{"seed", "--endpoints", "0"}, {"user", "add", "dan", "--role", "root"}, {"frobnicate"}, {"token"}} {
		if err := run(context.Background(), append(bad, "--db", db), strings.NewReader("a-long-password\n"), &out, &errOut, env); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
}

// TestServeStartsAndStops runs serve on an empty database: it creates the
// admin user and the demo estate, serves, and shuts down when told.
func TestServeStartsAndStops(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--demo-endpoints", "300"}, strings.NewReader(""), &out, io.Discard,
			func(k string) string { return map[string]string{"PATCHREADY_ADMIN_PASSWORD": "first-admin-pw"}[k] })
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "patchready is serving") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if !strings.Contains(out.String(), "seeded a demo estate of 300 endpoints") || strings.Contains(out.String(), "with password") {
		t.Fatalf("output: %s", out.String())
	}
}

// syncBuffer is a buffer the server's goroutines may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve lets the heap grow by gcRoom past what is live (between a quarter
// and four times it) under a memory limit of live plus 1.5 gcRoom; collects
// at 25 % growth while building; and leaves GOGC and GOMEMLIMIT alone when
// they are set.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	const none = math.MaxInt64 // no memory limit
	for _, c := range []struct {
		live      uint64
		env       map[string]string
		want      int
		wantLimit int64
	}{
		{8 << 20, nil, 400, 92 << 20},
		{28 << 20, nil, 200, 112 << 20},
		{56 << 20, nil, 100, 140 << 20},
		{150 << 20, nil, 37, 234 << 20},
		{1 << 30, nil, 25, 1108 << 20},
		{0, nil, 400, 84 << 20},
		{20 << 20, map[string]string{"GOGC": "50"}, 100, none},
		{20 << 20, map[string]string{"GOMEMLIMIT": "1GiB"}, 100, none},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(none)
		tuneGC(func(k string) string { return c.env[k] }, c.live, false)
		if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(none); got != c.want || limit != c.wantLimit {
			t.Errorf("live %d MiB, env %v: GOGC %d, limit %d MiB, want %d and %d MiB", c.live>>20, c.env, got, limit>>20, c.want, c.wantLimit>>20)
		}
	}
	debug.SetMemoryLimit(1 << 30)
	tuneGC(func(string) string { return "" }, 0, true)
	if got, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(none); got != 25 || limit != none {
		t.Errorf("while building: GOGC %d, limit %d, want 25 and none", got, limit)
	}
}

// Only serve and migrate create a database: any other command given a
// mistyped --db fails with a clear message and leaves no file behind.
func TestCommandsRefuseMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "mistyped.db")
	for _, args := range [][]string{
		{"backup", filepath.Join(dir, "copy.db")},
		{"seed", "--endpoints", "10"},
		{"token", "create", "sync"},
		{"user", "add", "dan", "--role", "viewer"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append(args, "--db", missing), strings.NewReader("a-long-password\n"), &out, &errOut, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), "no database at") {
				t.Fatalf("err = %v", err)
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Fatalf("a database was created: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "copy.db")); !os.IsNotExist(err) {
				t.Fatal("a backup was written")
			}
		})
	}
}

// startServe runs serve until the returned stop is called, which reports
// how it ended.
func startServe(t *testing.T, args ...string) (stop func() error) {
	t.Helper()
	env := func(k string) string { return map[string]string{"PATCHREADY_ADMIN_PASSWORD": "first-admin-pw"}[k] }
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--no-demo"}, args...), strings.NewReader(""), &out, io.Discard, env)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "patchready is serving") {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() error { cancel(); return <-done }
}

// serve on a fresh machine creates the data folder (owner only), as
// `make run` needs.
func TestServeCreatesDataFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := startServe(t, "--db", filepath.Join(dir, "patchready.db"))(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data folder: %v %v", st, err)
	}
}

// A second serve on the same database refuses to start while the first runs,
// and starts once the first has stopped.
func TestSecondServerRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	stop := startServe(t, "--db", db)
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "another patchready server") || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second serve: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := startServe(t, "--db", db)(); err != nil {
		t.Fatalf("serve after the first stopped: %v", err)
	}
}

func TestTrustedProxiesFlag(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "p.db"), "--trusted-proxies", "10.0.0.0/8,not-a-net"},
		strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "not-a-net") {
		t.Fatalf("err = %v", err)
	}
}
