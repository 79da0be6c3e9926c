package store

// dimsOf packs the dimensions the Servers list filters by index into one
// number, as the generated column endpoints.dims does (migration 006):
// impact + 3 × OS family + 9 × protocol + 36 × low disk.
func dimsOf(impact Impact, osFamily, protocol string, lowDisk bool) int {
	d := int(impact)
	switch osFamily {
	case "linux":
		d += 3
	case "windows":
		d += 6
	}
	switch protocol {
	case "ssh":
		d += 9
	case "smb":
		d += 18
	case "web":
		d += 27
	}
	if lowDisk {
		d += 36
	}
	return d
}
