package readmodel

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// textIndex finds records whose text contains a substring, ignoring ASCII
// case (as SQLite's LIKE does). Each string is indexed by its single bytes
// and by its trigrams with start and end marks, so "web" in "web-01" is
// the trigrams "\x01we", "web", "eb-", … "01\x02". Then:
//
//   - a 1-byte term is one bitmap;
//   - a 2-byte term "ab" is the union of the trigrams "ab?" and "?ab" (a
//     string that holds "ab" has one of them, marks included), exact;
//   - a 3-byte term is one trigram, exact;
//   - a longer term is the intersection of its trigrams, then a check of
//     each candidate.
type textIndex struct {
	bytes  [256]*roaring.Bitmap
	grams  map[uint32]*roaring.Bitmap
	byPair map[uint16][]uint32 // 2-byte prefix or suffix → trigrams that have it
}

const (
	markStart = 0x01
	markEnd   = 0x02
)

func newTextIndex() textIndex {
	return textIndex{grams: map[uint32]*roaring.Bitmap{}, byPair: map[uint16][]uint32{}}
}

func fold(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func gram(a, b, c byte) uint32 { return uint32(a)<<16 | uint32(b)<<8 | uint32(c) }
func pair(a, b byte) uint16    { return uint16(a)<<8 | uint16(b) }

// each calls fn with every byte and trigram of s, folded and marked.
func eachGram(s string, fn func(g uint32)) {
	if s == "" {
		return
	}
	at := func(i int) byte {
		switch {
		case i < 0:
			return markStart
		case i >= len(s):
			return markEnd
		}
		return fold(s[i])
	}
	for i := -1; i < len(s)-1; i++ {
		fn(gram(at(i), at(i+1), at(i+2)))
	}
}

func (t *textIndex) add(id uint32, s string) {
	for i := 0; i < len(s); i++ {
		b := fold(s[i])
		if t.bytes[b] == nil {
			t.bytes[b] = roaring.New()
		}
		t.bytes[b].Add(id)
	}
	eachGram(s, func(g uint32) {
		bm := t.grams[g]
		if bm == nil {
			bm = roaring.New()
			t.grams[g] = bm
			a, b, c := byte(g>>16), byte(g>>8), byte(g)
			t.byPair[pair(a, b)] = append(t.byPair[pair(a, b)], g)
			if pair(b, c) != pair(a, b) {
				t.byPair[pair(b, c)] = append(t.byPair[pair(b, c)], g)
			}
		}
		bm.Add(id)
	})
}

// remove takes id out of s's entries. Another string of the same record
// may share a byte or trigram; the caller removes all of a record's
// strings and adds back those it keeps.
func (t *textIndex) remove(id uint32, s string) {
	for i := 0; i < len(s); i++ {
		if b := t.bytes[fold(s[i])]; b != nil {
			b.Remove(id)
		}
	}
	eachGram(s, func(g uint32) {
		if bm := t.grams[g]; bm != nil {
			bm.Remove(id)
		}
	})
}

func (t *textIndex) bitmaps() []*roaring.Bitmap {
	var out []*roaring.Bitmap
	for _, b := range t.bytes {
		if b != nil {
			out = append(out, b)
		}
	}
	for _, b := range t.grams {
		out = append(out, b)
	}
	return out
}

// find returns the records whose text may contain term (folded), and
// whether that set is exact. A new bitmap, the caller's to change.
func (t *textIndex) find(term string) (*roaring.Bitmap, bool) {
	switch len(term) {
	case 0:
		return roaring.New(), true
	case 1:
		if b := t.bytes[fold(term[0])]; b != nil {
			return b.Clone(), true
		}
		return roaring.New(), true
	case 2:
		var parts []*roaring.Bitmap
		for _, g := range t.byPair[pair(fold(term[0]), fold(term[1]))] {
			parts = append(parts, t.grams[g])
		}
		return roaring.FastOr(parts...), true
	}
	var parts []*roaring.Bitmap
	for i := 0; i+3 <= len(term); i++ {
		b := t.grams[gram(fold(term[i]), fold(term[i+1]), fold(term[i+2]))]
		if b == nil {
			return roaring.New(), true
		}
		parts = append(parts, b)
	}
	return roaring.FastAnd(parts...), len(term) == 3
}

// foldString is s with ASCII letters in lower case.
func foldString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = fold(b[j])
			}
			return string(b)
		}
	}
	return s
}

// containsFold tells whether s contains term (already folded), ignoring
// ASCII case.
func containsFold(s, term string) bool {
	n := len(term)
	if n == 0 {
		return true
	}
	first := term[0]
outer:
	for i := 0; i+n <= len(s); i++ {
		if fold(s[i]) != first {
			continue
		}
		for j := 1; j < n; j++ {
			if fold(s[i+j]) != term[j] {
				continue outer
			}
		}
		return true
	}
	return false
}
