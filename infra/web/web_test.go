package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"signet/domain/event"
	"signet/domain/fault"
)

type sample struct {
	Login string `json:"login"`
	Ok    bool   `json:"ok"`
	N     int    `json:"n"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, ct, body string
		status         int
		code, field    string
	}{
		{"good", "application/json", `{"login":"a","ok":true,"n":3}`, 0, "", ""},
		{"charset ok", "application/json; charset=utf-8", `{"login":"a"}`, 0, "", ""},
		{"no content type is accepted", "", `{"login":"a"}`, 0, "", ""},
		{"wrong media type", "text/plain", `{"login":"a"}`, 415, "unsupported_media_type", ""},
		{"empty", "application/json", ``, 400, "empty_body", ""},
		{"malformed", "application/json", `{"login":`, 400, "malformed_json", ""},
		{"syntax", "application/json", `{"login" "a"}`, 400, "malformed_json", ""},
		{"unknown field", "application/json", `{"login":"a","admin":true}`, 400, "unknown_field", "admin"},
		{"wrong type", "application/json", `{"ok":"yes"}`, 400, "wrong_type", "ok"},
		{"not an object", "application/json", `[1,2]`, 400, "malformed_json", ""},
		{"trailing data", "application/json", `{"login":"a"}{"login":"b"}`, 400, "malformed_json", ""},
		{"too large", "application/json", `{"login":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, "body_too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			if c.ct != "" {
				r.Header.Set("Content-Type", c.ct)
			}
			var dst sample
			err := DecodeJSON(httptest.NewRecorder(), r, &dst)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok {
				t.Fatalf("want a fault, got %v", err)
			}
			if Status(err) != c.status || f.Code != c.code || f.Field != c.field {
				t.Fatalf("got status %d code %q field %q, want %d %q %q", Status(err), f.Code, f.Field, c.status, c.code, c.field)
			}
		})
	}
}

func TestWriteErrorShapeAndStatus(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fault.New(fault.Rule, "wrong_code", "The code is wrong."), 422, "wrong_code"},
		{fault.New(fault.RateLimited, "too_many", "Slow down.").Retry(1500 * 1e6), 429, "too_many"},
		{fmt.Errorf("append x: %w", event.ErrConcurrency), 409, "conflict"},
		{fmt.Errorf("read x: %w", event.ErrNotFound), 404, "not_found"},
		{errors.New("disk on fire"), 500, "internal"},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest(http.MethodGet, "/", nil), c.err)
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q is not the error shape: %v", c.err, w.Body.String(), err)
		}
		if w.Code != c.status || body.Error.Code != c.code || body.Error.Message == "" {
			t.Fatalf("%v: got %d %+v", c.err, w.Code, body)
		}
		if strings.Contains(w.Body.String(), "disk on fire") {
			t.Fatal("an internal error leaked to the client")
		}
		if c.status == 429 && w.Header().Get("Retry-After") != "2" {
			t.Fatalf("Retry-After = %q, want 2", w.Header().Get("Retry-After"))
		}
	}
}

func TestRequireAuth(t *testing.T) {
	verify := func(tok string) (Principal, error) {
		if tok == "good" {
			return Principal{AccountID: "a1", Position: 7}, nil
		}
		return Principal{}, fault.New(fault.Unauthorized, "invalid_token", "bad token")
	}
	h := RequireAuth(verify)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := Caller(r.Context())
		fmt.Fprint(w, p.AccountID, p.Position)
	}))
	for hdr, want := range map[string]int{"": 401, "Basic abc": 401, "Bearer bad": 401, "Bearer good": 200} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if hdr != "" {
			r.Header.Set("Authorization", hdr)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%q: status %d, want %d", hdr, w.Code, want)
		}
		if want == 200 && w.Body.String() != "a17" {
			t.Fatalf("caller not in context: %q", w.Body.String())
		}
	}
}

func TestRequestIDOnlyWhenSafe(t *testing.T) {
	var seen string
	h := Common(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = RequestID(r.Context()) }))
	for in, keep := range map[string]bool{"abc-123_x.y": true, "req-\xff\xfe": false, "a b": false, "": false, strings.Repeat("a", 65): false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Request-ID", in)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if (seen == in) != keep || seen == "" {
			t.Errorf("X-Request-ID %q: request ID %q", in, seen)
		}
	}
}

func TestCommonRecoversPanics(t *testing.T) {
	h := Common(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"internal"`) || w.Header().Get("X-Request-ID") == "" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// FuzzDecodeStrict: no input makes the decoder panic, and every refusal is a
// client error (4xx) in the API's vocabulary, never a 500.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"login":"a","ok":true,"n":1}`, `{}`, `[]`, `{"a":1}`, `{"n":1e400}`, `nul`, `{"login":"\ud800"}`, "{\"login\":\"a\"}\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var dst sample
		err := DecodeStrict(bytes.NewReader(b), &dst)
		if err == nil {
			return
		}
		if s := Status(err); s < 400 || s >= 500 {
			t.Fatalf("input %q: status %d for %v", b, s, err)
		}
	})
}
