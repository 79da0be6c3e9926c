// Package views renders every screen with templ. Handlers hand each view a
// typed model already prepared; views hold no SQL and no rules.
package views

import "patchready/store"

// Page is what every screen shares: who is signed in, the CSRF token for its
// forms, a flash message and which part of the navigation is current.
type Page struct {
	Title     string
	Nav       string
	User      string
	Role      store.Role
	CSRF      string
	Flash     string
	FlashKind string // "ok" or "error"
	UndoID    int64  // the audit entry of the action just done, offered for undo
	Skip      string // where "Skip to …" leads, when not the page's start
	Here      string // the page's own address, to come back to
}

// Can tells whether the signed-in user has at least this role.
func (p Page) Can(r store.Role) bool { return p.User != "" && p.Role.Allows(r) }

// Option is one choice of a filter, with how many endpoints it would give.
type Option struct {
	Value    string
	Label    string
	Count    int64
	Selected bool
}

// Column is one column of the Servers list.
type Column struct {
	Key     string
	Label   string
	Visible bool
	SortURL string // "" when not sortable
	Sorted  string // "ascending", "descending" or ""
}

// DiskView is the Disk Space In Use cell.
type DiskView struct {
	Known  bool
	Pct    string // "93.4 %"
	Fill   int    // the bar's filled share, 0–100
	Low    bool
	Drives []DriveView
}

// DriveView is one drive, in the pop-up and on the endpoint page. Its
// numbers are formatted by the view (see disk.go).
type DriveView struct {
	Mount       string
	Total, Used int64   // bytes
	Pct         float64 // share in use
	Low         bool
}

// ServerRow is one row of the Servers list, formatted.
type ServerRow struct {
	ID           int64
	URL          string
	Name         string
	IP           string
	OS           string
	Protocol     string
	Connector    string
	Power        string
	Primary      string // display name
	PrimaryURL   string
	More         int
	Match        string   // the filtered exemption the row has, when it is not the primary
	Others       []string // the names of its exemptions besides the one shown
	Impact       string   // code
	ImpactLabel  string
	Schedule     string
	LastContact  string
	LastContactT string // RFC 3339 for the title
	Blocked      string // how long it cannot be patched: "12 days"
	BlockedT     string
	Disk         DiskView
	Labels       []string // values of ServersPage.LabelCols, in order
	Fixes        []Fix    // one-click fixes that apply, for operators
}

// Fix is a one-click remedy offered in a row: a form posting to Action.
type Fix struct {
	Action, Label string
	Long          string // the label read out: "Acknowledge the reboot of"
	Schedule      bool   // the form picks a schedule first
}

// Chip is one active filter, with the list without it.
type Chip struct {
	Group     string // the dimension and how its values combine: "Exemption (any of)"
	Label     string
	RemoveURL string
}

// SavedView is a saved query beside the list, with its live count.
type SavedView struct {
	ID        int64
	Name, URL string
	Shared    bool
	Owner     string
	Count     int64
	Current   bool
	CanDelete bool
}

// ServersPage is the Servers list.
type ServersPage struct {
	Page
	Columns        []Column
	Show           map[string]bool
	Rows           []ServerRow
	Total          int64
	From, To       int64
	PrevURL        string
	NextURL        string
	FirstURL       string
	LastURL        string
	PageNo         int64
	Pages          int64
	PerPages       []Option // rows per page choices
	Chips          []Chip
	Views          []SavedView
	ViewQuery      string // the query a new saved view keeps
	CSVURL         string
	ClearURL       string
	Query          string // the filter as a query string, for "all matching"
	Q              string
	Exemptions     []Option
	Impacts        []Option
	LowDisk        Option
	Stale          Option
	BlockedOptions []Option
	StaleAfter     string
	OS             []Option
	Protocols      []Option
	Schedules      []Option
	Labels         []OptionGroup // by key
	NotLabels      string        // excluded labels, as typed
	LabelsChosen   bool          // a label filter is on: show them unfolded
	LabelCols      []string      // label keys shown as columns, in order
	SortKey        string
	Order          string
	PerPage        int
	Filtered       bool
	ExemptionsOn   int // how many exemptions are chosen
	WarningsOn     int
	LabelsOn       int
	Assignable     []Option // schedules for the bulk action
	LowDiskPct     string
	ViewName       string            // the saved view shown, if any
	Zone           string            // the user\'s time zone, which time inputs take
	Bulk           map[string]string // a rejected bulk action's fields, as typed
	BulkErrors     map[string]string // what was wrong with them, by field
	Checked        map[int64]bool    // rows checked for it
}

