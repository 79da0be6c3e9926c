package views

import "patchready/store"

// Topics are the guidance pages that are not about one exemption.
var Topics = []KBArticle{
	{Slug: "readiness", Title: "Readiness: what patchready checks", Body: []KBSection{
		{Heading: "Patchable, temporarily not, or not at all", Paragraphs: []string{
			"Every endpoint gets one of three answers. Patchable means nothing stands in the way and it will be patched in its next maintenance window. Temporarily cannot patch means something that usually resolves itself or with a small change is in the way: a window that has not opened, a lost connection, a suspension. Cannot patch means the endpoint stays blocked until someone fixes the cause.",
			"An endpoint can have several exemptions at once. The worst one decides its impact; the first one in the order below is shown as its primary exemption, and the others appear as “+N more”.",
		}},
		{Heading: "The order of the checks", Items: []string{
			"Is the endpoint managed at all? If not, nothing else is checked.",
			"Is its platform supported?",
			"Is it powered on? While it is off, suspended or in an unknown power state, connectivity checks are skipped: their failures would only be a consequence.",
			"Connector and credentials: installed, valid, reachable, connected, running.",
			"Windows PowerShell: execution policy and version.",
			"A frozen VM, and a reboot that is still pending.",
			"Repository content: advisories, packages, repository configuration, subscription, and for Windows the last WSUS report.",
			"A suspension made by a user.",
			"The maintenance schedule.",
		}},
		{Heading: "Repository checks", Paragraphs: []string{
			"Advisories Not Exist, Packages Not Exist, Wrong Repositories Configuration and Subscription Missing all mean the same thing from the patching side: the place updates should come from does not serve this endpoint. Start with the repository settings for the endpoint's OS and release, sync them, and confirm the endpoint's own package configuration points at them.",
		}},
		{Heading: "Time-based checks", Paragraphs: []string{
			"Some answers change with the clock alone: a WEB agent that stops checking in becomes Disconnected after the disconnect threshold, a Windows endpoint that stops reporting to WSUS gets a WSUS problem after the WSUS threshold, suspensions start and end, and schedules open and expire. patchready re-checks these in the background, so the Servers list stays true without new facts arriving. The thresholds are on the Settings page.",
		}},
	}},
	{Slug: "maintenance-schedules", Title: "Maintenance schedules", Body: []KBSection{
		{Heading: "Why schedules matter", Paragraphs: []string{
			"Endpoints are patched only inside the windows of the schedule they are assigned to. An endpoint without a schedule shows Maintenance Window Required; one whose schedule has no windows shows No Maintenance Entry; one whose windows have all ended shows Maintenance Window Expired; and one whose first window is still ahead shows Awaiting Maintenance Window.",
		}},
		{Heading: "Windows", Paragraphs: []string{
			"A window has a start and an end in UTC. It can repeat every week until a date: each repetition counts as a maintenance cycle. A suspension “for N cycles” is used up one cycle each time a window of the endpoint's schedule ends.",
		}},
		{Heading: "Timeouts", Paragraphs: []string{
			"When a window closes before every patch was deployed, the endpoint shows Maintenance Window Timeout until a later window completes. Longer windows, or fewer endpoints per schedule, help.",
		}},
	}},
	{Slug: "supported-platforms", Title: "Supported platforms", Body: []KBSection{
		{Heading: "What counts as supported", Paragraphs: []string{
			"An endpoint's platform is supported when its operating system release still receives updates from a source patchready's connectors can use. Connectors and inventory report this as the platform_supported fact; when it is false the endpoint shows Patching Inapplicable.",
		}},
		{Heading: "Typical cases", Items: []string{
			"Linux releases past their vendor's end of life (for example CentOS 6 or Ubuntu 14.04 without extended support).",
			"Windows editions or versions that no longer receive updates, or that the patching scripts cannot drive.",
			"Operating systems without a package manager patchready works with.",
		}},
		{Heading: "What to do", Paragraphs: []string{
			"Upgrade or migrate the host to a supported release. If the host must stay as it is, keep it out of patching scopes and track it as an accepted risk.",
		}},
	}},
	{Slug: "connector-status", Title: "Connector status reference", Body: []KBSection{
		{Heading: "The facts behind connectivity", Items: []string{
			"connector — none: never installed; running: installed and working; stopped: installed but its service is not running.",
			"credentials — unknown: none tested yet; valid: accepted by the endpoint; invalid: rejected.",
			"reachable — whether the endpoint answers on the network at all.",
			"connection — for SSH and SMB endpoints, whether the last session attempt succeeded.",
			"last_contact_at — for WEB endpoints, when the agent last checked in.",
		}},
		{Heading: "How they map to exemptions", Items: []string{
			"No connector and no valid credentials: Untested Endpoint.",
			"No connector but valid credentials: Connector Not Installed / Available.",
			"Credentials rejected: Invalid Credentials.",
			"No answer on the network: Not Reachable.",
			"SSH/SMB session failed, or WEB agent silent past the threshold: Disconnected.",
			"Connector stopped on an endpoint that answers: Connector Down.",
		}},
		{Heading: "When every endpoint changes at once", Paragraphs: []string{
			"If many endpoints that were connected suddenly show Untested Endpoint or Disconnected, suspect the connector host or the integration that reports status, not the endpoints.",
		}},
	}},
}

// RelatedTopics lists the topic pages worth reading with an exemption's page.
func RelatedTopics(c store.Code) []string {
	switch c {
	case store.UntestedEndpoint, store.ConnectorNotInstalled, store.ConnectorDown, store.Disconnected,
		store.NotReachable, store.InvalidCredentials, store.UnknownEndpoint:
		return []string{"connector-status", "readiness"}
	case store.PatchingInapplicable:
		return []string{"supported-platforms", "readiness"}
	case store.AwaitingMaintenanceWindow, store.MaintenanceWindowRequired, store.MaintenanceWindowExpired,
		store.NoMaintenanceEntry, store.MaintenanceWindowTimeout, store.SuspendedByUser:
		return []string{"maintenance-schedules", "readiness"}
	default:
		return []string{"readiness"}
	}
}
