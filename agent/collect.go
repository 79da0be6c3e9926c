// Package agent reports the facts of the host it runs on to a patchready
// server (PATCH /api/v1/endpoints). Collectors read the host through small
// interfaces (System, Registry) so that tests feed them fixtures: a mount
// table, an os-release file, registry values.
package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// System is what the collectors read of the host.
type System interface {
	OS() string // runtime.GOOS
	Hostname() (string, error)
	ReadFile(path string) ([]byte, error)
	Stat(path string) (fs.FileInfo, error)
	// Statfs is a filesystem's size and the bytes in use, as df shows
	// them.
	Statfs(path string) (total, used uint64, err error)
	// Run runs a command and returns its exit code; an error means it
	// could not be run at all (not installed).
	Run(name string, args ...string) (exit int, err error)
	// Volumes lists the mounted volumes of Windows (C:\, D:\ …).
	Volumes() ([]string, error)
}

// Registry reads the Windows registry under HKEY_LOCAL_MACHINE.
type Registry interface {
	String(path, name string) (string, error)
	// Modified is when a key was last written; false when it does not exist.
	Modified(path string) (time.Time, bool)
}

// Drive is one filesystem as the API takes it.
type Drive struct {
	Mount      string `json:"mount"`
	TotalBytes int64  `json:"total_bytes"`
	UsedBytes  int64  `json:"used_bytes"`
}

// Facts are what the agent reports: the API's fields, each present only
// when known (a nil one is sent as null where it clears a stale value).
type Facts struct {
	Name                string     `json:"name"`
	IP                  *string    `json:"ip,omitempty"`
	OSFamily            string     `json:"os_family"`
	OSName              *string    `json:"os_name,omitempty"`
	Managed             bool       `json:"managed"`
	Connector           string     `json:"connector"`
	Protocol            string     `json:"protocol"`
	Reachable           bool       `json:"reachable"`
	Power               string     `json:"power"`
	LastContactAt       time.Time  `json:"last_contact_at"`
	Drives              []Drive    `json:"drives"`
	RebootRequiredSince *Reboot    `json:"reboot_required_since,omitempty"` // left out when this host cannot tell
	PSVersion           *int       `json:"ps_version,omitempty"`
	PSExecutionPolicy   *string    `json:"ps_execution_policy,omitempty"`
	WSUSLastReportAt    *time.Time `json:"wsus_last_report_at,omitempty"`
}

// Reboot is what the host says of a pending reboot: since when one is
// needed, or (Since nil) that none is — sent as null, which clears one a
// former report set. A host that cannot tell sends nothing.
type Reboot struct{ Since *time.Time }

func (r Reboot) MarshalJSON() ([]byte, error) {
	if r.Since == nil {
		return []byte("null"), nil
	}
	return json.Marshal(r.Since)
}

// Collect gathers the facts of the host. name overrides the host name; ip
// is the address the host reaches the server from. What cannot be read is
// left out rather than guessed, and said in problems.
func Collect(sys System, reg Registry, name, ip string, now time.Time) (Facts, []string) {
	var problems []string
	f := Facts{Name: name, Managed: true, Connector: "running", Protocol: "web", Reachable: true, Power: "on",
		LastContactAt: now.UTC().Truncate(time.Second), Drives: []Drive{}}
	if f.Name == "" {
		h, err := sys.Hostname()
		if err != nil {
			problems = append(problems, "host name: "+err.Error())
		}
		f.Name = h
	}
	if ip != "" {
		f.IP = &ip
	}
	if sys.OS() == "windows" {
		f.OSFamily = "windows"
		problems = append(problems, collectWindows(sys, reg, &f)...)
	} else {
		f.OSFamily = "linux"
		problems = append(problems, collectLinux(sys, &f)...)
	}
	return f, problems
}

// collectLinux reads /etc/os-release, the mount table and the reboot flag.
func collectLinux(sys System, f *Facts) []string {
	var problems []string
	if b, err := sys.ReadFile("/etc/os-release"); err == nil {
		if n := osRelease(b); n != "" {
			f.OSName = &n
		}
	} else {
		problems = append(problems, "os-release: "+err.Error())
	}
	mounts, err := sys.ReadFile("/proc/self/mounts")
	if err != nil {
		problems = append(problems, "mount table: "+err.Error())
	}
	for _, m := range realFilesystems(mounts) {
		total, used, err := sys.Statfs(m)
		if err != nil || total == 0 {
			continue // unmounted meanwhile, or not ours to read
		}
		f.Drives = append(f.Drives, Drive{Mount: m, TotalBytes: int64(total), UsedBytes: int64(used)})
	}
	reboot, err := linuxRebootRequired(sys)
	if err != nil {
		problems = append(problems, "reboot required: "+err.Error())
	}
	f.RebootRequiredSince = reboot
	return problems
}

// osRelease is the PRETTY_NAME of an os-release file (else NAME VERSION).
func osRelease(b []byte) string {
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `'"`)
		}
		vals[k] = v
	}
	if v := vals["PRETTY_NAME"]; v != "" {
		return v
	}
	return strings.TrimSpace(vals["NAME"] + " " + vals["VERSION"])
}

