package agent

import (
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// fixture is a System made of files, filesystem sizes and command results.
type fixture struct {
	os      string
	files   fstest.MapFS
	sizes   map[string][2]uint64 // mount → total, used
	exits   map[string]int       // command → exit code; absent: not installed
	volumes []string
}

func (f fixture) OS() string                { return f.os }
func (f fixture) Hostname() (string, error) { return "fixture-01", nil }
func (f fixture) ReadFile(p string) ([]byte, error) {
	return fs.ReadFile(f.files, p[1:])
}
func (f fixture) Stat(p string) (fs.FileInfo, error) { return fs.Stat(f.files, p[1:]) }
func (f fixture) Statfs(p string) (uint64, uint64, error) {
	s, ok := f.sizes[p]
	if !ok {
		return 0, 0, errors.New("no such filesystem")
	}
	return s[0], s[1], nil
}
func (f fixture) Run(name string, _ ...string) (int, error) {
	code, ok := f.exits[name]
	if !ok {
		return -1, errors.New("not installed")
	}
	return code, nil
}
func (f fixture) Volumes() ([]string, error) { return f.volumes, nil }

// mounts is a mount table as a container host or a laptop writes it.
const mounts = `proc /proc proc rw,nosuid 0 0
sysfs /sys sysfs rw 0 0
devtmpfs /dev devtmpfs rw 0 0
tmpfs /run tmpfs rw 0 0
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
/dev/nvme0n1p1 /boot/efi vfat rw 0 0
/dev/mapper/vg-data /srv/my\040data xfs rw 0 0
/dev/nvme0n1p2 /var/lib/docker ext4 rw,relatime 0 0
overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
/dev/loop3 /snap/core/123 squashfs ro 0 0
tank/home /home zfs rw 0 0
lxcfs /var/lib/lxcfs fuse.lxcfs rw 0 0
server:/export /mnt/nfs nfs4 rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
`

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestCollectLinux(t *testing.T) {
	reboot := now.Add(-3 * time.Hour)
	sys := fixture{os: "linux",
		files: fstest.MapFS{
			"proc/self/mounts":        {Data: []byte(mounts)},
			"etc/os-release":          {Data: []byte("NAME=\"Ubuntu\"\nVERSION=\"24.04 LTS (Noble Numbat)\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n")},
			"var/run/reboot-required": {Data: []byte("*** System restart required ***\n"), ModTime: reboot},
		},
		sizes: map[string][2]uint64{"/": {100 << 30, 40 << 30}, "/boot/efi": {512 << 20, 6 << 20}, "/srv/my data": {2 << 40, 1 << 40},
			"/home": {500 << 30, 450 << 30}, "/var/lib/docker": {100 << 30, 40 << 30}, "/run": {1 << 30, 0}},
	}
	f, problems := Collect(sys, nil, "", "10.0.0.5", now)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := []Drive{{"/", 100 << 30, 40 << 30}, {"/boot/efi", 512 << 20, 6 << 20}, {"/srv/my data", 2 << 40, 1 << 40}, {"/home", 500 << 30, 450 << 30}}
	if !reflect.DeepEqual(f.Drives, want) {
		t.Fatalf("drives %+v", f.Drives)
	}
	if f.Name != "fixture-01" || *f.IP != "10.0.0.5" || f.OSFamily != "linux" || *f.OSName != "Ubuntu 24.04.1 LTS" ||
		f.RebootRequiredSince == nil || !f.RebootRequiredSince.Since.Equal(reboot) || f.Power != "on" || !f.LastContactAt.Equal(now) {
		t.Fatalf("facts %+v", f)
	}

	// Debian without the flag file: no reboot needed (sent as null, which
	// clears one a former report set).
	delete(sys.files, "var/run/reboot-required")
	sys.files["etc/debian_version"] = &fstest.MapFile{Data: []byte("12.8\n")}
	f, _ = Collect(sys, nil, "override", "", now)
	if f.RebootRequiredSince == nil || f.RebootRequiredSince.Since != nil || f.Name != "override" || f.IP != nil {
		t.Fatalf("without the flag: %+v", f)
	}
	if b, _ := json.Marshal(f); !strings.Contains(string(b), `"reboot_required_since":null`) {
		t.Fatalf("no null sent: %s", b)
	}
	// A system with neither way says nothing about reboots.
	delete(sys.files, "etc/debian_version")
	f, _ = Collect(sys, nil, "", "", now)
	if b, _ := json.Marshal(f); f.RebootRequiredSince != nil || strings.Contains(string(b), "reboot_required_since") {
		t.Fatalf("unknown reboot sent: %s", b)
	}
}

// RHEL and its kin: needs-restarting -r says whether a reboot is needed;
// the package database's time says since when.
func TestCollectRHEL(t *testing.T) {
	installed := now.Add(-26 * time.Hour)
	sys := fixture{os: "linux",
		files: fstest.MapFS{
			"proc/self/mounts":         {Data: []byte("/dev/mapper/rhel-root / xfs rw 0 0\n")},
			"etc/os-release":           {Data: []byte("NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"9.4 (Plow)\"\n")},
			"var/lib/rpm/rpmdb.sqlite": {Data: []byte("x"), ModTime: installed},
		},
		sizes: map[string][2]uint64{"/": {50 << 30, 10 << 30}},
		exits: map[string]int{"needs-restarting": 1},
	}
	f, problems := Collect(sys, nil, "", "", now)
	if len(problems) > 0 || *f.OSName != "Red Hat Enterprise Linux 9.4 (Plow)" || f.RebootRequiredSince == nil || !f.RebootRequiredSince.Since.Equal(installed) {
		t.Fatalf("RHEL %+v %v", f, problems)
	}
	sys.exits["needs-restarting"] = 0
	if f, _ := Collect(sys, nil, "", "", now); f.RebootRequiredSince == nil || f.RebootRequiredSince.Since != nil {
		t.Fatal("a reboot reported when needs-restarting says none")
	}
}

// fakeRegistry holds registry values and key times.
type fakeRegistry struct {
	values map[string]string // path\name → value
	keys   map[string]time.Time
}

func (r fakeRegistry) String(path, name string) (string, error) {
	v, ok := r.values[path+`\`+name]
	if !ok {
		return "", errors.New("not found")
	}
	return v, nil
}

func (r fakeRegistry) Modified(path string) (time.Time, bool) { t, ok := r.keys[path]; return t, ok }

func TestCollectWindows(t *testing.T) {
	pending := now.Add(-2 * time.Hour)
	sys := fixture{os: "windows", volumes: []string{`C:\`, `D:\`, `E:\`},
		sizes: map[string][2]uint64{`C:\`: {127 << 30, 100 << 30}, `D:\`: {1 << 40, 200 << 30}}} // E: an empty card reader
	reg := fakeRegistry{
		values: map[string]string{
			regProduct + `\ProductName`:        "Windows Server 2022 Datacenter",
			regPS3 + `\PowerShellVersion`:      "5.1.20348.1",
			regPS1 + `\PowerShellVersion`:      "2.0",
			regPolicy + `\ExecutionPolicy`:     "RemoteSigned",
			regPolicyGPO + `\ExecutionPolicy`:  "AllSigned",
			regWSUSDetect + `\LastSuccessTime`: "2026-11-24 06:30:00",
		},
		keys: map[string]time.Time{rebootKeys[1]: pending},
	}
	f, problems := Collect(sys, reg, "", "10.1.0.9", now)
	if len(problems) > 0 {
		t.Fatalf("problems %v", problems)
	}
	want := []Drive{{`C:\`, 127 << 30, 100 << 30}, {`D:\`, 1 << 40, 200 << 30}}
	if !reflect.DeepEqual(f.Drives, want) || f.OSFamily != "windows" || *f.OSName != "Windows Server 2022 Datacenter" {
		t.Fatalf("windows %+v", f)
	}
	if *f.PSVersion != 5 || *f.PSExecutionPolicy != "AllSigned" { // Group Policy wins
		t.Fatalf("PowerShell %d %s", *f.PSVersion, *f.PSExecutionPolicy)
	}
	if !f.WSUSLastReportAt.Equal(time.Date(2026, 11, 24, 6, 30, 0, 0, time.UTC)) || !f.RebootRequiredSince.Since.Equal(pending) {
		t.Fatalf("WSUS %v reboot %v", f.WSUSLastReportAt, f.RebootRequiredSince)
	}
	// An old machine with PowerShell 2 only, no policy set, no reboot.
	delete(reg.values, regPS3+`\PowerShellVersion`)
	delete(reg.values, regPolicyGPO+`\ExecutionPolicy`)
	delete(reg.values, regPolicy+`\ExecutionPolicy`)
	reg.keys = nil
	f, _ = Collect(sys, reg, "", "", now)
	if *f.PSVersion != 2 || f.PSExecutionPolicy != nil || f.RebootRequiredSince.Since != nil {
		t.Fatalf("old machine %+v", f)
	}
}

func TestRealFilesystemsOfThisMachine(t *testing.T) {
	// Whatever this machine mounts, none of the pseudo types is kept.
	b, err := Host{}.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Skip("no mount table here")
	}
	for _, m := range realFilesystems(b) {
		if m == "/proc" || m == "/sys" || m == "/dev" {
			t.Fatalf("%s kept", m)
		}
	}
}
