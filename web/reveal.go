package web

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// reveals keeps a new token's secret for the one page that shows it. The
// form that creates a token redirects (so reloading the page cannot create
// another) and the page it lands on takes the secret out: it is shown once
// and never stored. Entries live ten minutes and the map is bounded.
type reveals struct {
	mu sync.Mutex
	m  map[string]reveal
}

type reveal struct {
	name, secret string
	until        time.Time
}

const (
	maxReveals = 256
	revealTTL  = 10 * time.Minute
)

// put keeps a secret and returns the key that takes it out.
func (r *reveals) put(name, secret string, now time.Time) string {
	var b [16]byte
	rand.Read(b[:])
	key := hex.EncodeToString(b[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]reveal{}
	}
	if len(r.m) >= maxReveals {
		oldest := ""
		for k, v := range r.m {
			if now.After(v.until) {
				delete(r.m, k)
			} else if oldest == "" || v.until.Before(r.m[oldest].until) {
				oldest = k
			}
		}
		if len(r.m) >= maxReveals {
			delete(r.m, oldest)
		}
	}
	r.m[key] = reveal{name: name, secret: secret, until: now.Add(revealTTL)}
	return key
}

// take returns a kept secret once.
func (r *reveals) take(key string, now time.Time) (name, secret string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[key]
	delete(r.m, key)
	if !ok || now.After(v.until) {
		return "", "", false
	}
	return v.name, v.secret, true
}