// OptionGroup is a group of filter options (the values of a label key).
type OptionGroup struct {
	Label   string
	Options []Option
}

// ExemptionView is one exemption on the endpoint page.
type ExemptionView struct {
	Code, Name, Impact, ImpactLabel, Meaning, Evidence, Since, SinceT, KBURL string
	Fix                                                                      []string
	Open                                                                     bool // its How to fix shown unfolded (the primary)
}

// AuditLine is one audit entry on an endpoint's page.
type AuditLine struct{ At, Actor, Action, Change string }

// Fact is one labelled fact.
type Fact struct{ Label, Value string }

// HistoryView is one line of an endpoint's exemption history.
type HistoryView struct{ Name, KBURL, Started, Ended string }

// ServerPage is one endpoint.
type ServerPage struct {
	Page
	ID          int64
	Name        string
	Impact      string
	ImpactLabel string
	Facts       []Fact
	Labels      []LabelView
	Drives      []DriveView
	Disk        DiskView
	Exemptions  []ExemptionView
	Warnings    []ExemptionView
	Schedule    string
	ScheduleURL string
	NextWindow  string
	Suspension  string
	Suspended   bool
	RebootDue   bool // an acknowledgement would clear a pending reboot
	History     []HistoryView
	Zone        string // the user's time zone, which the suspension's dates take
	Audit       []AuditLine
	AuditURL    string
	BackURL     string // the filtered list the user came from
	Schedules   []Option
	Errors      map[string]string
	Form        map[string]string // values typed in a rejected form
}

// LabelView is one label of an endpoint, with the list of endpoints that
// have it and whether an operator set it (or a source reported it).
type LabelView struct {
	Label, URL string
	Manual     bool
}

// ConfirmPage asks before an action that changes many things or cannot
// be taken back: what it acts on, what will follow, and a button that
// looks as serious as the action is.
type ConfirmPage struct {
	Page
	Heading      string
	Scope        []Fact // what it acts on, in words: "Filter" → "Impact: Cannot patch"
	Count        int64  // how many things it acts on; -1 when not counted
	Noun         string // what Count counts, singular and plural: "endpoint"
	Names        []string
	Consequences []string // sentences
	Action       string   // where the confirmed form posts
	Fields       []Fact   // hidden fields to post again (name, value)
	Button       string
	Danger       bool
	BackURL      string
}

// Bar is one bar of a chart: a count that links into the filtered list.
type Bar struct {
	Label string
	Count int64
	URL   string
	Class string
	Width float64 // 0–100, share of the largest bar
}

// OverviewPage is the estate at a glance.
type OverviewPage struct {
	Page
	Trend      Trend
	Windows    []WindowSummary
	Total      int64
	Impacts    []Bar
	Exemptions []Bar
	LowDisk    Bar
}

// WindowSummary is one coming maintenance window on the overview.
type WindowSummary struct {
	Schedule, ScheduleURL, When string
	Open                        bool
	Endpoints                   int64
	EndpointsURL                string
	BlockedTotal                int64
	BlockedURL                  string
	Blocked                     []Bar // by exemption
}

// KBEntry is one guidance page in the index.
type KBEntry struct {
	Slug, Title, Impact, ImpactLabel, Summary string
}

// KBIndex lists every guidance page.
type KBIndex struct {
	Page
	Topics     []KBEntry
	Exemptions []KBEntry
	Warnings   []KBEntry
}

// KBArticle is one guidance page.
type KBArticle struct {
	Page
	Slug        string
	Title       string
	Impact      string
	ImpactLabel string
	Meaning     string
	Why         string
	Fix         []string
	Clears      string
	Body        []KBSection // topic pages
	Related     []KBEntry
	ServersURL  string
	Count       int64
	Trend       *Trend // the exemption's own trend
	// FixAction, when the dashboard itself can clear the exemption, is the
	// bulk action offered on every endpoint that has it.
	FixAction, FixLabel, FixFilter string
	Assignable                     []Option // schedules, for FixAction "schedule"
}

// KBSection is a heading and its paragraphs.
type KBSection struct {
	Heading    string
	Paragraphs []string
	Items      []string
}

