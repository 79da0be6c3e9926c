package store

// Impact says how badly an endpoint's exemptions keep it from being patched.
// The numeric order matters: a higher impact wins when an endpoint has several
// exemptions, and the impact column in the database stores these values.
type Impact int

const (
	Patchable Impact = iota
	TemporarilyCannotPatch
	CannotPatch
)

// String returns the stable code used in URLs, the API and CSV.
func (i Impact) String() string {
	switch i {
	case CannotPatch:
		return "cannot-patch"
	case TemporarilyCannotPatch:
		return "temporarily-cannot-patch"
	default:
		return "patchable"
	}
}

// Label is the human wording of an impact.
func (i Impact) Label() string {
	switch i {
	case CannotPatch:
		return "Cannot patch"
	case TemporarilyCannotPatch:
		return "Temporarily cannot patch"
	default:
		return "Patchable"
	}
}

// ParseImpact turns a code back into an Impact.
func ParseImpact(s string) (Impact, bool) {
	for _, i := range []Impact{CannotPatch, TemporarilyCannotPatch, Patchable} {
		if i.String() == s {
			return i, true
		}
	}
	return 0, false
}

// Impacts lists every impact, worst first.
var Impacts = []Impact{CannotPatch, TemporarilyCannotPatch, Patchable}

// Code is a stable exemption or warning code.
type Code string

// Exemption codes, in the precedence order of the readiness rules.
const (
	UnknownEndpoint              Code = "unknown-endpoint"
	PatchingInapplicable         Code = "patching-inapplicable"
	PoweredOff                   Code = "powered-off"
	PowerSuspended               Code = "power-suspended"
	PowerUnknown                 Code = "power-unknown"
	UntestedEndpoint             Code = "untested-endpoint"
	ConnectorNotInstalled        Code = "connector-not-installed"
	InvalidCredentials           Code = "invalid-credentials"
	NotReachable                 Code = "not-reachable"
	Disconnected                 Code = "disconnected"
	ConnectorDown                Code = "connector-down"
	UnsupportedPSExecutionPolicy Code = "unsupported-powershell-execution-policy"
	UnsupportedPSVersion         Code = "unsupported-powershell-version"
	PendingUserAction            Code = "pending-user-action"
	PendingRebootSuspension      Code = "pending-reboot-suspension"
	AdvisoriesNotExist           Code = "advisories-not-exist"
	PackagesNotExist             Code = "packages-not-exist"
	WrongRepositoriesConfig      Code = "wrong-repositories-configuration"
	SubscriptionMissing          Code = "subscription-missing"
	WSUSCommunicationProblems    Code = "wsus-communication-problems"
	SuspendedByUser              Code = "suspended-by-user"
	MaintenanceWindowRequired    Code = "maintenance-window-required"
	NoMaintenanceEntry           Code = "no-maintenance-entry"
	MaintenanceWindowExpired     Code = "maintenance-window-expired"
	AwaitingMaintenanceWindow    Code = "awaiting-maintenance-window"
	MaintenanceWindowTimeout     Code = "maintenance-window-timeout"
	LowDiskSpace                 Code = "low-disk-space"
	StaleFacts                   Code = "stale-facts"
)

// Entry is one exemption (or warning) of the catalog.
type Entry struct {
	Code    Code
	Name    string // display name, as administrators know it
	Impact  Impact // Patchable for a warning
	Meaning string
	Why     string   // why it blocks patching
	Fix     []string // steps, in order
	Clears  string   // what makes it go away
	Slug    string   // KB page
	Warning bool
}

