package store

import (
	"reflect"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// healthy returns facts and state of an endpoint no rule objects to.
func healthy() (Facts, State) {
	return Facts{
			Name: "web-01", OSFamily: ptr("linux"), Managed: ptr(true), PlatformSupported: ptr(true),
			Protocol: ptr("ssh"), Credentials: ptr("valid"), Connector: ptr("running"), Reachable: ptr(true),
			Connection: ptr("ok"), Power: ptr("on"), VMFrozen: ptr(false), AdvisoriesPresent: ptr(true),
			PackagesPresent: ptr(true), RepositoriesOK: ptr(true), SubscriptionValid: ptr(true),
			LastWindowTimedOut: ptr(false),
		}, State{Plan: Plan{Assigned: true, Entries: 1,
			FirstStart: now.Add(-24 * time.Hour), LastEnd: now.Add(30 * 24 * time.Hour)}}
}

func TestEvaluateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *Facts, s *State)
		want   []Code
	}{
		{"healthy endpoint is patchable", func(f *Facts, s *State) {}, nil},
		{"all facts unknown raise only the missing schedule", func(f *Facts, s *State) { *f = Facts{Name: "x"}; s.Plan = Plan{} }, []Code{MaintenanceWindowRequired}},
		{"1 unmanaged stops evaluation", func(f *Facts, s *State) {
			f.Managed = ptr(false)
			f.Power = ptr("off")
			s.Plan = Plan{}
		}, []Code{UnknownEndpoint}},
		{"2 unsupported platform", func(f *Facts, s *State) { f.PlatformSupported = ptr(false) }, []Code{PatchingInapplicable}},
		{"3 powered off", func(f *Facts, s *State) { f.Power = ptr("off") }, []Code{PoweredOff}},
		{"3 power suspended", func(f *Facts, s *State) { f.Power = ptr("suspended") }, []Code{PowerSuspended}},
		{"3 power unknown", func(f *Facts, s *State) { f.Power = ptr("unknown") }, []Code{PowerUnknown}},
		{"3 power off skips rules 4-9", func(f *Facts, s *State) {
			f.Power = ptr("off")
			f.Connector = ptr("none")
			f.Credentials = ptr("invalid")
			f.Reachable = ptr(false)
			f.Connection = ptr("failed")
		}, []Code{PoweredOff}},
		{"3 power off does not skip rules 10-16", func(f *Facts, s *State) {
			f.Power = ptr("off")
			f.VMFrozen = ptr(true)
			f.SubscriptionValid = ptr(false)
		}, []Code{PoweredOff, PendingUserAction, SubscriptionMissing}},
		{"3 absent power skips nothing", func(f *Facts, s *State) { f.Power = nil; f.Reachable = ptr(false) }, []Code{NotReachable}},
		{"4 no connector, credentials unknown", func(f *Facts, s *State) { f.Connector = ptr("none"); f.Credentials = ptr("unknown") }, []Code{UntestedEndpoint}},
		{"4 no connector, credentials absent", func(f *Facts, s *State) { f.Connector = ptr("none"); f.Credentials = nil }, []Code{UntestedEndpoint}},
		{"4+6 no connector, credentials invalid", func(f *Facts, s *State) { f.Connector = ptr("none"); f.Credentials = ptr("invalid") }, []Code{UntestedEndpoint, InvalidCredentials}},
		{"5 no connector, credentials valid", func(f *Facts, s *State) { f.Connector = ptr("none") }, []Code{ConnectorNotInstalled}},
		{"6 invalid credentials", func(f *Facts, s *State) { f.Credentials = ptr("invalid") }, []Code{InvalidCredentials}},
		{"7 not reachable", func(f *Facts, s *State) { f.Reachable = ptr(false) }, []Code{NotReachable}},
		{"8 ssh session failed", func(f *Facts, s *State) { f.Connection = ptr("failed") }, []Code{Disconnected}},
		{"8 smb session failed", func(f *Facts, s *State) { f.Protocol = ptr("smb"); f.Connection = ptr("failed") }, []Code{Disconnected}},
		{"8 web ignores the session result", func(f *Facts, s *State) {
			f.Protocol = ptr("web")
			f.Connection = ptr("failed")
			f.LastContactAt = ptr(now.Add(-time.Minute))
		}, nil},
		{"8 web never checked in", func(f *Facts, s *State) { f.Protocol = ptr("web") }, []Code{Disconnected}},
		{"8 web silent exactly the threshold is still connected", func(f *Facts, s *State) {
			f.Protocol = ptr("web")
			f.LastContactAt = ptr(now.Add(-60 * time.Minute))
		}, nil},
		{"8 web silent past the threshold", func(f *Facts, s *State) {
			f.Protocol = ptr("web")
			f.LastContactAt = ptr(now.Add(-61 * time.Minute))
		}, []Code{Disconnected}},
		{"9 connector stopped, reachable", func(f *Facts, s *State) { f.Connector = ptr("stopped") }, []Code{ConnectorDown}},
		{"9 connector stopped, unreachable is not connector-down", func(f *Facts, s *State) {
			f.Connector = ptr("stopped")
			f.Reachable = ptr(false)
		}, []Code{NotReachable}},
		{"10 windows AllSigned", func(f *Facts, s *State) { f.OSFamily = ptr("windows"); f.PSExecutionPolicy = ptr("AllSigned") }, []Code{UnsupportedPSExecutionPolicy}},
		{"10 windows Restricted", func(f *Facts, s *State) { f.OSFamily = ptr("windows"); f.PSExecutionPolicy = ptr("Restricted") }, []Code{UnsupportedPSExecutionPolicy}},
		{"10 windows RemoteSigned is fine", func(f *Facts, s *State) { f.OSFamily = ptr("windows"); f.PSExecutionPolicy = ptr("RemoteSigned") }, nil},
		{"10 linux ignores the policy", func(f *Facts, s *State) { f.PSExecutionPolicy = ptr("Restricted") }, nil},
		{"11 windows PowerShell 2", func(f *Facts, s *State) { f.OSFamily = ptr("windows"); f.PSVersion = ptr(2) }, []Code{UnsupportedPSVersion}},
		{"11 windows PowerShell 3 is fine", func(f *Facts, s *State) { f.OSFamily = ptr("windows"); f.PSVersion = ptr(3) }, nil},
		{"11 linux ignores the version", func(f *Facts, s *State) { f.PSVersion = ptr(1) }, nil},
		{"12 frozen VM", func(f *Facts, s *State) { f.VMFrozen = ptr(true) }, []Code{PendingUserAction}},
		{"13 reboot pending", func(f *Facts, s *State) { f.RebootRequiredSince = ptr(now.Add(-time.Hour)) }, []Code{PendingRebootSuspension}},
		{"13 reboot acknowledged before it was needed", func(f *Facts, s *State) {
			f.RebootRequiredSince = ptr(now.Add(-time.Hour))
			s.RebootAckedAt = ptr(now.Add(-2 * time.Hour))
		}, []Code{PendingRebootSuspension}},
		{"13 reboot acknowledged at the same moment", func(f *Facts, s *State) {
			f.RebootRequiredSince = ptr(now.Add(-time.Hour))
			s.RebootAckedAt = ptr(now.Add(-time.Hour))
		}, nil},
		{"14 advisories missing", func(f *Facts, s *State) { f.AdvisoriesPresent = ptr(false) }, []Code{AdvisoriesNotExist}},
		{"14 packages missing", func(f *Facts, s *State) { f.PackagesPresent = ptr(false) }, []Code{PackagesNotExist}},
		{"14 repositories wrong", func(f *Facts, s *State) { f.RepositoriesOK = ptr(false) }, []Code{WrongRepositoriesConfig}},
		{"14 subscription missing", func(f *Facts, s *State) { f.SubscriptionValid = ptr(false) }, []Code{SubscriptionMissing}},
		{"14 WSUS report exactly the threshold old is fine", func(f *Facts, s *State) {
			f.OSFamily = ptr("windows")
			f.WSUSLastReportAt = ptr(now.Add(-24 * time.Hour))
		}, nil},
		{"14 WSUS report past the threshold", func(f *Facts, s *State) {
			f.OSFamily = ptr("windows")
			f.WSUSLastReportAt = ptr(now.Add(-25 * time.Hour))
		}, []Code{WSUSCommunicationProblems}},
		{"14 WSUS ignored on linux", func(f *Facts, s *State) { f.WSUSLastReportAt = ptr(now.Add(-100 * time.Hour)) }, nil},
		{"15 suspended for cycles", func(f *Facts, s *State) { s.Suspension = &Suspension{CyclesRemaining: ptr(2), Reason: "freeze"} }, []Code{SuspendedByUser}},
		{"15 suspension with no cycles left", func(f *Facts, s *State) { s.Suspension = &Suspension{CyclesRemaining: ptr(0)} }, nil},
		{"15 suspended between dates", func(f *Facts, s *State) {
			s.Suspension = &Suspension{From: ptr(now.Add(-time.Hour)), Until: ptr(now.Add(time.Hour))}
		}, []Code{SuspendedByUser}},
		{"15 suspension starting now is active", func(f *Facts, s *State) {
			s.Suspension = &Suspension{From: ptr(now), Until: ptr(now.Add(time.Hour))}
		}, []Code{SuspendedByUser}},
		{"15 suspension ending now is over", func(f *Facts, s *State) {
			s.Suspension = &Suspension{From: ptr(now.Add(-time.Hour)), Until: ptr(now)}
		}, nil},
		{"15 future suspension is not active yet", func(f *Facts, s *State) {
			s.Suspension = &Suspension{From: ptr(now.Add(time.Hour)), Until: ptr(now.Add(2 * time.Hour))}
		}, nil},
		{"16 no schedule", func(f *Facts, s *State) { s.Plan = Plan{} }, []Code{MaintenanceWindowRequired}},
		{"16 schedule without entries", func(f *Facts, s *State) { s.Plan = Plan{Assigned: true} }, []Code{NoMaintenanceEntry}},
		{"16 every entry ended", func(f *Facts, s *State) { s.Plan.LastEnd = now.Add(-time.Minute) }, []Code{MaintenanceWindowExpired}},
		{"16 last entry ends exactly now: expired", func(f *Facts, s *State) { s.Plan.LastEnd = now }, []Code{MaintenanceWindowExpired}},
		{"16 first entry in the future", func(f *Facts, s *State) { s.Plan.FirstStart = now.Add(time.Hour) }, []Code{AwaitingMaintenanceWindow}},
		{"16 first entry starting now has started", func(f *Facts, s *State) { s.Plan.FirstStart = now }, nil},
		{"16 last window timed out", func(f *Facts, s *State) { f.LastWindowTimedOut = ptr(true) }, []Code{MaintenanceWindowTimeout}},
		{"precedence across rules", func(f *Facts, s *State) {
			f.OSFamily = ptr("windows")
			f.PlatformSupported = ptr(false)
			f.PSVersion = ptr(2)
			f.Credentials = ptr("invalid")
			f.RebootRequiredSince = ptr(now.Add(-time.Hour))
			s.Suspension = &Suspension{CyclesRemaining: ptr(1)}
			s.Plan = Plan{}
		}, []Code{PatchingInapplicable, InvalidCredentials, UnsupportedPSVersion, PendingRebootSuspension, SuspendedByUser}},
		// The amended rules (design rules 3, 9 and 16).
		{"9 connector stopped, reachable unknown is not connector-down", func(f *Facts, s *State) {
			f.Connector, f.Reachable = ptr("stopped"), nil
		}, nil},
		{"3 powered off skips the WSUS check", func(f *Facts, s *State) {
			f.OSFamily, f.Power = ptr("windows"), ptr("off")
			f.WSUSLastReportAt = ptr(now.Add(-30 * 24 * time.Hour))
		}, []Code{PoweredOff}},
		{"3 power unknown skips the WSUS check too", func(f *Facts, s *State) {
			f.OSFamily, f.Power = ptr("windows"), ptr("unknown")
			f.WSUSLastReportAt = ptr(now.Add(-30 * 24 * time.Hour))
		}, []Code{PowerUnknown}},
		{"16 skipped while patching-inapplicable: no schedule needed", func(f *Facts, s *State) {
			f.PlatformSupported = ptr(false)
			s.Plan = Plan{}
		}, []Code{PatchingInapplicable}},
		{"16 skipped while patching-inapplicable: an expired schedule says nothing", func(f *Facts, s *State) {
			f.PlatformSupported = ptr(false)
			s.Plan = Plan{Assigned: true, Entries: 1, FirstStart: now.Add(-60 * 24 * time.Hour), LastEnd: now.Add(-24 * time.Hour)}
		}, []Code{PatchingInapplicable}},
		{"16 an open-ended series never expires", func(f *Facts, s *State) {
			s.Plan = Plan{Assigned: true, Entries: 1, FirstStart: now.Add(-400 * 24 * time.Hour), OpenEnded: true}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := healthy()
			tt.change(&f, &s)
			got := Evaluate(&f, s, DefaultSettings, now)
			if !reflect.DeepEqual(got.Codes(), append([]Code{}, tt.want...)) && !(len(got.Codes()) == 0 && len(tt.want) == 0) {
				t.Fatalf("exemptions = %v, want %v", got.Codes(), tt.want)
			}
			if want := ImpactOf(tt.want); got.Impact != want {
				t.Errorf("impact = %v, want %v", got.Impact, want)
			}
			for _, e := range got.Exemptions {
				if e.Evidence == "" {
					t.Errorf("%s has no evidence", e.Code)
				}
			}
		})
	}
}

