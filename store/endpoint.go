package store

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Facts describe an endpoint as connectors, inventory and scanners see it.
// A nil field is unknown: the rules treat it as "no evidence" (see rules.go).
type Facts struct {
	Name                string     `json:"name"`
	IP                  *string    `json:"ip"`
	OSFamily            *string    `json:"os_family"`
	OSName              *string    `json:"os_name"`
	PlatformSupported   *bool      `json:"platform_supported"`
	Managed             *bool      `json:"managed"`
	Protocol            *string    `json:"protocol"`
	Credentials         *string    `json:"credentials"`
	Connector           *string    `json:"connector"`
	Reachable           *bool      `json:"reachable"`
	Connection          *string    `json:"connection"`
	LastContactAt       *time.Time `json:"last_contact_at"`
	Power               *string    `json:"power"`
	VMFrozen            *bool      `json:"vm_frozen"`
	PSExecutionPolicy   *string    `json:"ps_execution_policy"`
	PSVersion           *int       `json:"ps_version"`
	AdvisoriesPresent   *bool      `json:"advisories_present"`
	PackagesPresent     *bool      `json:"packages_present"`
	RepositoriesOK      *bool      `json:"repositories_ok"`
	SubscriptionValid   *bool      `json:"subscription_valid"`
	WSUSLastReportAt    *time.Time `json:"wsus_last_report_at"`
	RebootRequiredSince *time.Time `json:"reboot_required_since"`
	LastWindowTimedOut  *bool      `json:"last_window_timed_out"`
	Drives              []Drive    `json:"drives"`
	Labels              []string   `json:"labels"`
}

// Drive is one mounted volume of an endpoint.
type Drive struct {
	Mount      string `json:"mount"`
	TotalBytes int64  `json:"total_bytes"`
	UsedBytes  int64  `json:"used_bytes"`
}

// Low tells whether the drive is at or above the low-disk threshold (a
// percentage in use); an empty drive size is never low.
func (d Drive) Low(threshold float64) bool { return d.TotalBytes > 0 && d.UsedPct() >= threshold }

// FreeBytes is what is left on the drive.
func (d Drive) FreeBytes() int64 { return d.TotalBytes - d.UsedBytes }

// UsedPct is the share of the drive in use, 0–100; an empty drive size is 0.
func (d Drive) UsedPct() float64 {
	if d.TotalBytes <= 0 {
		return 0
	}
	return float64(d.UsedBytes) * 100 / float64(d.TotalBytes)
}

// Enumerated values of the facts; Validate rejects anything else.
var (
	OSFamilies   = []string{"linux", "windows"}
	Protocols    = []string{"ssh", "smb", "web"}
	CredStates   = []string{"unknown", "valid", "invalid"}
	Connectors   = []string{"none", "running", "stopped"}
	Connections  = []string{"ok", "failed"}
	PowerStates  = []string{"on", "off", "suspended", "unknown"}
	PSPolicies   = []string{"Unrestricted", "RemoteSigned", "AllSigned", "Restricted", "Bypass", "Undefined"}
	MaxNameLen   = 253 // a fully qualified DNS name
	MaxDrives    = 64
	MaxMountLen  = 255
	MaxStringLen = 255
)

