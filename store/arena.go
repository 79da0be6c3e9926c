package store

import (
	"slices"
	"sync/atomic"
	"unsafe"
)

// textArena holds the names and addresses of the read model's records in
// blocks of 1 MiB that are only ever appended to. A record then holds an
// offset instead of two strings: a million records hold no pointers, so the
// garbage collector does not scan them, and no string pays for its own
// header and size-class rounding. A string read from the arena stays valid
// for good: a block is never written where it was written before, and
// compaction copies into a new arena.
//
// One writer appends (the store's, holding the write lock); readers read
// under the read model's lock, which orders them after the writes their
// records point to.
type textArena struct {
	blocks        atomic.Pointer[[][]byte]
	used          int // bytes used in the last block
	live, garbage int // bytes records point to, and bytes no record does
}

const arenaBlock = 1 << 20

// textRef is where a record's name and address are in the arena. Lengths
// fit 16 bits because facts are validated first (a name at most MaxNameLen
// bytes, an address MaxStringLen); offsets fit 32 bits up to 4 GiB of text,
// over a hundred million endpoints.
type textRef struct {
	at             uint32
	nameLen, ipLen uint16
}

func newTextArena() *textArena {
	a := &textArena{}
	a.blocks.Store(&[][]byte{})
	return a
}

// add appends a name and an address.
func (a *textArena) add(name, ip string) textRef {
	n := len(name) + len(ip)
	if len(name) > MaxNameLen || len(ip) > MaxStringLen {
		panic("store: an unvalidated name or address reached the list") // a bug: Validate bounds both
	}
	blocks := *a.blocks.Load()
	if len(blocks) == 0 || a.used+n > arenaBlock {
		grown := append(slices.Clip(blocks), make([]byte, arenaBlock))
		a.blocks.Store(&grown)
		blocks, a.used = grown, 0
	}
	b := blocks[len(blocks)-1]
	at := (len(blocks)-1)*arenaBlock + a.used
	copy(b[a.used:], name)
	copy(b[a.used+len(name):], ip)
	a.used += n
	a.live += n
	return textRef{at: uint32(at), nameLen: uint16(len(name)), ipLen: uint16(len(ip))}
}

// drop counts a reference that no record holds any more.
func (a *textArena) drop(r textRef) {
	n := int(r.nameLen) + int(r.ipLen)
	a.live, a.garbage = a.live-n, a.garbage+n
}

// compactAfter is how much garbage is worth a compaction (tests lower it).
var compactAfter = 32 << 20

// wasteful tells whether most of the arena is garbage, and enough of it to
// be worth a compaction.
func (a *textArena) wasteful() bool { return a.garbage > compactAfter && a.garbage > a.live }

func (a *textArena) name(r textRef) string { return a.string(r.at, int(r.nameLen)) }
func (a *textArena) ip(r textRef) string   { return a.string(r.at+uint32(r.nameLen), int(r.ipLen)) }

func (a *textArena) string(at uint32, n int) string {
	if n == 0 {
		return ""
	}
	b := (*a.blocks.Load())[at/arenaBlock]
	return unsafe.String(&b[at%arenaBlock], n)
}