func TestImpactOf(t *testing.T) {
	tests := []struct {
		codes []Code
		want  Impact
	}{
		{nil, Patchable},
		{[]Code{SuspendedByUser}, TemporarilyCannotPatch},
		{[]Code{SuspendedByUser, PendingRebootSuspension}, CannotPatch},
		{[]Code{LowDiskSpace}, Patchable},
	}
	for _, tt := range tests {
		if got := ImpactOf(tt.codes); got != tt.want {
			t.Errorf("ImpactOf(%v) = %v, want %v", tt.codes, got, tt.want)
		}
	}
}

// TestCatalogImpacts pins every impact to the knowledge-base article.
func TestCatalogImpacts(t *testing.T) {
	temporary := map[Code]bool{Disconnected: true, ConnectorDown: true, NotReachable: true, InvalidCredentials: true,
		AwaitingMaintenanceWindow: true, MaintenanceWindowRequired: true, MaintenanceWindowExpired: true,
		NoMaintenanceEntry: true, MaintenanceWindowTimeout: true, SuspendedByUser: true}
	if len(Catalog) != 26 {
		t.Fatalf("catalog has %d exemptions, want 26", len(Catalog))
	}
	for _, e := range Catalog {
		want := CannotPatch
		if temporary[e.Code] {
			want = TemporarilyCannotPatch
		}
		if e.Impact != want {
			t.Errorf("%s impact = %v, want %v", e.Code, e.Impact, want)
		}
		if e.Name == "" || e.Meaning == "" || len(e.Fix) == 0 || e.Slug == "" || e.Why == "" || e.Clears == "" {
			t.Errorf("%s is incomplete", e.Code)
		}
	}
}

