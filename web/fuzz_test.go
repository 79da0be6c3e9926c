package web

import (
	"testing"
)

// FuzzDecodeFacts feeds arbitrary bodies to the API's decoder and validator:
// they may reject anything, but never panic, and never accept an item that
// the store's own validation would refuse.
func FuzzDecodeFacts(f *testing.F) {
	for _, seed := range []string{
		"[" + goodItem + "]",
		`[{"name": "x", "power": "sleeping"}]`,
		`[{"name": "x", "drives": [{"mount": "/", "total_bytes": -1, "used_bytes": 5}]}]`,
		`[{"name": "x", "last_contact_at": "2026-13-45T99:00:00Z"}]`,
		`[{"name": "\u0000"}]`, `[null]`, `null`, `[]`, `[[]]`, `[{"drives": null}]`, `[{"name": "a", "ps_version": 1e400}]`,
		`[{"name": "a", "drives": [{"mount": "/", "total_bytes": 9223372036854775807, "used_bytes": 9223372036854775807}]}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, partial := range []bool{false, true} {
			items, details := decodeFacts(body, partial)
			if len(details) > 0 {
				continue
			}
			for i := range items {
				if errs := items[i].Facts.Validate(); len(errs) > 0 {
					t.Fatalf("accepted item %d with problems %v", i, errs)
				}
			}
		}
	})
}