// Catalog holds every exemption in precedence order; the low-disk warning is
// kept apart in LowDiskWarning because it never changes an endpoint's impact.
var Catalog = []Entry{
	{Code: UnknownEndpoint, Name: "Unknown Endpoint", Impact: CannotPatch,
		Meaning: "A vulnerability scanner reported this host, but patchready has no managed record of it: no connector and no credentials are known.",
		Why:     "Nothing can be deployed to a host that is not under management.",
		Fix:     []string{"Confirm the host is one you own and should patch.", "Add it to inventory with working credentials, or deploy the connector on it.", "Wait for the next inventory sync to mark it managed."},
		Clears:  "The host is reported as managed.", Slug: "unknown-endpoint"},
	{Code: PatchingInapplicable, Name: "Patching Inapplicable", Impact: CannotPatch,
		Meaning: "The operating system or edition on this endpoint is not one that patching supports.",
		Why:     "There is no patch source or installer path for this platform.",
		Fix:     []string{"Check the endpoint's OS against the supported platforms page.", "Upgrade or migrate the host to a supported release.", "If the host should never be patched here, leave it out of patching scopes."},
		Clears:  "The endpoint reports a supported platform.", Slug: "patching-inapplicable"},
	{Code: PoweredOff, Name: "Powered Off", Impact: CannotPatch,
		Meaning: "The endpoint is switched off.",
		Why:     "A machine that is off can neither download nor install updates.",
		Fix:     []string{"Power the server on from its hypervisor or out-of-band console.", "Confirm it comes back on the network."},
		Clears:  "The power state is reported as on.", Slug: "powered-off"},
	{Code: PowerSuspended, Name: "Power Suspended", Impact: CannotPatch,
		Meaning: "The endpoint (usually a virtual machine) is suspended or paused.",
		Why:     "A suspended machine runs no processes, so nothing can be installed.",
		Fix:     []string{"Resume the virtual machine from its hypervisor.", "Check why it was suspended before resuming it."},
		Clears:  "The power state is reported as on.", Slug: "power-suspended"},
	{Code: PowerUnknown, Name: "Power Unknown", Impact: CannotPatch,
		Meaning: "The power state of the endpoint could not be determined.",
		Why:     "Without knowing whether the host is running, patching is not attempted.",
		Fix:     []string{"Check the hypervisor or inventory integration that reports power state.", "Verify the host is running and visible to that integration."},
		Clears:  "A definite power state is reported.", Slug: "power-unknown"},
	{Code: UntestedEndpoint, Name: "Untested Endpoint", Impact: CannotPatch,
		Meaning: "The endpoint is in inventory, but no connector is installed and no working credentials are known for it.",
		Why:     "There is no way yet to reach the host and act on it.",
		Fix:     []string{"If only some endpoints show this, supply credentials for them or install the connector.", "If all endpoints suddenly show this, check the connector service and the integration that reports connector status.", "See the connector status reference for the meaning of each state."},
		Clears:  "A connector is installed, or credentials are validated.", Slug: "untested-endpoint"},
	{Code: ConnectorNotInstalled, Name: "Connector Not Installed / Available", Impact: CannotPatch,
		Meaning: "Valid credentials are known for the endpoint, but the connector has not been deployed to it yet.",
		Why:     "Patching runs through the connector.",
		Fix:     []string{"Deploy the connector to the endpoint using the known credentials.", "Confirm the connector reports as running."},
		Clears:  "The connector is reported as installed.", Slug: "connector-not-installed"},
	{Code: InvalidCredentials, Name: "Invalid Credentials", Impact: TemporarilyCannotPatch,
		Meaning: "The endpoint rejected the credentials on record.",
		Why:     "Without accepted credentials the endpoint cannot be managed.",
		Fix:     []string{"Check whether the account's password was changed or the account was locked.", "Update the stored credentials.", "Wait for the next connection test to validate them."},
		Clears:  "The credentials are reported as valid.", Slug: "invalid-credentials"},
	{Code: NotReachable, Name: "Not Reachable", Impact: TemporarilyCannotPatch,
		Meaning: "The endpoint cannot be reached over the network.",
		Why:     "Commands and packages cannot get to the host.",
		Fix:     []string{"Check DNS, routing and firewalls between the connector and the host.", "Confirm the host is up.", "Once the connector can reach the host again, its next report clears this."},
		Clears:  "The endpoint is reported reachable again.", Slug: "not-reachable"},
	{Code: Disconnected, Name: "Disconnected", Impact: TemporarilyCannotPatch,
		Meaning: "For SSH and SMB endpoints the last session attempt failed; for WEB endpoints the connector has not checked in within the disconnect threshold.",
		Why:     "No working channel exists to send patch jobs through.",
		Fix:     []string{"For SSH/SMB, test the session by hand from the connector host.", "For WEB, check that the agent service runs and can reach the server.", "A session or check-in that succeeds again clears this with the next report."},
		Clears:  "A session succeeds, or the WEB agent checks in again.", Slug: "disconnected"},
	{Code: ConnectorDown, Name: "Connector Down", Impact: TemporarilyCannotPatch,
		Meaning: "The endpoint answers on the network, but its connector service is stopped.",
		Why:     "Patching runs through the connector.",
		Fix:     []string{"Start the connector service on the endpoint.", "Find out why it stopped (logs, crashes, manual stop).", "Set the service to start automatically."},
		Clears:  "The connector is reported running.", Slug: "connector-down"},
	{Code: UnsupportedPSExecutionPolicy, Name: "Unsupported PowerShell Execution Policy", Impact: CannotPatch,
		Meaning: "The Windows PowerShell execution policy is AllSigned or Restricted.",
		Why:     "Patching runs PowerShell scripts that these policies refuse to execute.",
		Fix:     []string{"Check the effective policy with Get-ExecutionPolicy -List.", "Set a policy that allows the scripts (for example RemoteSigned), through Group Policy if one applies.", "Wait for the next fact refresh."},
		Clears:  "The reported execution policy is a supported one.", Slug: "unsupported-powershell-execution-policy"},
	{Code: UnsupportedPSVersion, Name: "Unsupported PowerShell Version", Impact: CannotPatch,
		Meaning: "The endpoint's PowerShell major version is 2 or older.",
		Why:     "The patching scripts need PowerShell 3 or later.",
		Fix:     []string{"Install a current Windows Management Framework on the endpoint.", "Reboot if the installer asks for it.", "Wait for the next fact refresh."},
		Clears:  "PowerShell 3 or later is reported.", Slug: "unsupported-powershell-version"},
	{Code: PendingUserAction, Name: "Pending User Action", Impact: CannotPatch,
		Meaning: "The virtual machine is frozen and waits for someone to act.",
		Why:     "A frozen machine does not run the patch job.",
		Fix:     []string{"Open the VM's console in the hypervisor and answer any pending question.", "Unfreeze or restart the VM."},
		Clears:  "The VM is no longer reported frozen.", Slug: "pending-user-action"},
	{Code: PendingRebootSuspension, Name: "Pending Reboot Suspension", Impact: CannotPatch,
		Meaning: "A patch run finished, but the endpoint needs a reboot before it can be patched again.",
		Why:     "Installing more updates on top of a pending reboot risks a broken state.",
		Fix: []string{"Restart the endpoint, through your usual change process.",
			"To clear this at once, press Acknowledge reboot here: it records your word that the restart happened.",
			"Or wait: the source's next report without a pending reboot clears it too, which can take until its next run (often a day)."},
		Clears: "A reboot acknowledged here at or after the time it was asked for, or a report that no longer asks for one.", Slug: "pending-reboot-suspension"},
	{Code: AdvisoriesNotExist, Name: "Advisories Not Exist", Impact: CannotPatch,
		Meaning: "No advisory information for this endpoint was found in the configured repositories.",
		Why:     "Without advisories there is no way to know which patches apply.",
		Fix:     []string{"Check the repository settings for the endpoint's OS and release.", "Sync the repositories.", "See the readiness page for what is checked."},
		Clears:  "Advisories are reported present.", Slug: "advisories-not-exist"},
	{Code: PackagesNotExist, Name: "Packages Not Exist", Impact: CannotPatch,
		Meaning: "The configured repositories hold no packages for this endpoint.",
		Why:     "There is nothing to install from.",
		Fix:     []string{"Check the repository settings for the endpoint's OS and release.", "Sync the repositories.", "See the readiness page for what is checked."},
		Clears:  "Packages are reported present.", Slug: "packages-not-exist"},
	{Code: WrongRepositoriesConfig, Name: "Wrong Repositories Configuration", Impact: CannotPatch,
		Meaning: "The package repositories configured on the endpoint are wrong or unusable.",
		Why:     "Updates cannot be resolved from broken repository definitions.",
		Fix:     []string{"Compare the endpoint's repository files with the expected ones.", "Fix or replace the repository definitions.", "See the readiness page for what is checked."},
		Clears:  "The repository configuration is reported correct.", Slug: "wrong-repositories-configuration"},
	{Code: SubscriptionMissing, Name: "Subscription Missing", Impact: CannotPatch,
		Meaning: "The endpoint has no valid OS subscription.",
		Why:     "Vendors only serve updates to subscribed systems.",
		Fix:     []string{"Register the endpoint with its vendor subscription service.", "Attach a valid subscription.", "See the readiness page for what is checked."},
		Clears:  "A valid subscription is reported.", Slug: "subscription-missing"},
	{Code: WSUSCommunicationProblems, Name: "WSUS Communication Problems", Impact: CannotPatch,
		Meaning: "The Windows endpoint has not reported to WSUS within the WSUS threshold.",
		Why:     "Update approvals and status flow through WSUS.",
		Fix:     []string{"Check the Windows Update service on the endpoint.", "Check the WSUS server address in the endpoint's policy.", "Force a report (wuauclt /reportnow or usoclient) and wait."},
		Clears:  "The endpoint reports to WSUS again.", Slug: "wsus-communication-problems"},
	{Code: SuspendedByUser, Name: "Suspended by User", Impact: TemporarilyCannotPatch,
		Meaning: "Someone suspended this endpoint from patching, for a number of maintenance cycles or between two dates.",
		Why:     "Suspensions are honoured until they run out or are removed.",
		Fix:     []string{"Check the reason recorded with the suspension.", "Remove the suspension (Remove suspension) if it is no longer needed."},
		Clears:  "The cycles run out, the end date passes, or the suspension is removed.", Slug: "suspended-by-user"},
	{Code: MaintenanceWindowRequired, Name: "Maintenance Window Required", Impact: TemporarilyCannotPatch,
		Meaning: "No maintenance schedule is assigned to the endpoint.",
		Why:     "Patches are only deployed inside a maintenance window.",
		Fix:     []string{"Assign a maintenance schedule to the endpoint."},
		Clears:  "A schedule is assigned.", Slug: "maintenance-window-required"},
	{Code: NoMaintenanceEntry, Name: "No Maintenance Entry", Impact: TemporarilyCannotPatch,
		Meaning: "The endpoint's maintenance schedule has no windows in it.",
		Why:     "A schedule without windows never opens.",
		Fix:     []string{"Add at least one window to the schedule, or assign another schedule."},
		Clears:  "The schedule gets an entry.", Slug: "no-maintenance-entry"},
	{Code: MaintenanceWindowExpired, Name: "Maintenance Window Expired", Impact: TemporarilyCannotPatch,
		Meaning: "Every window of the endpoint's schedule has already ended.",
		Why:     "No future window exists to patch in.",
		Fix:     []string{"Add new windows to the schedule, or assign a current schedule."},
		Clears:  "The schedule gets a window in the future.", Slug: "maintenance-window-expired"},
	{Code: AwaitingMaintenanceWindow, Name: "Awaiting Maintenance Window", Impact: TemporarilyCannotPatch,
		Meaning: "The endpoint's schedule has not started yet: its first window is still in the future.",
		Why:     "Patching waits for the first window.",
		Fix:     []string{"Nothing, if the date is right: it clears when the first window opens.", "Otherwise, move the first window earlier."},
		Clears:  "The first window of the schedule starts.", Slug: "awaiting-maintenance-window"},
	{Code: MaintenanceWindowTimeout, Name: "Maintenance Window Timeout", Impact: TemporarilyCannotPatch,
		Meaning: "The last maintenance window closed before all patches were deployed.",
		Why:     "The window is too short for the work, or the run stalled.",
		Fix:     []string{"Look at what took long in the last run.", "Lengthen the windows of the schedule or split the endpoints across schedules."},
		Clears:  "A later window completes in time.", Slug: "maintenance-window-timeout"},
}