func TestLowDisk(t *testing.T) {
	tests := []struct {
		name   string
		drives []Drive
		max    float64
		low    bool
	}{
		{"no drives", nil, -1, false},
		{"below threshold", []Drive{{"/", 100, 89}}, 89, false},
		{"exactly the threshold", []Drive{{"/", 100, 50}, {"/var", 100, 90}}, 90, true},
		{"zero-sized drive ignored", []Drive{{"/", 0, 0}, {"/data", 200, 20}}, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := healthy()
			f.Drives = tt.drives
			r := Evaluate(&f, s, DefaultSettings, now)
			if (r.MaxDiskPct == nil) != (tt.max < 0) || (r.MaxDiskPct != nil && *r.MaxDiskPct != tt.max) {
				t.Errorf("max disk = %v, want %v", r.MaxDiskPct, tt.max)
			}
			if r.LowDisk != tt.low {
				t.Errorf("low disk = %v, want %v", r.LowDisk, tt.low)
			}
			if r.Impact != Patchable {
				t.Errorf("the warning changed impact to %v", r.Impact)
			}
		})
	}
}

func TestRecheckAt(t *testing.T) {
	f, s := healthy()
	f.Protocol = ptr("web")
	f.LastContactAt = ptr(now.Add(-50 * time.Minute))
	r := Evaluate(&f, s, DefaultSettings, now)
	if want := now.Add(10*time.Minute + time.Second); !r.RecheckAt.Equal(want) {
		t.Fatalf("recheck at %v, want %v", r.RecheckAt, want)
	}
	// When the clock reaches the recheck time, the rule fires.
	if got := Evaluate(&f, s, DefaultSettings, r.RecheckAt).Codes(); !reflect.DeepEqual(got, []Code{Disconnected}) {
		t.Fatalf("after the recheck: %v", got)
	}
	// A custom threshold moves the deadline.
	set := DefaultSettings
	set.DisconnectAfter = 30 * time.Minute
	if got := Evaluate(&f, s, set, now).Codes(); !reflect.DeepEqual(got, []Code{Disconnected}) {
		t.Fatalf("30 min threshold: %v", got)
	}
}