// pseudo are filesystem types that hold no data of the host's own: kernel
// views, memory, container layers, read-only images, network shares.
var pseudo = []string{"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2", "overlay", "aufs",
	"squashfs", "securityfs", "pstore", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "bpf", "autofs",
	"binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "selinuxfs", "nfsd", "iso9660", "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs"}

// realFilesystems lists the mount points of real filesystems in a mount
// table (/proc/self/mounts), each device once (bind mounts repeat it).
func realFilesystems(table []byte) []string {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		dev, mount, fstype := fields[0], unescapeMount(fields[1]), fields[2]
		if slices.Contains(pseudo, fstype) || strings.HasPrefix(fstype, "fuse.") || seen[dev] {
			continue
		}
		// A real filesystem lives on a block device, or is a pool
		// filesystem named without one (zfs, btrfs subvolumes).
		if !strings.HasPrefix(dev, "/dev/") && fstype != "zfs" && fstype != "btrfs" {
			continue
		}
		seen[dev] = true
		out = append(out, mount)
	}
	return out
}

// unescapeMount reads the octal escapes the kernel writes for spaces and
// tabs in mount points (\040).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// linuxRebootRequired: Debian and Ubuntu leave /var/run/reboot-required
// (since its time); RHEL and its kin answer with needs-restarting -r (exit
// 1: a reboot is needed, since the package database last changed). On a
// system with neither it says nothing (nil): another source may know.
func linuxRebootRequired(sys System) (*Reboot, error) {
	if fi, err := sys.Stat("/var/run/reboot-required"); err == nil {
		t := fi.ModTime().UTC().Truncate(time.Second)
		return &Reboot{&t}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if _, err := sys.Stat("/etc/debian_version"); err == nil {
		return &Reboot{}, nil // Debian's way, and no flag: none needed
	}
	exit, err := sys.Run("needs-restarting", "-r")
	if err != nil {
		return nil, nil // neither way here: unknown
	}
	if exit != 1 {
		return &Reboot{}, nil
	}
	for _, db := range []string{"/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/var/lib/rpm"} {
		if fi, err := sys.Stat(db); err == nil {
			t := fi.ModTime().UTC().Truncate(time.Second)
			return &Reboot{&t}, nil
		}
	}
	return nil, errors.New("needs-restarting says a reboot is needed, but the package database's time is unknown")
}

// Registry paths the Windows collector reads.
const (
	regPS3        = `SOFTWARE\Microsoft\PowerShell\3\PowerShellEngine`
	regPS1        = `SOFTWARE\Microsoft\PowerShell\1\PowerShellEngine`
	regPolicyGPO  = `SOFTWARE\Policies\Microsoft\Windows\PowerShell`
	regPolicy     = `SOFTWARE\Microsoft\PowerShell\1\ShellIds\Microsoft.PowerShell`
	regWSUSDetect = `SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Detect`
	regProduct    = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
)

// rebootKeys exist while Windows waits for a restart.
var rebootKeys = []string{
	`SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`,
	`SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`,
}

// collectWindows reads drives, PowerShell, WSUS and the pending reboot.
func collectWindows(sys System, reg Registry, f *Facts) []string {
	var problems []string
	if reg == nil {
		return []string{"no registry to read"}
	}
	if name, err := reg.String(regProduct, "ProductName"); err == nil {
		f.OSName = &name
	}
	vols, err := sys.Volumes()
	if err != nil {
		problems = append(problems, "volumes: "+err.Error())
	}
	for _, v := range vols {
		total, used, err := sys.Statfs(v)
		if err != nil || total == 0 {
			continue // an empty card reader, a disconnected share
		}
		f.Drives = append(f.Drives, Drive{Mount: v, TotalBytes: int64(total), UsedBytes: int64(used)})
	}
	for _, path := range []string{regPS3, regPS1} {
		if v, err := reg.String(path, "PowerShellVersion"); err == nil {
			if major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil {
				f.PSVersion = &major
				break
			}
		}
	}
	for _, path := range []string{regPolicyGPO, regPolicy} { // Group Policy wins
		if v, err := reg.String(path, "ExecutionPolicy"); err == nil && v != "" {
			f.PSExecutionPolicy = &v
			break
		}
	}
	if v, err := reg.String(regWSUSDetect, "LastSuccessTime"); err == nil {
		if t, err := time.Parse("2006-01-02 15:04:05", v); err == nil { // written in UTC
			f.WSUSLastReportAt = &t
		}
	}
	f.RebootRequiredSince = &Reboot{} // Windows always tells
	for _, key := range rebootKeys {
		if t, ok := reg.Modified(key); ok {
			t = t.UTC().Truncate(time.Second)
			if r := f.RebootRequiredSince; r.Since == nil || t.Before(*r.Since) {
				r.Since = &t
			}
		}
	}
	return problems
}
