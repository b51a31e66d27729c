package password

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// cheap keeps tests fast; DefaultParams are exercised once.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h, err := New(cheap)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash("Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(enc) {
		t.Fatalf("PHC string %q", enc)
	}
	again, _ := h.Hash("Passw0rd")
	if again == enc {
		t.Error("two hashes of one password are equal (salt not random)")
	}
	for pw, want := range map[string]bool{"Passw0rd": true, "passw0rd": false, "Passw0rd ": false, "": false} {
		ok, err := h.Verify(pw, enc)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if h.NeedsRehash(enc) {
		t.Error("fresh hash needs rehash")
	}
	strong, _ := New(Params{Memory: 128, Time: 2, Threads: 2})
	if !strong.NeedsRehash(enc) {
		t.Error("cheaper hash does not need rehash")
	}
	// Hashes made with other parameters still verify.
	if ok, err := strong.Verify("Passw0rd", enc); !ok || err != nil {
		t.Errorf("cross-parameter verify: %v %v", ok, err)
	}
}

func TestDefaultParams(t *testing.T) {
	h, err := New(Params{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Params() != DefaultParams || DefaultParams.Memory != 19456 || DefaultParams.Time != 2 || DefaultParams.Threads != 1 {
		t.Fatalf("params %+v", h.Params())
	}
	enc, err := h.Hash("Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC %q", enc)
	}
	if ok, _ := h.Verify("Passw0rd", enc); !ok {
		t.Fatal("no match")
	}
}

// TestKnownVector checks interoperability with the reference argon2
// implementation (phc-winner-argon2 src/test.c: argon2id v=19, t=2, m=2^16,
// p=1, "password", "somesalt").
func TestKnownVector(t *testing.T) {
	h, _ := New(cheap)
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, err := h.Verify("password", ref)
	if err != nil || !ok {
		t.Fatalf("reference vector: %v %v", ok, err)
	}
}

func TestMalformed(t *testing.T) {
	h, _ := New(cheap)
	good, _ := h.Hash("x")
	parts := strings.Split(good, "$")
	for _, enc := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$t=1,m=64,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=0,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=256$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5] + "=",
		good + "$",
	} {
		ok, err := h.Verify("x", enc)
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", enc, ok, err)
		}
		if !h.NeedsRehash(enc) {
			t.Errorf("NeedsRehash(%q) = false", enc)
		}
	}
}

func TestNewRefusesSillyParams(t *testing.T) {
	for _, p := range []Params{{Memory: 4}, {Memory: 1 << 21}, {Time: 100}, {SaltLen: 4}, {KeyLen: 8}} {
		if _, err := New(p); err == nil {
			t.Errorf("New(%+v) accepted", p)
		}
	}
}
