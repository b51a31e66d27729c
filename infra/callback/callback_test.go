package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
)

var (
	secret = []byte("test-secret-of-the-face-provider")
	t0     = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

func newVerifier(t *testing.T) (Verifier, *clock.Fake, *redisdb.DB) {
	t.Helper()
	db := redistest.New(t)
	c := clock.NewFake(t0)
	return Verifier{Secret: secret, Replays: RedisReplays{DB: db}, Clock: c}, c, db
}

func headers(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return "plain: " + err.Error()
}

// The vector comes from openssl, not from this package:
// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
func TestSignKnownVector(t *testing.T) {
	ts, sig := Sign([]byte("secret"), time.Unix(1700000000, 999_000_000), []byte(`{"a":1}`))
	if ts != "1700000000" {
		t.Errorf("timestamp %q", ts)
	}
	if want := "v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"; sig != want {
		t.Errorf("signature %q, want %q", sig, want)
	}
	req := httptest.NewRequest(http.MethodPost, "/cb", nil)
	SignRequest(req, []byte("secret"), time.Unix(1700000000, 0), []byte(`{"a":1}`))
	if req.Header.Get(HeaderTimestamp) != ts || req.Header.Get(HeaderSignature) != sig {
		t.Errorf("SignRequest headers %v", req.Header)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"session_id":"s1","passed":true}`)
	goodTS, goodSig := Sign(secret, t0, body)
	tsAt := func(d time.Duration) (string, string) { return Sign(secret, t0.Add(d), body) }
	upper := "v1=" + strings.ToUpper(goodSig[3:])
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   string
	}{
		{"good", headers(goodTS, goodSig), body, ""},
		{"tampered body", headers(goodTS, goodSig), []byte(`{"session_id":"s1","passed":false}`), "callback_bad_signature"},
		{"empty body", headers(goodTS, goodSig), nil, "callback_bad_signature"},
		{"tampered timestamp", headers(strconv.FormatInt(t0.Unix()+1, 10), goodSig), body, "callback_bad_signature"},
		{"other secret", headers(Sign([]byte("another secret"), t0, body)), body, "callback_bad_signature"},
		{"stale", headers(tsAt(-DefaultWindow - time.Second)), body, "callback_stale"},
		{"future", headers(tsAt(DefaultWindow + time.Second)), body, "callback_stale"},
		{"oldest accepted", headers(tsAt(-DefaultWindow)), body, ""},
		{"newest accepted", headers(tsAt(DefaultWindow)), body, ""},
		{"no headers", headers("", ""), body, "callback_unsigned"},
		{"no timestamp", headers("", goodSig), body, "callback_unsigned"},
		{"no signature", headers(goodTS, ""), body, "callback_unsigned"},
		{"timestamp with sign", headers("+"+goodTS, goodSig), body, "callback_unsigned"},
		{"timestamp with leading zero", headers("0"+goodTS, goodSig), body, "callback_unsigned"},
		{"timestamp in ms", headers(goodTS+"000", goodSig), body, "callback_unsigned"},
		{"timestamp not a number", headers("yesterday", goodSig), body, "callback_unsigned"},
		{"signature without version", headers(goodTS, goodSig[3:]), body, "callback_unsigned"},
		{"signature v0", headers(goodTS, "v0="+goodSig[3:]), body, "callback_unsigned"},
		{"signature upper-case hex", headers(goodTS, upper), body, "callback_unsigned"},
		{"signature truncated", headers(goodTS, goodSig[:len(goodSig)-2]), body, "callback_unsigned"},
		{"two signatures", http.Header{HeaderTimestamp: {goodTS}, HeaderSignature: {goodSig, goodSig}}, body, "callback_unsigned"},
		{"two timestamps", http.Header{HeaderTimestamp: {goodTS, goodTS}, HeaderSignature: {goodSig}}, body, "callback_unsigned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _, _ := newVerifier(t) // a fresh namespace: no replays across cases
			err := v.Verify(context.Background(), tt.header, tt.body)
			if got := code(err); got != tt.want {
				t.Fatalf("Verify = %q (%v), want %q", got, err, tt.want)
			}
			if err == nil {
				return
			}
			f, _ := fault.As(err)
			if f.Kind != fault.Unauthorized {
				t.Errorf("kind %v, want Unauthorized", f.Kind)
			}
			if f.Message == "" {
				t.Error("no message")
			}
		})
	}
}

func TestVerifyWindowAndClock(t *testing.T) {
	v, c, _ := newVerifier(t)
	v.Window = time.Minute
	body := []byte("x")
	h := headers(Sign(secret, t0, body))
	c.Advance(61 * time.Second)
	if got := code(v.Verify(context.Background(), h, body)); got != "callback_stale" {
		t.Fatalf("after window: %q", got)
	}
	c.Set(t0.Add(59 * time.Second))
	if err := v.Verify(context.Background(), h, body); err != nil {
		t.Fatalf("inside window: %v", err)
	}

	// A nil clock is the system clock.
	v.Clock = nil
	if err := v.Verify(context.Background(), headers(Sign(secret, time.Now(), body)), body); err != nil {
		t.Fatalf("system clock: %v", err)
	}
	if got := code(v.Verify(context.Background(), h, body)); got != "callback_stale" {
		t.Fatalf("2026 timestamp against the system clock: %q", got)
	}
}

func TestVerifyRefusesReplay(t *testing.T) {
	v, c, db := newVerifier(t)
	ctx := context.Background()
	body := []byte(`{"transfer_id":"t1","status":"succeeded"}`)
	h := headers(Sign(secret, t0, body))
	if err := v.Verify(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	err := v.Verify(ctx, h, body)
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Conflict || f.Code != "callback_replayed" {
		t.Fatalf("replay = %v", err)
	}
	// A provider retry signs afresh; that is a new delivery.
	if err := v.Verify(ctx, headers(Sign(secret, c.Now(), body)), body); err != nil {
		t.Fatalf("re-signed retry: %v", err)
	}

	// The key lives under the prefix until the timestamp leaves the window.
	keys, err := db.Keys(ctx, db.Key("callback:seen:*")).Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	ttl, err := db.PTTL(ctx, db.Key("callback:seen:"+h.Get(HeaderSignature)[3:])).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > DefaultWindow+time.Second {
		t.Errorf("TTL %v, want within (0, %v]", ttl, DefaultWindow+time.Second)
	}
}

// A forger who copies a genuine signature onto another body fails the
// signature check and must not spend the genuine delivery's key.
func TestForgedRequestDoesNotBurnNonce(t *testing.T) {
	v, _, _ := newVerifier(t)
	ctx := context.Background()
	genuine := []byte(`{"session_id":"s1","passed":true}`)
	h := headers(Sign(secret, t0, genuine))
	for range 3 {
		if got := code(v.Verify(ctx, h, []byte(`{"session_id":"s1","passed":false}`))); got != "callback_bad_signature" {
			t.Fatalf("forgery: %q", got)
		}
	}
	if err := v.Verify(ctx, h, genuine); err != nil {
		t.Fatalf("genuine delivery after forgeries: %v", err)
	}
}

func TestConcurrentDeliveriesPassOnce(t *testing.T) {
	v, _, _ := newVerifier(t)
	body := []byte(`{"statement_id":"st1"}`)
	h := headers(Sign(secret, t0, body))
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = v.Verify(context.Background(), h, body)
		})
	}
	close(start)
	wg.Wait()
	passed, replayed := 0, 0
	for _, err := range errs {
		switch code(err) {
		case "":
			passed++
		case "callback_replayed":
			replayed++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if passed != 1 || replayed != n-1 {
		t.Fatalf("passed %d, replayed %d", passed, replayed)
	}
}

func TestVerifyFailsClosed(t *testing.T) {
	body := []byte("x")
	h := headers(Sign(nil, time.Now(), body))
	if err := (Verifier{Replays: RedisReplays{DB: redistest.New(t)}}).Verify(context.Background(), h, body); err == nil {
		t.Error("empty secret accepted a callback signed with the empty secret")
	}
	h = headers(Sign(secret, time.Now(), body))
	if err := (Verifier{Secret: secret}).Verify(context.Background(), h, body); err == nil {
		t.Error("no replay store accepted a callback")
	}

	// A broken store is an error, not a pass and not a refusal.
	db, err := redisdb.Open(context.Background(), "", "broken:")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = (Verifier{Secret: secret, Replays: RedisReplays{DB: db}}).Verify(context.Background(), h, body)
	if err == nil {
		t.Fatal("closed Redis: accepted")
	}
	if _, ok := fault.As(err); ok {
		t.Fatalf("closed Redis: refusal %v, want plain error", err)
	}
}

func TestMiddleware(t *testing.T) {
	v, _, _ := newVerifier(t)
	var got []byte
	h := Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if r.ContentLength != int64(len(got)) {
			t.Errorf("ContentLength %d, body %d", r.ContentLength, len(got))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	body := []byte(`{"session_id":"s1"}`)
	big := bytes.Repeat([]byte("a"), MaxBodyBytes+1)
	send := func(b []byte, sign bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/callbacks/face", bytes.NewReader(b))
		if sign {
			SignRequest(req, secret, t0, b)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name   string
		body   []byte
		sign   bool
		status int
		code   string
	}{
		{"good", body, true, http.StatusNoContent, ""},
		{"replay", body, true, http.StatusConflict, "callback_replayed"},
		{"unsigned", []byte(`{"session_id":"s2"}`), false, http.StatusUnauthorized, "callback_unsigned"},
		{"too large", big, true, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"exactly the limit", big[:MaxBodyBytes], true, http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		got = nil
		rec := send(tt.body, tt.sign)
		if rec.Code != tt.status {
			t.Fatalf("%s: status %d, body %s", tt.name, rec.Code, rec.Body)
		}
		if tt.code == "" {
			if !bytes.Equal(got, tt.body) {
				t.Errorf("%s: handler read %d bytes, want %d", tt.name, len(got), len(tt.body))
			}
			continue
		}
		if got != nil {
			t.Errorf("%s: handler ran", tt.name)
		}
		var e struct{ Error struct{ Code string } }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != tt.code {
			t.Errorf("%s: error body %s", tt.name, rec.Body)
		}
	}
}

func FuzzParseHeaders(f *testing.F) {
	ts, sig := Sign(secret, t0, []byte("x"))
	f.Add(ts, sig)
	f.Add("0", "v1=")
	f.Add("-1", sig)
	f.Add("1e9", "V1="+sig[3:])
	f.Add("99999999999999999999", sig+"00")
	replays := RedisReplays{DB: redistest.New(f)}
	f.Fuzz(func(t *testing.T, tsIn, sigIn string) {
		n, raw, mac, ok := parseHeaders([]string{tsIn}, []string{sigIn})
		if !ok {
			return
		}
		if raw != tsIn || strconv.FormatInt(n, 10) != tsIn || n < 0 {
			t.Fatalf("timestamp %q parsed as %d (%q)", tsIn, n, raw)
		}
		if len(mac) != 32 || "v1="+strings.ToLower(sigIn[3:]) != sigIn || len(sigIn) != 67 {
			t.Fatalf("signature %q accepted", sigIn)
		}
		// Whatever parses, only the genuine MAC passes (once).
		v := Verifier{Secret: secret, Replays: replays, Clock: clock.NewFake(time.Unix(n, 0))}
		err := v.Verify(context.Background(), headers(tsIn, sigIn), []byte("x"))
		genuine := tsIn == ts && sigIn == sig
		if c := code(err); genuine && c != "" && c != "callback_replayed" || !genuine && c != "callback_bad_signature" {
			t.Fatalf("Verify(%q, %q) = %v", tsIn, sigIn, err)
		}
	})
}
