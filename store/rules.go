package store

import (
	"fmt"
	"strings"
	"time"
)

// Settings are the thresholds the rules use; administrators change them.
type Settings struct {
	LowDiskPct      float64       // a drive at or above this share used raises the warning
	DisconnectAfter time.Duration // WEB endpoints silent for longer are disconnected
	WSUSAfter       time.Duration // Windows endpoints not reporting to WSUS for longer have a problem
	StaleAfter      time.Duration // endpoints no source reported on for longer have stale facts
	DigestLead      time.Duration // a schedule's window digest goes out this long before the window
}

// DefaultSettings are the thresholds of a new installation.
var DefaultSettings = Settings{LowDiskPct: 90, DisconnectAfter: 60 * time.Minute, WSUSAfter: 24 * time.Hour, StaleAfter: 24 * time.Hour,
	DigestLead: 24 * time.Hour}

// State is what the dashboard itself owns about an endpoint.
type State struct {
	ReportedAt    time.Time // the last report of any fact by a source; zero: never
	RebootAckedAt *time.Time
	Suspension    *Suspension
	Plan          Plan
}

// Readiness is everything the rules derive for one endpoint.
type Readiness struct {
	Exemptions []Exemption // precedence order; Since is left zero here
	Impact     Impact
	MaxDiskPct *float64 // nil without drives
	LowDisk    bool
	StaleFacts bool // no source reported on it within the stale threshold
	// RecheckAt is the next moment the result could change with no new facts,
	// because a clock threshold will be crossed; zero when none lies ahead.
	RecheckAt time.Time
}

// Primary is the first exemption in precedence order, or "".
func (r Readiness) Primary() Code {
	if len(r.Exemptions) == 0 {
		return ""
	}
	return r.Exemptions[0].Code
}

// Codes lists the exemption codes.
func (r Readiness) Codes() []Code {
	cs := make([]Code, len(r.Exemptions))
	for i, e := range r.Exemptions {
		cs[i] = e.Code
	}
	return cs
}

