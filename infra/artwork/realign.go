package artwork

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// realign copies a font or font collection with every table moved to a
// four-byte boundary, as the OpenType spec requires and x/image/font/sfnt
// insists (golang/go#46384). WenQuanYi Zen Hei, Debian's default Chinese
// font, has unaligned tables. Tables that a collection's fonts share stay
// shared. Checksums are left as they were: sfnt ignores them.
func realign(src []byte) ([]byte, error) {
	be := binary.BigEndian
	var fonts []uint32 // offsets of the fonts' offset tables
	var header int
	if len(src) >= 12 && string(src[:4]) == "ttcf" {
		n := be.Uint32(src[8:])
		if n == 0 || n > 256 || uint64(len(src)) < 12+4*uint64(n) {
			return nil, errors.New("bad collection header")
		}
		for i := range n {
			fonts = append(fonts, be.Uint32(src[12+4*i:]))
		}
		header = 12 + 4*int(n)
	} else {
		fonts = []uint32{0}
	}

	type record struct{ off, n uint32 }
	type face struct {
		head    []byte // the 12-byte offset table
		entries [][16]byte
	}
	faces := make([]face, len(fonts))
	size := header
	for i, fo := range fonts {
		if uint64(fo)+12 > uint64(len(src)) {
			return nil, fmt.Errorf("font %d: offset table out of range", i)
		}
		nt := int(be.Uint16(src[fo+4:]))
		dir := uint64(fo) + 12
		if nt > 256 || dir+16*uint64(nt) > uint64(len(src)) {
			return nil, fmt.Errorf("font %d: bad table directory", i)
		}
		faces[i].head = src[fo : fo+12]
		for t := range nt {
			var e [16]byte
			copy(e[:], src[dir+16*uint64(t):])
			off, n := be.Uint32(e[8:]), be.Uint32(e[12:])
			if uint64(off)+uint64(n) > uint64(len(src)) {
				return nil, fmt.Errorf("font %d: table %q out of range", i, e[:4])
			}
			faces[i].entries = append(faces[i].entries, e)
		}
		size += 12 + 16*nt
	}

	// Place each distinct table once, aligned, after the directories.
	placed := map[record]int{}
	var order []record
	for _, f := range faces {
		for _, e := range f.entries {
			r := record{be.Uint32(e[8:]), be.Uint32(e[12:])}
			if _, ok := placed[r]; !ok {
				placed[r] = size
				order = append(order, r)
				size += int(r.n+3) &^ 3
			}
		}
	}
	if size > 1<<31-1 {
		return nil, errors.New("font too large")
	}

	out := make([]byte, size)
	if header > 0 {
		copy(out, src[:8])
		be.PutUint32(out[4:], 0x00010000) // version 1: drops a version 2 DSIG reference
		be.PutUint32(out[8:], uint32(len(fonts)))
	}
	pos := header
	for i, f := range faces {
		if header > 0 {
			be.PutUint32(out[12+4*i:], uint32(pos))
		}
		copy(out[pos:], f.head)
		pos += 12
		for _, e := range f.entries {
			r := record{be.Uint32(e[8:]), be.Uint32(e[12:])}
			be.PutUint32(e[8:], uint32(placed[r]))
			copy(out[pos:], e[:])
			pos += 16
		}
	}
	for _, r := range order {
		copy(out[placed[r]:], src[r.off:r.off+r.n])
	}
	return out, nil
}
