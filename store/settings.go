package store

import (
	"context"
	"fmt"
	"time"
)

// UpdateSettings changes the thresholds and asks the next Tick to
// re-evaluate the estate, which at a million endpoints takes a while.
func (db *DB) UpdateSettings(ctx context.Context, actor string, s Settings) error {
	var d []FieldError
	// Written as "not within" so that NaN, which compares false with
	// everything, is refused too.
	if !(s.LowDiskPct >= 1 && s.LowDiskPct <= 100) {
		d = append(d, FieldError{Field: "low_disk_pct", Message: "The threshold is a share from 1 to 100 %."})
	}
	if s.DisconnectAfter < time.Minute || s.DisconnectAfter > 30*24*time.Hour {
		d = append(d, FieldError{Field: "disconnect_after_minutes", Message: "Give from 1 minute to 30 days (43,200 minutes)."})
	}
	if s.WSUSAfter < time.Hour || s.WSUSAfter > 365*24*time.Hour {
		d = append(d, FieldError{Field: "wsus_after_hours", Message: "Give from 1 hour to 365 days (8,760 hours)."})
	}
	if s.StaleAfter < time.Hour || s.StaleAfter > 365*24*time.Hour {
		d = append(d, FieldError{Field: "stale_after_hours", Message: "Give from 1 hour to 365 days (8,760 hours)."})
	}
	if s.DigestLead < time.Hour || s.DigestLead > 30*24*time.Hour {
		d = append(d, FieldError{Field: "digest_lead_hours", Message: "Give from 1 hour to 30 days (720 hours)."})
	}
	if len(d) > 0 {
		return &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	old := db.Settings()
	err := db.update(ctx, func(t *txn) error {
		for k, v := range map[string]float64{keyLowDisk: s.LowDiskPct, keyDisconnect: s.DisconnectAfter.Minutes(), keyWSUS: s.WSUSAfter.Hours(),
			keyStale: s.StaleAfter.Hours(), keyDigestLead: s.DigestLead.Hours()} {
			if _, err := t.Exec(`INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)`, k, fmt.Sprint(v)); err != nil {
				return err
			}
		}
		return t.audit(actor, "settings", fmt.Sprintf("low disk %g%% → %g%%, disconnect %s → %s, WSUS %s → %s, stale facts %s → %s, digest lead %s → %s",
			old.LowDiskPct, s.LowDiskPct, old.DisconnectAfter, s.DisconnectAfter, old.WSUSAfter, s.WSUSAfter, old.StaleAfter, s.StaleAfter, old.DigestLead, s.DigestLead), nil)
	})
	if err != nil {
		return err
	}
	db.mu.Lock()
	db.settings = s
	db.mu.Unlock()
	db.RequestFullPass()
	return nil
}
