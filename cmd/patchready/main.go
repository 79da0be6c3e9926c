// Command patchready serves the patch-readiness dashboard and manages its
// database. main only wires things; run holds the logic so tests can call it.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"patchready/agent"
	"patchready/metrics"
	"patchready/notify"
	"patchready/store"
	"patchready/web"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "patchready:", err)
		os.Exit(1)
	}
}

const usage = `patchready %s — can every endpoint be patched right now?

Usage:
  patchready [serve] [--addr 127.0.0.1:8080] [--db data/patchready.db] [--no-demo]
  patchready seed --endpoints N [--seed S]
  patchready user add NAME --role viewer|operator|admin   (password on stdin)
  patchready token create NAME [--role reporter]         (prints the token once; roles: viewer,
                                                         reporter (facts), operator (actions), admin)
  patchready backup FILE
  patchready restore BACKUP [--force]                  (checks it; never over a database in use)
  patchready probe URL                                  (exit 0 when URL answers 2xx)
  patchready migrate
  patchready agent --server URL --token TOKEN [--interval 15m] [--once] [--name NAME]

agent reports this host's facts to a dashboard (env PATCHREADY_SERVER,
PATCHREADY_TOKEN); it needs no database.

Every other command takes --db (env PATCHREADY_DB); only serve and migrate create a
database that does not exist. serve also reads PATCHREADY_ADDR,
PATCHREADY_ADMIN_PASSWORD, PATCHREADY_SESSION_KEY, PATCHREADY_BASE_URL (links in
webhook messages) and PATCHREADY_TRUSTED_PROXIES
(--trusted-proxies: CIDRs allowed to set X-Forwarded-For).
`