// FieldError names one invalid fact.
type FieldError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Validate checks the facts of one endpoint and returns every problem found.
// It also normalises what has one obvious spelling (trimmed name, policy case).
func (f *Facts) Validate() []FieldError {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	f.Name = strings.TrimSpace(f.Name)
	switch {
	case f.Name == "":
		bad("name", "is required")
	case len(f.Name) > MaxNameLen:
		bad("name", "is longer than 253 characters")
	case hiddenChars(f.Name):
		bad("name", "contains control or invisible formatting characters")
	case strings.Contains(f.Name, "/"):
		bad("name", "contains a slash, which no host name has")
	}
	oneOf := func(field string, v *string, allowed []string) {
		if v == nil {
			return
		}
		for _, a := range allowed {
			if strings.EqualFold(*v, a) {
				*v = a
				return
			}
		}
		bad(field, "must be one of "+strings.Join(allowed, ", "))
	}
	oneOf("os_family", f.OSFamily, OSFamilies)
	oneOf("protocol", f.Protocol, Protocols)
	oneOf("credentials", f.Credentials, CredStates)
	oneOf("connector", f.Connector, Connectors)
	oneOf("connection", f.Connection, Connections)
	oneOf("power", f.Power, PowerStates)
	oneOf("ps_execution_policy", f.PSExecutionPolicy, PSPolicies)
	for field, v := range map[string]*string{"ip": f.IP, "os_name": f.OSName} {
		switch {
		case v == nil:
		case len(*v) > MaxStringLen:
			bad(field, "is longer than 255 characters")
		case hiddenChars(*v):
			bad(field, "contains control or invisible formatting characters")
		}
	}
	if f.PSVersion != nil && (*f.PSVersion < 1 || *f.PSVersion > 99) {
		bad("ps_version", "must be a major version between 1 and 99")
	}
	if labels, err := ParseLabels(f.Labels); err != nil {
		bad("labels", err.Error())
	} else {
		f.Labels = labels
	}
	if len(f.Drives) > MaxDrives {
		bad("drives", "more than 64 drives")
	}
	seen := map[string]bool{}
	for i, d := range f.Drives {
		field := "drives[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(d.Mount) == "" || len(d.Mount) > MaxMountLen:
			bad(field+".mount", "is required (at most 255 characters)")
		case hiddenChars(d.Mount):
			bad(field+".mount", "contains control or invisible formatting characters")
		case seen[d.Mount]:
			bad(field+".mount", "appears twice")
		}
		seen[d.Mount] = true
		if d.TotalBytes < 0 {
			bad(field+".total_bytes", "must not be negative")
		}
		if d.UsedBytes < 0 {
			bad(field+".used_bytes", "must not be negative")
		}
		if d.UsedBytes > d.TotalBytes && d.TotalBytes >= 0 {
			bad(field+".used_bytes", "is larger than total_bytes")
		}
	}
	return errs
}

// hiddenChars tells whether s is broken UTF-8 or holds characters a person
// cannot see or that change how text around them reads: C0 and C1 controls
// and format characters (Unicode Cf: bidi overrides, zero-width joiners…).
// Two names that look the same must not be two endpoints.
func hiddenChars(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	})
}

// NameKey is the form in which two names are the same endpoint. It folds
// ASCII letters only, exactly as the database's NOCASE collation does, so
// that one batch and separate batches agree on what is a duplicate.
func NameKey(name string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, name)
}

// Endpoint is an endpoint as the dashboard shows it: facts, the state the
// dashboard owns, and what the rules derived from both.
type Endpoint struct {
	ID int64
	Facts
	ManualLabels   []string // added by operators; Facts.Labels are the sources'
	ScheduleID     int64    // 0: none
	ScheduleName   string
	RebootAckedAt  *time.Time
	RebootAckedBy  string
	Suspension     *Suspension
	Exemptions     []Exemption // precedence order
	Primary        Code        // "" when patchable
	MoreCount      int         // exemptions besides the primary
	Impact         Impact
	MaxDiskPct     *float64
	LowDisk        bool
	StaleFacts     bool
	FactsUpdatedAt time.Time
	ReportedAt     time.Time             // the last report of any fact; zero: never
	Sources        map[string]FactSource // fact → who reported it last, and when
}

// Exemption is one derived exemption of an endpoint, with what raised it.
type Exemption struct {
	Code     Code
	Since    time.Time
	Evidence string
}

// Entry returns the catalog entry of the exemption.
func (e Exemption) Entry() Entry { en, _ := Lookup(e.Code); return en }

// Suspension keeps an endpoint from being patched for a number of
// maintenance cycles or between two dates.
type Suspension struct {
	CyclesRemaining *int
	From, Until     *time.Time
	Reason          string
	CreatedBy       string
	CreatedAt       time.Time
	CountedTo       time.Time // cycles: windows ending up to here are counted
}

// countedTo is the column value of CountedTo: set for cycles only.
func countedTo(s *Suspension) *int64 {
	if s.CyclesRemaining == nil {
		return nil
	}
	t := s.CountedTo
	if t.IsZero() {
		t = s.CreatedAt
	}
	u := t.Unix()
	return &u
}

// ActiveAt tells whether the suspension holds at t.
func (s *Suspension) ActiveAt(t time.Time) bool {
	if s == nil {
		return false
	}
	if s.CyclesRemaining != nil {
		return *s.CyclesRemaining > 0
	}
	return s.From != nil && s.Until != nil && !t.Before(*s.From) && t.Before(*s.Until)
}
