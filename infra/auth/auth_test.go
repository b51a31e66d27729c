package auth

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"signet/domain/fault"
)

var (
	key = bytes.Repeat([]byte("k"), 32)
	t0  = time.Date(2026, 11, 30, 8, 0, 0, 500_000_000, time.UTC)
)

func wantUnauthorized(t *testing.T, err error, code string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Unauthorized || f.Code != code {
		t.Fatalf("error %v, want Unauthorized %s", err, code)
	}
}

func TestIssueVerify(t *testing.T) {
	iss, err := NewIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := iss.Issue("acc-1", 42, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(12 * time.Hour).Truncate(time.Second); !exp.Equal(want) {
		t.Errorf("expiresAt %v, want %v", exp, want)
	}
	c, err := iss.Verify(tok, t0)
	if err != nil || c != (Claims{AccountID: "acc-1", Position: 42}) {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := iss.Verify(tok, exp.Add(-time.Second)); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	_, err = iss.Verify(tok, exp)
	wantUnauthorized(t, err, "token_expired")

	// the payload carries "pos" and "sub"
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if !bytes.Contains(payload, []byte(`"pos":42`)) || !bytes.Contains(payload, []byte(`"sub":"acc-1"`)) {
		t.Errorf("payload %s", payload)
	}
	if _, _, err := iss.Issue("", 1, t0); err == nil {
		t.Error("issued a token for nobody")
	}
}

func TestVerifyRefuses(t *testing.T) {
	iss, _ := NewIssuer(key)
	good, _, _ := iss.Issue("acc-1", 1, t0)
	other, _ := NewIssuer(bytes.Repeat([]byte("x"), 32))
	foreign, _, _ := other.Issue("acc-1", 1, t0)

	sign := func(m jwt.SigningMethod, k any, c jwt.Claims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func(edit func(*tokenClaims)) *tokenClaims {
		c := &tokenClaims{Pos: 1, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuerName, Subject: "acc-1", ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
		}}
		if edit != nil {
			edit(c)
		}
		return c
	}
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"pos":999,"iss":"signet","sub":"acc-2","exp":9999999999}`)) + "." + parts[2]

	for name, tok := range map[string]string{
		"empty":          "",
		"garbage":        "not.a.token",
		"other key":      foreign,
		"tampered":       tampered,
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"HS512":          sign(jwt.SigningMethodHS512, key, claims(nil)),
		"HS384":          sign(jwt.SigningMethodHS384, key, claims(nil)),
		"no exp":         sign(jwt.SigningMethodHS256, key, claims(func(c *tokenClaims) { c.ExpiresAt = nil })),
		"other issuer":   sign(jwt.SigningMethodHS256, key, claims(func(c *tokenClaims) { c.Issuer = "evil" })),
		"no subject":     sign(jwt.SigningMethodHS256, key, claims(func(c *tokenClaims) { c.Subject = "" })),
		"signature cut":  good[:len(good)-4],
		"trailing parts": good + ".x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := iss.Verify(tok, t0)
			wantUnauthorized(t, err, "invalid_token")
		})
	}
	if _, err := NewIssuer(key[:31]); err == nil {
		t.Error("short key accepted")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 32)
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
	} {
		k, err := LoadOrCreateKey(t.TempDir(), s)
		if err != nil || !bytes.Equal(k, raw) {
			t.Errorf("configured %q: %x %v", s, k, err)
		}
	}
	plain := "a plain passphrase of at least 32 bytes!"
	if k, err := LoadOrCreateKey("", plain); err != nil || string(k) != plain {
		t.Errorf("raw configured key: %q %v", k, err)
	}
	if _, err := LoadOrCreateKey(t.TempDir(), "short"); err == nil {
		t.Error("short configured key accepted")
	}
	if _, err := LoadOrCreateKey("", ""); err == nil {
		t.Error("no key and no dir accepted")
	}

	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrCreateKey(dir, "")
	if err != nil || len(k1) != 32 {
		t.Fatalf("generate: %x %v", k1, err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := LoadOrCreateKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %x %v", k2, err)
	}
	if k3, _ := LoadOrCreateKey(dir, base64.StdEncoding.EncodeToString(raw)); !bytes.Equal(k3, raw) {
		t.Error("configured key does not win over the file")
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o600)
	if _, err := LoadOrCreateKey(dir, ""); err == nil {
		t.Error("short key file accepted")
	}
}

func TestLoadOrCreateKeyRace(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 16)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(dir, "")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("racing processes got different keys")
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files behind", len(entries))
	}
}

// FuzzVerify: a token from outside never panics the verifier, is refused as
// 401 unless it is exactly a token this issuer signed, and a verified token
// names the account it was issued for.
func FuzzVerify(f *testing.F) {
	i, err := NewIssuer(key)
	if err != nil {
		f.Fatal(err)
	}
	good, _, err := i.Issue("acc-1", 42, t0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good + "x", "", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", strings.Repeat(".", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := i.Verify(tok, t0.Add(time.Minute))
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unauthorized {
				t.Fatalf("refusal %v is not a 401 fault", err)
			}
			return
		}
		if c.AccountID != "acc-1" || c.Position != 42 {
			t.Fatalf("token %q verified as %+v", tok, c)
		}
	})
}