func TestSchedulePlan(t *testing.T) {
	start := now.Add(-48 * time.Hour).Truncate(time.Second)
	weekly := ScheduleEntry{Start: Wall{start.UTC()}, Duration: 2 * time.Hour, RRule: "FREQ=WEEKLY;COUNT=4"}
	s := &Schedule{Timezone: "UTC", Entries: []ScheduleEntry{weekly}}
	p := PlanOf(s)
	if !p.FirstStart.Equal(start) || !p.LastEnd.Equal(start.Add(3*week+2*time.Hour)) || p.OpenEnded {
		t.Fatalf("plan = %+v", p)
	}
	w, ok := s.NextWindow(now)
	if !ok || !w.Start.Equal(start.Add(week)) {
		t.Fatalf("next window = %v %v", w, ok)
	}
	if n := s.cycleWindows(start.Add(-time.Second), start.Add(2*time.Hour), start.Add(2*week+2*time.Hour)); n != 2 {
		t.Fatalf("windows ended = %d, want 2 (the first ended at the mark)", n)
	}
	if n := s.cycleWindows(start.Add(-time.Second), start.Add(3*week+2*time.Hour), now.Add(100*week)); n != 0 {
		t.Fatalf("windows ended after the series = %d", n)
	}
	if _, ok := s.NextWindow(start.Add(4 * week)); ok {
		t.Fatal("a window after the series ended")
	}
	// Without COUNT or UNTIL a series never expires.
	s.Entries[0].RRule = "FREQ=WEEKLY"
	if p := PlanOf(s); !p.OpenEnded || !p.LastEnd.IsZero() {
		t.Fatalf("open-ended plan = %+v", p)
	}
	if got := Evaluate(&Facts{Name: "x"}, State{Plan: PlanOf(s)}, DefaultSettings, now.Add(1000*week)).Codes(); len(got) != 0 {
		t.Fatalf("an open-ended schedule expired: %v", got)
	}
}

const week = 7 * 24 * time.Hour
