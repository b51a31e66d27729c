// Package password hashes and verifies passwords with argon2id, stored as
// PHC strings: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded
// standard base64, as the reference implementation writes them).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes,
// 1 lane).
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read back from a stored hash, so that a corrupt or
// hostile hash cannot make verification allocate gigabytes or spin forever.
const (
	maxMemory = 1 << 20 // KiB = 1 GiB
	maxTime   = 64
	maxKeyLen = 1024
)

// ErrMalformed: the encoded hash is not an argon2id PHC string this package
// can verify.
var ErrMalformed = errors.New("password: malformed argon2id hash")

// Hasher hashes with fixed parameters and verifies hashes made with any.
type Hasher struct {
	p Params
}

// New returns a Hasher using p; zero fields take DefaultParams' values.
func New(p Params) (*Hasher, error) {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = DefaultParams.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultParams.KeyLen
	}
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return nil, fmt.Errorf("password: memory %d KiB out of range", p.Memory)
	case p.Time > maxTime:
		return nil, fmt.Errorf("password: time %d out of range", p.Time)
	case p.SaltLen < 8 || p.SaltLen > 64:
		return nil, fmt.Errorf("password: salt length %d out of range", p.SaltLen)
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return nil, fmt.Errorf("password: key length %d out of range", p.KeyLen)
	}
	return &Hasher{p: p}, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.p }

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.p.Memory, h.p.Time, h.p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

// Verify reports whether password matches encoded, comparing in constant
// time. A malformed hash is an error wrapping ErrMalformed, not a mismatch.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// this Hasher's (so the caller may rehash after a successful login).
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return true
	}
	return p.Memory != h.p.Memory || p.Time != h.p.Time || p.Threads != h.p.Threads ||
		uint32(len(salt)) != h.p.SaltLen || uint32(len(key)) != h.p.KeyLen
}

// decode parses $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>.
func decode(encoded string) (Params, []byte, []byte, error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("wrong number of fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm " + strconv.Quote(parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version " + strconv.Quote(parts[2]))
	}
	var p Params
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("parameters")
	}
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(params[i], "=")
		if !ok || k != name {
			return bad("parameter " + strconv.Quote(params[i]))
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || n == 0 || (len(v) > 1 && v[0] == '0') {
			return bad("parameter " + strconv.Quote(params[i]))
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		}
	}
	if p.Memory > maxMemory || p.Memory < 8*uint32(p.Threads) || p.Time > maxTime {
		return bad("parameters out of range")
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("salt")
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxKeyLen {
		return bad("hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