// LowDiskWarning is the one warning: it is shown and filterable but never
// changes impact.
var LowDiskWarning = Entry{
	Code: LowDiskSpace, Name: "Low Disk Space", Impact: Patchable, Warning: true,
	Meaning: "At least one drive of the endpoint is at or above the low-disk threshold of used space.",
	Why:     "Updates need room to download and unpack; a full drive makes installs fail halfway.",
	Fix:     []string{"Open the Servers list with the Disk Space In Use column on (Table Settings).", "Hover the cell to see which drive is full.", "Free space on that drive or grow it."},
	Clears:  "Every drive drops below the threshold.", Slug: "low-disk-space",
}

var catalogIndex = func() map[Code]int {
	m := make(map[Code]int, len(Catalog))
	for i, e := range Catalog {
		m[e.Code] = i
	}
	return m
}()

// StaleFactsWarning is raised when no source has reported on an endpoint
// within the stale threshold. Like low disk it changes no impact.
var StaleFactsWarning = Entry{
	Code: StaleFacts, Name: "Stale Facts", Impact: Patchable, Warning: true,
	Meaning: "No source has reported any fact of this endpoint within the stale threshold.",
	Why:     "Everything shown for it is as old as its last report: it may have been fixed, or broken, since. A feed that stops is the quiet failure.",
	Fix: []string{"Open Admin → Sources and look for a silent source.", "Check the sync job, connector or agent behind it, and its API token.",
		"Once it reports again the warning clears."},
	Clears: "A source reports any fact of the endpoint.", Slug: "stale-facts",
}

// Warnings are the warnings, in the order they are shown.
var Warnings = []Entry{LowDiskWarning, StaleFactsWarning}

// Lookup returns the catalog entry for a code (the warnings included).
func Lookup(c Code) (Entry, bool) {
	for _, w := range Warnings {
		if c == w.Code {
			return w, true
		}
	}
	i, ok := catalogIndex[c]
	if !ok {
		return Entry{}, false
	}
	return Catalog[i], true
}

// Precedence is a code's position in the rules; lower comes first.
func Precedence(c Code) int { return catalogIndex[c] }

// ImpactOf returns the combined impact of a list of exemptions.
func ImpactOf(codes []Code) Impact {
	worst := Patchable
	for _, c := range codes {
		if e, ok := Lookup(c); ok && e.Impact > worst {
			worst = e.Impact
		}
	}
	return worst
}
