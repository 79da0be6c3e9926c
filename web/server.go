// Package web is patchready's HTTP side: the routes (all in routes.go), the
// middleware for sessions, CSRF, sign-in and roles, the handlers of the HTML
// screens and of the JSON API, and the one error handler.
package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"patchready/store"
)

// Config holds what the server needs besides the database.
type Config struct {
	// SessionKey signs and encrypts session cookies; any length, it is
	// stretched into the two keys gorilla/sessions wants.
	SessionKey string
	// IdleTimeout and MaxAge end a session after inactivity, or in any case.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	Log         *slog.Logger
	// Now is the clock for session expiry and sign-in throttling.
	Now func() time.Time
	// TrustedProxies may set the client address with X-Forwarded-For;
	// from anyone else the header is ignored.
	TrustedProxies []*net.IPNet
	// MaxImportBytes bounds a CSV upload (default 64 MiB: 100,000 rows of
	// facts fit well within it).
	MaxImportBytes int64
	// OIDC, when set, offers single sign-on beside password sign-in.
	OIDC *OIDCConfig
}

// Server is the patchready web application.
type Server struct {
	db       *store.DB
	log      *slog.Logger
	cfg      Config
	echo     *echo.Echo
	sessions *sessions.CookieStore
	throttle *throttle
	reveals  reveals
	sso      *sso // nil without single sign-on
}

// New builds the server and registers every route.
func New(db *store.DB, cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 8 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxImportBytes == 0 {
		cfg.MaxImportBytes = 64 << 20
	}
	hash := sha256.Sum256([]byte("hash:" + cfg.SessionKey))
	enc := sha256.Sum256([]byte("enc:" + cfg.SessionKey))
	cs := sessions.NewCookieStore(hash[:], enc[:])
	cs.Options = &sessions.Options{Path: "/", MaxAge: int(cfg.MaxAge.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode}
	s := &Server{db: db, log: cfg.Log, cfg: cfg, echo: echo.New(), sessions: cs, throttle: newThrottle(maxThrottleNames)}
	if cfg.OIDC != nil {
		if cfg.OIDC.RoleClaim == "" {
			cfg.OIDC.RoleClaim = "groups"
		}
		s.sso = &sso{cfg: *cfg.OIDC}
	}
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		// Echo trusts private and loopback ranges by default; only the
		// configured ones are trusted here.
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		s.echo.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s
}

// ServeHTTP makes the server an http.Handler. HEAD (monitoring, link
// checkers) is answered as GET: the routes see a GET, and net/http, which
// holds the original request, sends the headers without the body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		get := *r
		get.Method = http.MethodGet
		r = &get
	}
	s.echo.ServeHTTP(w, r)
}

// Clock re-evaluates, every interval until ctx ends, what the passing of
// time changes: suspension cycles used up by ended windows, and endpoints
// whose clock thresholds have been reached. It runs once at start.
func Clock(ctx context.Context, db *store.DB, interval time.Duration, log *slog.Logger) {
	var mu sync.Mutex
	tick := func() {
		mu.Lock()
		defer mu.Unlock()
		// A bug in one pass must not end the server: it is logged, and the
		// next tick tries again.
		defer func() {
			if r := recover(); r != nil {
				log.Error("re-evaluation panicked", "panic", fmt.Sprint(r))
			}
		}()
		if err := db.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Error("re-evaluation", "err", err)
		}
	}
	tick()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick()
		}
	}
}

// ParseCIDRs reads a comma-separated list of CIDRs; a bare address stands
// for itself alone.
func ParseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				bits = 32
			}
			part = fmt.Sprintf("%s/%d", part, bits)
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", part)
		}
		out = append(out, n)
	}
	return out, nil
}
