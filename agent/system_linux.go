package agent

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Statfs is what df shows: the size, and the blocks in use.
func (Host) Statfs(path string) (total, used uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	return st.Blocks * uint64(st.Bsize), (st.Blocks - st.Bfree) * uint64(st.Bsize), nil
}

// Volumes are Windows's; Linux mounts are read from the mount table.
func (Host) Volumes() ([]string, error) { return nil, errors.ErrUnsupported }

// HostRegistry is Windows's; there is none here.
func HostRegistry() Registry { return nil }
