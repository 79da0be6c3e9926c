package web

import (
	"sync"
	"time"
)

// throttle slows down password guessing without locking owners out.
//
//   - A user name tried from one address: 5 failures within 15 minutes
//     block that pair, so a guesser at one address stops there.
//   - One address: 20 failures within 15 minutes block it, whatever names
//     it tries.
//   - A user name from anywhere: from the 5th failure on, each attempt must
//     wait a growing delay (1 s, 2 s, 4 s … at most a minute) after the last
//     failure. A guesser with many addresses gets about one try a minute;
//     the owner, from an address of their own, waits at most that minute
//     instead of being locked out for a quarter of an hour.
//
// Its memory is bounded: entries expire with their window, and when the
// table is full the stalest entry makes room for a new one.
type throttle struct {
	mu      sync.Mutex
	entries map[string]*failures
	max     int
}

type failures struct {
	n           int
	first, last time.Time
}

const (
	throttleWindow   = 15 * time.Minute
	maxFailsPerPair  = 5
	maxFailsPerAddr  = 20
	slowAfterFails   = 5
	maxUserDelay     = time.Minute
	maxThrottleNames = 20_000
	// maxNameInKey cuts user names in keys and logs: no real user name is
	// longer (store allows 64), and a long one must not cost memory.
	maxNameInKey = 64
)

func newThrottle(max int) *throttle { return &throttle{entries: map[string]*failures{}, max: max} }

func pairKey(user, addr string) string { return "pair:" + user + "\x00" + addr }
func userKey(user string) string       { return "user:" + user }
func addrKey(addr string) string       { return "addr:" + addr }

// wait is how long a sign-in for user from addr must wait before it may
// try; 0 when it may try now.
func (t *throttle) wait(user, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.live(pairKey(user, addr), now); f != nil && f.n >= maxFailsPerPair {
		return f.first.Add(throttleWindow).Sub(now)
	}
	if f := t.live(addrKey(addr), now); f != nil && f.n >= maxFailsPerAddr {
		return f.first.Add(throttleWindow).Sub(now)
	}
	if f := t.live(userKey(user), now); f != nil && f.n >= slowAfterFails {
		delay := min(time.Second<<min(f.n-slowAfterFails, 6), maxUserDelay)
		if left := f.last.Add(delay).Sub(now); left > 0 {
			return left
		}
	}
	return 0
}

// live returns the entry of key if its window has not passed.
func (t *throttle) live(key string, now time.Time) *failures {
	f := t.entries[key]
	if f != nil && now.Sub(f.first) >= throttleWindow {
		delete(t.entries, key)
		return nil
	}
	return f
}

// fail records a failed sign-in.
func (t *throttle) fail(user, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, key := range []string{pairKey(user, addr), addrKey(addr), userKey(user)} {
		f := t.live(key, now)
		if f == nil {
			t.makeRoom(now)
			f = &failures{first: now}
			t.entries[key] = f
		}
		f.n++
		f.last = now
	}
}

// succeed forgets the failures of a user name at an address; those of the
// name elsewhere stay, so a guesser elsewhere is still slowed.
func (t *throttle) succeed(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, pairKey(user, addr))
}

// makeRoom keeps the table under its size: first by dropping expired
// entries, else by dropping the one whose last failure is oldest.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.entries) < t.max {
		return
	}
	var stalest string
	for k, f := range t.entries {
		if now.Sub(f.first) >= throttleWindow {
			delete(t.entries, k)
		} else if stalest == "" || f.last.Before(t.entries[stalest].last) {
			stalest = k
		}
	}
	if len(t.entries) >= t.max {
		delete(t.entries, stalest)
	}
}

func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