// run parses the command line and runs one subcommand until ctx ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	env := func(key, fallback string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return fallback
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, usage, version) }
	dbPath := fs.String("db", env("PATCHREADY_DB", "data/patchready.db"), "SQLite database file")
	// Only serve and migrate may create the database: any other command
	// given a mistyped --db would work on a new, empty one and say nothing.
	open := func() (*store.DB, error) {
		if cmd != "serve" && cmd != "migrate" {
			if _, err := os.Stat(*dbPath); errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("no database at %s: check --db (or PATCHREADY_DB); only serve and migrate create one", *dbPath)
			}
		}
		return store.Open(ctx, *dbPath)
	}

	switch cmd {
	case "serve":
		addr := fs.String("addr", env("PATCHREADY_ADDR", "127.0.0.1:8080"), "listen address")
		noDemo := fs.Bool("no-demo", false, "do not seed demo endpoints into an empty database")
		demoSize := fs.Int("demo-endpoints", 3000, "how many demo endpoints to seed")
		every := fs.Duration("recheck", 30*time.Second, "how often clock-based rules are re-evaluated")
		proxies := fs.String("trusted-proxies", getenv("PATCHREADY_TRUSTED_PROXIES"), "comma-separated CIDRs of proxies allowed to set X-Forwarded-For")
		metricsAddr := fs.String("metrics-addr", getenv("PATCHREADY_METRICS_ADDR"), "address for Prometheus /metrics (off when empty)")
		logFormat := fs.String("log-format", env("PATCHREADY_LOG_FORMAT", "text"), "text or json")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *logFormat != "text" && *logFormat != "json" {
			return fmt.Errorf("--log-format is text or json, not %q", *logFormat)
		}
		if *every < time.Second {
			return errors.New("--recheck must be at least 1s")
		}
		trusted, err := web.ParseCIDRs(*proxies)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		release, err := store.LockServer(*dbPath)
		if err != nil {
			return err
		}
		defer release()
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		if err := firstStart(ctx, db, getenv("PATCHREADY_ADMIN_PASSWORD"), !*noDemo, *demoSize, stdout); err != nil {
			return err
		}
		oidc, err := oidcConfig(getenv)
		if err != nil {
			return err
		}
		return serve(ctx, db, *addr, web.Config{SessionKey: getenv("PATCHREADY_SESSION_KEY"), TrustedProxies: trusted, OIDC: oidc},
			options{every: *every, metricsAddr: *metricsAddr, logFormat: *logFormat,
				tuneGC: func(live uint64, building bool) { tuneGC(getenv, live, building) }}, stdout)

	case "seed":
		n := fs.Int("endpoints", 0, "how many endpoints to add")
		seed := fs.Uint64("seed", 1, "random seed: the same seed makes the same estate")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *n < 1 || *n > 10_000_000 {
			return errors.New("--endpoints must be between 1 and 10000000")
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		if created, err := db.DemoSchedules(ctx); err != nil {
			return err
		} else if created {
			fmt.Fprintln(stdout, "created demo maintenance schedules for the new endpoints")
		}
		start := time.Now()
		err = db.Seed(ctx, *n, *seed, progressBar(stdout, start))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %d endpoints in %s (%.0f/s)\n", *n, time.Since(start).Round(time.Millisecond), float64(*n)/time.Since(start).Seconds())
		return nil

	case "user":
		if len(args) < 2 || args[0] != "add" {
			return errors.New("usage: patchready user add NAME --role viewer|operator|admin")
		}
		name := args[1]
		role := fs.String("role", "viewer", "viewer, operator or admin")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		password, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && password == "" {
			return errors.New("give the password on standard input")
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		if _, err := db.CreateUser(ctx, "cli", name, strings.TrimRight(password, "\r\n"), store.Role(*role)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s added (%s)\n", name, *role)
		return nil

	case "token":
		if len(args) < 2 || args[0] != "create" {
			return errors.New("usage: patchready token create NAME [--role reporter|viewer|operator|admin]")
		}
		tokenRole := fs.String("role", "reporter", "what the token may do: viewer, reporter (facts), operator (actions), admin (webhooks)")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		secret, err := db.CreateTokenWithRole(ctx, "cli", args[1], store.Role(*tokenRole))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		return nil

	case "backup":
		if len(args) < 1 {
			return errors.New("usage: patchready backup FILE")
		}
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Backup(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written to %s\n", args[0])
		return nil

	case "restore":
		if len(args) < 1 || strings.HasPrefix(args[0], "-") {
			return errors.New("usage: patchready restore BACKUP [--db data/patchready.db] [--force]")
		}
		force := fs.Bool("force", false, "replace an existing database (never one a server is using)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := store.Restore(ctx, args[0], *dbPath, *force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored %s into %s; start the server on it\n", args[0], *dbPath)
		return nil

	case "probe":
		// For container health checks: the image has no curl.
		if len(args) != 1 {
			return errors.New("usage: patchready probe URL")
		}
		client := &http.Client{Timeout: 5 * time.Second}
		res, err := client.Get(args[0])
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return fmt.Errorf("%s answered %s", args[0], res.Status)
		}
		return nil

	case "migrate":
		if err := fs.Parse(args); err != nil {
			return err
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "schema at version %d\n", v)
		return nil

	case "agent":
		server := fs.String("server", getenv("PATCHREADY_SERVER"), "the dashboard's URL")
		token := fs.String("token", getenv("PATCHREADY_TOKEN"), "an API token (its name is the facts' source)")
		interval := fs.Duration("interval", 15*time.Minute, "time between reports")
		once := fs.Bool("once", false, "report once and exit; non-zero with the server's message when refused")
		name := fs.String("name", "", "the endpoint's name (default: the host name)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		cfg := agent.Config{Server: *server, Token: *token, Interval: *interval, Name: *name,
			Registry: agent.HostRegistry(), Log: slog.New(slog.NewTextHandler(stderr, nil))}
		if *once {
			f, err := agent.Once(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "reported %s: %s, %d drive(s)\n", f.Name, f.OSFamily, len(f.Drives))
			return nil
		}
		if *interval < time.Minute {
			return errors.New("--interval must be at least 1m")
		}
		return agent.Run(ctx, cfg)

	case "help", "-h", "--help":
		fmt.Fprintf(stdout, usage, version)
		return nil
	}
	return fmt.Errorf("unknown command %q (see patchready help)", cmd)
}

// firstStart prepares an empty database: the admin user and, unless turned
// off, a demo estate.
func firstStart(ctx context.Context, db *store.DB, password string, demo bool, demoSize int, stdout io.Writer) error {
	has, err := db.HasUsers(ctx)
	if err != nil || has {
		return err
	}
	generated := password == ""
	if generated {
		b := make([]byte, 12)
		rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if _, err := db.CreateUser(ctx, "setup", "admin", password, store.Admin); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		fmt.Fprintf(stdout, "created user admin with password %s (shown once; set PATCHREADY_ADMIN_PASSWORD to choose it)\n", password)
	}
	if demo {
		start := time.Now()
		if err := db.SeedDemo(ctx, demoSize); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		// 90 days of made-up history, marked as such, so the trend chart
		// has something to show on the first day.
		if err := db.SeedHistory(ctx, 90); err != nil {
			return fmt.Errorf("seed history: %w", err)
		}
		fmt.Fprintf(stdout, "seeded a demo estate of %d endpoints in %s\n", demoSize, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// serve runs the web server until ctx ends, then shuts down gracefully.
//
// tuneGC sets how much garbage may pile up between collections. The live
// heap is mostly the read model (~20 MiB at 100K endpoints, ~130 MiB at a
// million, ~170 MiB once sorted several ways), and a page allocates a few
// hundred KiB. Go's default (collect when the heap has doubled) put a
// million endpoints at over 500 MiB resident; a fixed room does not grow
// with the estate: the heap may grow by gcRoom over what is live (at most
// 4×, at least a quarter), with a memory limit of one and a half times that
// room as a backstop, which also makes the runtime hand idle pages back;
// serve looks at the live heap again every 15 s. While the read model is
// built (no live heap to measure yet) the collector runs at 25 % growth:
// the build's peak is the server's. Measured at a million endpoints, 300
// swept URLs twice each way: with 64 MiB of room a collection every ~0.3
// s, median 1.75–1.82 ms, peak 293–304 MiB resident; with 48 MiB, median
// 1.91–2.19 ms, peak 271–283 MiB; at Go's default, median 2.2 ms (the
// machine's noise), peak 545 MiB. GOGC or GOMEMLIMIT, when set, decide.
func tuneGC(getenv func(string) string, live uint64, building bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	if building {
		debug.SetGCPercent(25)
		debug.SetMemoryLimit(math.MaxInt64)
		return
	}
	debug.SetGCPercent(int(min(max(100*gcRoom/max(live, 1), 25), 400)))
	debug.SetMemoryLimit(int64(live + gcRoom*3/2))
}

// gcRoom is how far the heap may grow past what is live (see tuneGC):
// between the two rooms measured there.
const gcRoom = 56 << 20

// keepGCRoom calls tune with the live heap now and every 15 s until ctx ends.
func keepGCRoom(ctx context.Context, tune func(live uint64, building bool)) {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for {
		rtmetrics.Read(sample)
		if sample[0].Value.Kind() == rtmetrics.KindUint64 {
			tune(sample[0].Value.Uint64(), false)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
	}
}

// options are serve's settings beyond the web server's own.
type options struct {
	every       time.Duration
	metricsAddr string
	logFormat   string
	tuneGC      func(live uint64, building bool) // called before and after the read model is built
}

func serve(ctx context.Context, db *store.DB, addr string, cfg web.Config, opt options, stdout io.Writer) error {
	var handler slog.Handler = slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo})
	if opt.logFormat == "json" {
		handler = slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	log := slog.New(handler)
	every := opt.every
	if cfg.SessionKey == "" {
		var err error
		cfg.SessionKey, err = db.SessionKey(ctx, func() string { b := make([]byte, 32); rand.Read(b); return base64.StdEncoding.EncodeToString(b) })
		if err != nil {
			return err
		}
	}
	cfg.Log = log
	app := web.New(db, cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if opt.metricsAddr != "" {
		mln, err := net.Listen("tcp", opt.metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := &http.Server{Handler: metrics.Handler(db), ReadHeaderTimeout: 10 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close()
		log.Info("metrics are served", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	// The Servers list's read model is built in the background; until it
	// is, /readyz says not ready and the first list request waits for it.
	// Building makes garbage several times what it keeps; collecting it
	// at 25 % growth keeps the peak, the server's, lower (see tuneGC).
	opt.tuneGC(0, true)
	go func() {
		start := time.Now()
		err := db.BuildReadModel(bg)
		// Collect the building's garbage, so that the collector's room is
		// sized by what is live. Not debug.FreeOSMemory: memory handed back
		// to the system is faulted in again page by page as pages allocate
		// (at a million endpoints that made a page 3.6 → 5.9 ms for the next
		// few hundred requests); the runtime's scavenger returns what stays
		// unused.
		runtime.GC()
		switch {
		case err != nil && bg.Err() != nil:
			return
		case err != nil: // the first list request builds it again
			log.Error("building the read model", "err", err)
		default:
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			log.Info("read model built", "seconds", math.Round(time.Since(start).Seconds()*1000)/1000, "heap_mib", m.HeapAlloc>>20)
		}
		// Also after a failed build: the collector leaves the building's pace.
		keepGCRoom(bg, opt.tuneGC)
	}()
	go web.Clock(bg, db, every, log)
	// Webhooks leave from their queue in the database, off every request.
	base := os.Getenv("PATCHREADY_BASE_URL")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	go (&notify.Sender{DB: db, Client: notify.Client(), BaseURL: base, Log: log}).Run(bg, 2*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("patchready is serving", "url", "http://"+ln.Addr().String(), "db", db.Path(), "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	return srv.Shutdown(shutdown)
}

// progressBar draws progress on a terminal, and nothing elsewhere.
func progressBar(w io.Writer, start time.Time) store.Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(done, total int) {
		const width = 30
		filled := done * width / total
		rate := float64(done) / time.Since(start).Seconds()
		fmt.Fprintf(w, "\r[%s%s] %d/%d  %.0f/s ", strings.Repeat("█", filled), strings.Repeat("·", width-filled), done, total, rate)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

// oidcConfig reads single sign-on's settings from the environment; nil
// when no issuer is set.
func oidcConfig(getenv func(string) string) (*web.OIDCConfig, error) {
	issuer := getenv("PATCHREADY_OIDC_ISSUER")
	if issuer == "" {
		return nil, nil
	}
	list := func(v string) []string {
		var out []string
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
		return out
	}
	cfg := &web.OIDCConfig{Issuer: issuer, ClientID: getenv("PATCHREADY_OIDC_CLIENT_ID"), ClientSecret: getenv("PATCHREADY_OIDC_CLIENT_SECRET"),
		RedirectURL: getenv("PATCHREADY_OIDC_REDIRECT_URL"), RoleClaim: getenv("PATCHREADY_OIDC_ROLE_CLAIM"),
		AdminGroups: list(getenv("PATCHREADY_OIDC_ADMIN_GROUPS")), OperatorGroups: list(getenv("PATCHREADY_OIDC_OPERATOR_GROUPS"))}
	if cfg.ClientID == "" {
		return nil, errors.New("PATCHREADY_OIDC_ISSUER is set but PATCHREADY_OIDC_CLIENT_ID is not")
	}
	if cfg.RedirectURL == "" {
		base := getenv("PATCHREADY_BASE_URL")
		if base == "" {
			return nil, errors.New("single sign-on needs PATCHREADY_OIDC_REDIRECT_URL or PATCHREADY_BASE_URL (the address users reach the dashboard at)")
		}
		cfg.RedirectURL = strings.TrimRight(base, "/") + "/auth/oidc/callback"
	}
	return cfg, nil
}
