package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

func hashOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func open(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	tests := []struct {
		name, mediaType, wantType string
		data                      []byte
	}{
		{"png", "image/png", "image/png", []byte("\x89PNG\r\n\x1a\nfake")},
		{"pdf", "application/pdf", "application/pdf", bytes.Repeat([]byte("%PDF-1.7 "), 100_000)},
		{"empty", "application/octet-stream", "application/octet-stream", nil},
		{"normalised type", "Image/JPEG", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0xe0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := s.Put(ctx, tt.data, tt.mediaType)
			if err != nil {
				t.Fatal(err)
			}
			want := Ref{SHA256: hashOf(tt.data), Size: int64(len(tt.data)), MediaType: tt.wantType}
			if ref != want {
				t.Fatalf("Put = %+v, want %+v", ref, want)
			}
			got, gref, err := s.Get(ctx, ref.SHA256)
			if err != nil || !bytes.Equal(got, tt.data) || gref != want {
				t.Fatalf("Get = %d bytes %+v %v", len(got), gref, err)
			}
			if ok, err := s.Has(ctx, ref.SHA256); !ok || err != nil {
				t.Fatalf("Has = %v %v", ok, err)
			}
			path := filepath.Join(dir, "sha256", ref.SHA256[:2], ref.SHA256[2:])
			for _, p := range []string{path, path + ".type"} {
				info, err := os.Stat(p)
				if err != nil || info.Mode().Perm() != 0o600 {
					t.Fatalf("%s: %v %v, want mode 0600", p, info.Mode(), err)
				}
			}
			info, err := os.Stat(filepath.Dir(path))
			if err != nil || info.Mode().Perm() != 0o700 {
				t.Fatalf("dir mode %v %v, want 0700", info.Mode(), err)
			}
		})
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestPutIdempotent(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	data := []byte("licence photo")
	first, err := s.Put(ctx, data, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sha256", first.SHA256[:2], first.SHA256[2:])
	before, _ := os.Stat(path)
	// An existing blob is not rewritten: the file stays the same inode, and
	// the first media type is kept.
	second, err := s.Put(ctx, data, "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if second != first || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("second Put = %+v, first %+v; same file %v", second, first, os.SameFile(before, after))
	}
	// Reopening the directory keeps what was stored.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ref, err := s2.Get(ctx, first.SHA256); err != nil || !bytes.Equal(got, data) || ref != first {
		t.Fatalf("Get after reopen = %q %+v %v", got, ref, err)
	}
}

func TestCorruption(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(path string) error
	}{
		{"flipped byte", func(p string) error {
			b, _ := os.ReadFile(p)
			b[3] ^= 1
			return os.WriteFile(p, b, 0o600)
		}},
		{"truncated", func(p string) error { return os.Truncate(p, 5) }},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
		{"media type lost", func(p string) error { return os.Remove(p + ".type") }},
		{"media type garbage", func(p string) error { return os.WriteFile(p+".type", []byte("/"), 0o600) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := open(t)
			data := []byte("ID card photo bytes")
			ref, err := s.Put(ctx, data, "image/jpeg")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "sha256", ref.SHA256[:2], ref.SHA256[2:])
			if err := tt.damage(path); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Get(ctx, ref.SHA256); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get of damaged blob = %v, want ErrCorrupt", err)
			}
			// Putting the content again repairs it.
			if _, err := s.Put(ctx, data, "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			if got, r, err := s.Get(ctx, ref.SHA256); err != nil || !bytes.Equal(got, data) || r != ref {
				t.Fatalf("Get after repair = %q %+v %v", got, r, err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	missing := hashOf([]byte("never stored"))
	_, _, err := s.Get(ctx, missing)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, event.ErrNotFound) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	if ok, err := s.Has(ctx, missing); ok || err != nil {
		t.Fatalf("Has = %v %v", ok, err)
	}
}

func TestBadHashRefused(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	// A file outside the store that traversal would reach.
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := hashOf([]byte("x"))
	for _, h := range []string{
		"",
		"../../secret",
		"../" + good[3:],
		strings.ToUpper(good),
		good[:63],
		good + "0",
		good[:62] + "/x",
		good[:63] + "g",
		"..%2f" + good[5:],
		good[:63] + "\x00",
	} {
		if _, _, err := s.Get(ctx, h); !isBadHash(err) {
			t.Errorf("Get(%q) = %v, want invalid_hash", h, err)
		}
		if _, err := s.Has(ctx, h); !isBadHash(err) {
			t.Errorf("Has(%q) = %v, want invalid_hash", h, err)
		}
	}
}

func isBadHash(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == fault.Invalid && f.Code == "invalid_hash"
}

func TestPutRefusesBadMediaType(t *testing.T) {
	s, _ := open(t)
	for _, mt := range []string{"", "image/", "image/png\r\nX: y", "not a type"} {
		if _, err := s.Put(context.Background(), []byte("x"), mt); err == nil {
			t.Errorf("Put with media type %q succeeded", mt)
		}
	}
}

func TestCancelled(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, []byte("x"), "image/png"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v", err)
	}
	if _, _, err := s.Get(ctx, hashOf([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	if _, err := s.Has(ctx, hashOf([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Has = %v", err)
	}
}

// Many writers of the same content, through one Store and through
// several Stores on the same directory, all succeed with the same Ref and
// leave one intact blob.
func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	data := bytes.Repeat([]byte("stamped authorization letter "), 50_000)
	want := Ref{SHA256: hashOf(data), Size: int64(len(data)), MediaType: "image/png"}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			st := s
			if i%2 == 1 {
				var err error
				if st, err = Open(dir); err != nil {
					errs <- err
					return
				}
			}
			ref, err := st.Put(ctx, data, "image/png")
			if err == nil && ref != want {
				err = errors.New("wrong ref")
			}
			if err == nil {
				var got []byte
				got, _, err = st.Get(ctx, want.SHA256)
				if err == nil && !bytes.Equal(got, data) {
					err = errors.New("wrong data")
				}
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("temporary files left: %d", len(left))
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "sha256", want.SHA256[:2]))
	if len(entries) != 2 {
		t.Fatalf("want the blob and its .type, got %d entries", len(entries))
	}
}

func TestOpenRemovesStaleTemp(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, "tmp", "put-1"), filepath.Join(dir, "tmp", "put-2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
}

func FuzzGet(f *testing.F) {
	dir := f.TempDir()
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	stored, err := s.Put(context.Background(), []byte("stored"), "image/png")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stored.SHA256)
	f.Add("../tmp")
	f.Add(strings.Repeat("a", 64))
	f.Add(strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, hash string) {
		data, ref, err := s.Get(context.Background(), hash)
		switch {
		case err == nil:
			if hash != stored.SHA256 || ref != stored || string(data) != "stored" {
				t.Fatalf("Get(%q) found %+v", hash, ref)
			}
		case isBadHash(err):
			if len(hash) == 64 && strings.Trim(hash, "0123456789abcdef") == "" {
				t.Fatalf("Get(%q) refused a well-formed hash", hash)
			}
		case !errors.Is(err, ErrNotFound):
			t.Fatalf("Get(%q) = %v", hash, err)
		}
	})
}