// Evaluate applies the readiness rules of the design, in precedence order, to
// one endpoint. It is pure: the clock comes in as now.
func Evaluate(f *Facts, st State, set Settings, now time.Time) Readiness {
	var r Readiness
	raise := func(c Code, evidence string, args ...any) {
		r.Exemptions = append(r.Exemptions, Exemption{Code: c, Evidence: fmt.Sprintf(evidence, args...)})
	}
	recheck := func(t time.Time) {
		if t.After(now) && (r.RecheckAt.IsZero() || t.Before(r.RecheckAt)) {
			r.RecheckAt = t
		}
	}
	is := func(b *bool, v bool) bool { return b != nil && *b == v }
	eq := func(s *string, v string) bool { return s != nil && *s == v }
	windows := eq(f.OSFamily, "windows")

	r.MaxDiskPct, r.LowDisk = diskUse(f.Drives, set.LowDiskPct)
	// A warning, like low disk: a silent source changes no impact, but
	// everything the dashboard says about the endpoint may be out of date.
	if !st.ReportedAt.IsZero() && set.StaleAfter > 0 {
		deadline := st.ReportedAt.Add(set.StaleAfter)
		r.StaleFacts = now.After(deadline)
		if !r.StaleFacts {
			recheck(deadline.Add(time.Second))
		}
	}

	// 1. Not managed: nothing else can be known.
	if is(f.Managed, false) {
		raise(UnknownEndpoint, "managed = false (reported by the vulnerability scanner only)")
		r.Impact = ImpactOf(r.Codes())
		return r
	}
	// 2.
	if is(f.PlatformSupported, false) {
		raise(PatchingInapplicable, "platform_supported = false (%s)", deref(f.OSName, "unknown OS"))
	}
	// 3. Power. Any known state other than on hides the connectivity rules
	// (4–9): they would only be consequences of the machine being down.
	poweredOn := true
	if f.Power != nil {
		switch *f.Power {
		case "off":
			raise(PoweredOff, "power = off")
		case "suspended":
			raise(PowerSuspended, "power = suspended")
		case "unknown":
			raise(PowerUnknown, "power = unknown")
		}
		poweredOn = *f.Power == "on"
	}
	if poweredOn {
		// 4, 5. No connector: untested unless credentials are known good.
		if eq(f.Connector, "none") {
			if eq(f.Credentials, "valid") {
				raise(ConnectorNotInstalled, "connector = none, credentials = valid")
			} else {
				raise(UntestedEndpoint, "connector = none, credentials = %s", deref(f.Credentials, "not known"))
			}
		}
		// 6.
		if eq(f.Credentials, "invalid") {
			raise(InvalidCredentials, "credentials = invalid")
		}
		// 7.
		if is(f.Reachable, false) {
			raise(NotReachable, "reachable = false")
		}
		// 8.
		switch {
		case (eq(f.Protocol, "ssh") || eq(f.Protocol, "smb")) && eq(f.Connection, "failed"):
			raise(Disconnected, "%s session failed", strings.ToUpper(*f.Protocol))
		case eq(f.Protocol, "web") && f.LastContactAt == nil:
			raise(Disconnected, "WEB agent never checked in")
		case eq(f.Protocol, "web"):
			deadline := f.LastContactAt.Add(set.DisconnectAfter)
			if now.After(deadline) {
				raise(Disconnected, "last check-in %s, limit %s", f.LastContactAt.UTC().Format(time.RFC3339), set.DisconnectAfter)
			} else {
				recheck(deadline.Add(time.Second))
			}
		}
		// 9. Only an endpoint known to answer has a connector that is
		// down rather than a machine that is unreachable.
		if eq(f.Connector, "stopped") && is(f.Reachable, true) {
			raise(ConnectorDown, "connector = stopped while the endpoint answers")
		}
	}
	// 10, 11.
	if windows && f.PSExecutionPolicy != nil && (*f.PSExecutionPolicy == "AllSigned" || *f.PSExecutionPolicy == "Restricted") {
		raise(UnsupportedPSExecutionPolicy, "execution policy = %s, needs RemoteSigned or looser", *f.PSExecutionPolicy)
	}
	if windows && f.PSVersion != nil && *f.PSVersion <= 2 {
		raise(UnsupportedPSVersion, "PowerShell %d, needs 3 or later", *f.PSVersion)
	}
	// 12.
	if is(f.VMFrozen, true) {
		raise(PendingUserAction, "vm_frozen = true")
	}
	// 13.
	if RebootDue(f.RebootRequiredSince, st.RebootAckedAt) {
		raise(PendingRebootSuspension, "reboot required since %s, not acknowledged", f.RebootRequiredSince.UTC().Format(time.RFC3339))
	}
	// 14.
	if is(f.AdvisoriesPresent, false) {
		raise(AdvisoriesNotExist, "advisories_present = false")
	}
	if is(f.PackagesPresent, false) {
		raise(PackagesNotExist, "packages_present = false")
	}
	if is(f.RepositoriesOK, false) {
		raise(WrongRepositoriesConfig, "repositories_ok = false")
	}
	if is(f.SubscriptionValid, false) {
		raise(SubscriptionMissing, "subscription_valid = false")
	}
	// The WSUS check is a consequence too while power is not on.
	if windows && poweredOn && f.WSUSLastReportAt != nil {
		deadline := f.WSUSLastReportAt.Add(set.WSUSAfter)
		if now.After(deadline) {
			raise(WSUSCommunicationProblems, "last WSUS report %s, limit %s", f.WSUSLastReportAt.UTC().Format(time.RFC3339), set.WSUSAfter)
		} else {
			recheck(deadline.Add(time.Second))
		}
	}
	// 15.
	if s := st.Suspension; s != nil {
		if s.ActiveAt(now) {
			if s.CyclesRemaining != nil {
				raise(SuspendedByUser, "suspended for %d more maintenance window(s): %s", *s.CyclesRemaining, s.Reason)
			} else {
				raise(SuspendedByUser, "suspended until %s: %s", s.Until.UTC().Format(time.RFC3339), s.Reason)
			}
		}
		if s.From != nil {
			recheck(*s.From)
		}
		if s.Until != nil {
			recheck(*s.Until)
		}
	}
	// 16. Maintenance, unless patching does not apply at all: such an
	// endpoint is never scheduled.
	p := st.Plan
	inapplicable := is(f.PlatformSupported, false)
	switch {
	case inapplicable:
	case !p.Assigned:
		raise(MaintenanceWindowRequired, "no schedule assigned")
	case p.Entries == 0:
		raise(NoMaintenanceEntry, "schedule has no entries")
	case !p.OpenEnded && !p.LastEnd.After(now):
		raise(MaintenanceWindowExpired, "last window ended %s", p.LastEnd.UTC().Format(time.RFC3339))
	case p.FirstStart.After(now):
		raise(AwaitingMaintenanceWindow, "first window opens %s", p.FirstStart.UTC().Format(time.RFC3339))
		recheck(p.FirstStart)
	case is(f.LastWindowTimedOut, true):
		raise(MaintenanceWindowTimeout, "last window timed out")
	}
	if p.Assigned && p.Entries > 0 && !p.OpenEnded && !inapplicable {
		recheck(p.LastEnd)
	}
	r.Impact = ImpactOf(r.Codes())
	return r
}

// diskUse is the fullest drive's share in use and whether any drive is low.
func diskUse(drives []Drive, threshold float64) (*float64, bool) {
	var max *float64
	low := false
	for _, d := range drives {
		if d.TotalBytes <= 0 {
			continue
		}
		if p := d.UsedPct(); max == nil || p > *max {
			max = &p
		}
		low = low || d.Low(threshold)
	}
	return max, low
}

// RebootDue tells whether a reboot was asked for and not acknowledged at or
// after the time it was asked for.
func RebootDue(required, acknowledged *time.Time) bool {
	return required != nil && (acknowledged == nil || acknowledged.Before(*required))
}

func deref(s *string, fallback string) string {
	if s == nil {
		return fallback
	}
	return *s
}
