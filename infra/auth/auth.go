// Package auth issues and verifies the bearer tokens of signet's API:
// HS256 JWTs naming the account ("sub") and the global event position the
// holder has seen ("pos"), so that reads can wait until projections caught up.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"signet/domain/fault"
)

// Lifetime of a token.
const Lifetime = 12 * time.Hour

// MinKeyLen is the shortest HS256 key accepted, in bytes.
const MinKeyLen = 32

// KeyFile is the name of the generated key in the data directory.
const KeyFile = "jwt.key"

const issuerName = "signet"

// Claims are what a verified token says.
type Claims struct {
	AccountID string
	Position  uint64
}

type tokenClaims struct {
	Pos uint64 `json:"pos"`
	jwt.RegisteredClaims
}

// Issuer signs and verifies tokens with one HS256 key.
type Issuer struct {
	key      []byte
	lifetime time.Duration
}

// NewIssuer returns an Issuer signing with key (at least 32 bytes).
func NewIssuer(key []byte) (*Issuer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("auth: key is %d bytes, need at least %d", len(key), MinKeyLen)
	}
	return &Issuer{key: append([]byte(nil), key...), lifetime: Lifetime}, nil
}

// Issue signs a token for accountID valid from now for Lifetime. expiresAt is
// the token's "exp" (whole seconds, as JWT stores it).
func (i *Issuer) Issue(accountID string, position uint64, now time.Time) (token string, expiresAt time.Time, err error) {
	if accountID == "" {
		return "", time.Time{}, errors.New("auth: issue: no account ID")
	}
	exp := jwt.NewNumericDate(now.Add(i.lifetime))
	c := tokenClaims{
		Pos: position,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuerName,
			Subject:   accountID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: exp,
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return token, exp.Time.UTC(), nil
}

var (
	errBadToken = fault.New(fault.Unauthorized, "invalid_token", "the bearer token is not valid")
	errExpired  = fault.New(fault.Unauthorized, "token_expired", "the bearer token has expired; log in again")
)

// Verify checks token's signature (HS256 only), issuer and expiry at now
// and returns its claims. Every refusal is a *fault.Error Unauthorized:
// "token_expired" or "invalid_token".
func (i *Issuer) Verify(token string, now time.Time) (Claims, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuerName),
		jwt.WithStrictDecoding(),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, errExpired
	case err != nil:
		return Claims{}, errBadToken
	case c.Subject == "":
		return Claims{}, errBadToken
	}
	return Claims{AccountID: c.Subject, Position: c.Pos}, nil
}

// LoadOrCreateKey returns the HS256 key: configured when not empty (base64
// of at least 32 bytes, or else at least 32 raw bytes), otherwise the key in
// <dataDir>/jwt.key, which is generated (32 random bytes, base64, mode 0600)
// when missing. A key file readable by group or others is refused.
func LoadOrCreateKey(dataDir string, configured string) ([]byte, error) {
	if configured != "" {
		k, ok := parseKey(configured)
		if !ok {
			return nil, fmt.Errorf("auth: configured JWT key is too short: need base64 of %d bytes or %d raw bytes", MinKeyLen, MinKeyLen)
		}
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("auth: no JWT key configured and no data directory")
	}
	path := filepath.Join(dataDir, KeyFile)
	if k, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: create data directory: %w", err)
	}
	raw := make([]byte, MinKeyLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	// Write to a temporary file and link it into place, so that a reader
	// never sees a half-written key and two processes racing agree on one.
	tmp, err := os.CreateTemp(dataDir, ".jwt.key-*")
	if err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("auth: write key: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path) // someone else won the race
		}
		return nil, fmt.Errorf("auth: install key: %w", err)
	}
	return raw, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("auth: %s is accessible by group or others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	b := make([]byte, 4096)
	n, err := f.Read(b)
	if err != nil {
		return nil, fmt.Errorf("auth: read %s: %w", path, err)
	}
	k, ok := parseKey(strings.TrimRight(string(b[:n]), "\r\n"))
	if !ok {
		return nil, fmt.Errorf("auth: %s does not hold a key of at least %d bytes", path, MinKeyLen)
	}
	return k, nil
}

// parseKey takes base64 (standard or URL, padded or not) decoding to at
// least MinKeyLen bytes, else the raw bytes when there are enough of them.
func parseKey(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) >= MinKeyLen {
			return k, true
		}
	}
	if len(s) >= MinKeyLen {
		return []byte(s), true
	}
	return nil, false
}