// LoginPage is the sign-in form.
type LoginPage struct {
	Page
	SSO      bool // single sign-on is offered
	Username string
	Error    string
	Next     string
}

// AccountPage is the signed-in user's own page.
type AccountPage struct {
	Page
	Timezone string
	Errors   map[string]string
	Form     map[string]string
}

// ScheduleRow is one schedule in the list.
type ScheduleRow struct {
	ID                                 int64
	Timezone                           string
	Name, Description, NextWindow, URL string
	Entries                            int
	Endpoints                          int64
	EndpointsURL                       string
}

// SchedulesPage lists the schedules.
type SchedulesPage struct {
	Page
	Schedules []ScheduleRow
	Errors    map[string]string
	Form      map[string]string
}

// EntryRow is one window of a schedule.
type EntryRow struct {
	ID                             int64
	Starts, Duration, Repeat, Rule string
	Status                         string
}

// WindowRow is one coming window, in the schedule's zone and the user's.
type WindowRow struct {
	Local, Yours string
	Open         bool
}

// SchedulePage is one schedule with its windows.
type SchedulePage struct {
	Page
	ScheduleRow
	Entries     []EntryRow
	Windows     []WindowRow
	Problems    []string // overlapping or past windows
	ZoneDiffers bool     // the user's zone is not the schedule's
	UserZone    string
	Presets     []Option
	Errors      map[string]string
	Form        map[string]string
}

// AuditRow is one audit entry.
type AuditRow struct {
	ID                              int64
	Scope, ScopeURL, UndoneBy       string
	Undoable                        bool
	At, AtT, Actor, Action, Summary string
	Targets                         int
	Changes                         []Fact // name → "before → after"
	MoreChanges                     int
}

// AuditPage is the audit log.
type AuditPage struct {
	Page
	Zone     string // the time zone times are shown in
	Rows     []AuditRow
	Actor    string
	Action   string
	Endpoint string
	Actions  []string
	NextURL  string
}

// UserRow is one user on the admin page.
type UserRow struct {
	ID       int64
	Name     string
	Role     string
	Disabled bool
	Created  string
}

// UsersPage lists users.
type UsersPage struct {
	Page
	Users  []UserRow
	Roles  []string
	Errors map[string]string
	Form   map[string]string
}

// TokenRow is one API token.
type TokenRow struct {
	ID                                       int64
	Name, Role, CreatedBy, Created, LastUsed string
	Revoked                                  bool
}

// TokensPage lists API tokens; NewSecret is shown once after creation.
type TokensPage struct {
	Page
	Tokens    []TokenRow
	NewSecret string
	NewName   string
	Errors    map[string]string
}

// SettingsPage edits the thresholds.
type SettingsPage struct {
	Page
	LowDiskPct      string
	DisconnectAfter string
	WSUSAfter       string
	StaleAfter      string
	DigestLead      string
	Errors          map[string]string
}

// ImportPage uploads facts as CSV.
type ImportPage struct {
	Page
	ColumnHelp []Fact // column → what it takes
	Columns    string
	Problems   []Fact // where → what
}

// SourceRow is one feed of facts on the Sources page.
type SourceRow struct {
	Name, Kind, LastReport, FirstReport, SilentFor string
	Endpoints, Reports                             int64
	Silent                                         bool
}

// SourcesPage lists the feeds of facts.
type SourcesPage struct {
	Page
	Sources   []SourceRow
	Threshold string
}

// Trend is a line chart of daily counts.
type Trend struct {
	Title  string
	Days   int
	Spans  []Option // links to the other spans
	Series []TrendSeries
	Points []TrendPoint
	Demo   bool // some days were made up by the demo
}

// TrendSeries is one line of a trend.
type TrendSeries struct{ Name, Class string }

// TrendPoint is one day of a trend: a value per series.
type TrendPoint struct {
	Date   string
	Values []int64
}

// WebhooksPage lists the webhooks with their recent deliveries.
type WebhooksPage struct {
	Page
	Hooks     []WebhookRow
	Events    []string
	NewSecret string // a made-up secret, shown once
	Errors    map[string]string
	Form      map[string]string
}

// WebhookRow is one hook.
type WebhookRow struct {
	ID                             int64
	URL, Events, Format, CreatedBy string
	Deliveries                     []DeliveryRow
}

// DeliveryRow is one delivery in a hook's log.
type DeliveryRow struct {
	Event, Status, When, Code, Problem string
	Attempts                           int
}
