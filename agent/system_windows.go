package agent

import (
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// Statfs is a volume's size and the bytes in use.
func (Host) Statfs(path string) (total, used uint64, err error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, 0, err
	}
	var avail, size, all uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &size, &all); err != nil {
		return 0, 0, err
	}
	return size, size - all, nil
}

// Volumes lists the fixed drives (C:\, D:\ …): no removable media, no
// network shares, no optical drives.
func (Host) Volumes() ([]string, error) {
	buf := make([]uint16, 512)
	n, err := windows.GetLogicalDriveStrings(uint32(len(buf)), &buf[0])
	if err != nil {
		return nil, err
	}
	// The names follow each other, each ended by a NUL.
	var out []string
	for i := 0; i < int(n); {
		j := i
		for j < int(n) && buf[j] != 0 {
			j++
		}
		if j > i {
			v := windows.UTF16ToString(buf[i:j])
			if p, err := windows.UTF16PtrFromString(v); err == nil && windows.GetDriveType(p) == windows.DRIVE_FIXED {
				out = append(out, v)
			}
		}
		i = j + 1
	}
	return out, nil
}

// winRegistry reads HKEY_LOCAL_MACHINE.
type winRegistry struct{}

// HostRegistry is the registry of this machine.
func HostRegistry() Registry { return winRegistry{} }

func (winRegistry) String(path, name string) (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	return v, err
}

func (winRegistry) Modified(path string) (time.Time, bool) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE)
	if err != nil {
		return time.Time{}, false
	}
	defer k.Close()
	info, err := k.Stat()
	if err != nil {
		return time.Time{}, false
	}
	return info.ModTime(), true
}
