//go:build !linux && !windows

package agent

import "errors"

// Statfs is not read on this system: the agent reports Linux and Windows.
func (Host) Statfs(string) (uint64, uint64, error) { return 0, 0, errors.ErrUnsupported }

func (Host) Volumes() ([]string, error) { return nil, errors.ErrUnsupported }

// HostRegistry is Windows's; there is none here.
func HostRegistry() Registry { return nil }
