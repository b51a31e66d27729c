package face

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
)

var _ Starter = (*Dev)(nil)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func req(id string) StartRequest {
	return StartRequest{SessionID: id, Name: "张三", IDNumber: "110101199003071234", CallbackURL: "https://signet.example/callbacks/face"}
}

func TestDevStart(t *testing.T) {
	c := clock.NewFake(t0)
	d := NewDev(c)
	ctx := context.Background()
	s, err := d.Start(ctx, req("fs_1"))
	if err != nil {
		t.Fatal(err)
	}
	want := Session{ID: "fs_1", QRURL: "https://face.dev.invalid/scan/fs_1", ExpiresAt: t0.Add(10 * time.Minute)}
	if s != want {
		t.Fatalf("Start = %+v, want %+v", s, want)
	}
	c.Advance(time.Minute)
	s2, err := d.Start(ctx, req("fs/2?x"))
	if err != nil {
		t.Fatal(err)
	}
	if s2.QRURL != "https://face.dev.invalid/scan/fs%2F2%3Fx" || !s2.ExpiresAt.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("second session %+v", s2)
	}
	got, ok := d.Session("fs_1")
	if !ok || got.Session != s || got.Request != req("fs_1") {
		t.Errorf("Session(fs_1) = %+v, %v", got, ok)
	}
	if _, ok := d.Session("nope"); ok {
		t.Error("unknown session found")
	}
	all := d.Sessions()
	if len(all) != 2 || all[0].Session.ID != "fs_1" || all[1].Session.ID != "fs/2?x" {
		t.Errorf("Sessions = %+v", all)
	}
	_, err = d.Start(ctx, req("fs_1"))
	if f, ok := fault.As(err); !ok || f.Kind != fault.Conflict {
		t.Errorf("duplicate start: %v", err)
	}
	if len(d.Sessions()) != 2 {
		t.Error("refused start recorded")
	}
}

func TestDevStartRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*StartRequest)
		field string
	}{
		{"no session id", func(r *StartRequest) { r.SessionID = "" }, "session_id"},
		{"session id with newline", func(r *StartRequest) { r.SessionID = "a\nb" }, "session_id"},
		{"session id too long", func(r *StartRequest) { r.SessionID = strings.Repeat("a", 129) }, "session_id"},
		{"no name", func(r *StartRequest) { r.Name = " " }, "name"},
		{"no id number", func(r *StartRequest) { r.IDNumber = "" }, "id_number"},
		{"no callback", func(r *StartRequest) { r.CallbackURL = "" }, "callback_url"},
		{"relative callback", func(r *StartRequest) { r.CallbackURL = "/callbacks/face" }, "callback_url"},
		{"ftp callback", func(r *StartRequest) { r.CallbackURL = "ftp://signet.example/x" }, "callback_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDev(nil)
			r := req("fs_1")
			tt.edit(&r)
			_, err := d.Start(context.Background(), r)
			if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid || f.Field != tt.field {
				t.Fatalf("err %v, want Invalid on %s", err, tt.field)
			}
			if len(d.Sessions()) != 0 {
				t.Error("refused start recorded")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewDev(nil).Start(ctx, req("fs_1")); err != context.Canceled {
		t.Errorf("canceled: %v", err)
	}
}

func TestDevComplete(t *testing.T) {
	c := clock.NewFake(t0)
	d := NewDev(c)
	if _, err := d.Start(context.Background(), req("fs_1")); err != nil {
		t.Fatal(err)
	}
	c.Advance(3 * time.Minute)
	r, err := d.Complete("fs_1", true, 97.5, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Result{SessionID: "fs_1", Passed: true, Score: 97.5, CompletedAt: t0.Add(3 * time.Minute)}
	if r != want {
		t.Fatalf("Complete = %+v", r)
	}
	// What Dev produces, ParseResult accepts unchanged.
	body, _ := json.Marshal(r)
	back, err := ParseResult(body)
	if err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip %s: %+v, %v", body, back, err)
	}
	if _, err := d.Complete("nope", true, 90, ""); !isKind(err, fault.NotFound) {
		t.Errorf("unknown session: %v", err)
	}
	c.Advance(8 * time.Minute)
	if _, err := d.Complete("fs_1", true, 90, ""); !isKind(err, fault.Rule) {
		t.Errorf("expired session: %v", err)
	}
}

func isKind(err error, k fault.Kind) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == k
}

func TestParseResult(t *testing.T) {
	at := "2026-03-04T05:06:07Z"
	tests := []struct {
		name, body string
		want       Result
		field      string // "" and want zero: error without field
		code       string
	}{
		{"passed", `{"session_id":"fs_1","passed":true,"score":97.5,"completed_at":"` + at + `"}`,
			Result{SessionID: "fs_1", Passed: true, Score: 97.5, CompletedAt: t0}, "", ""},
		{"failed with reason", `{"session_id":"fs_1","passed":false,"score":12,"reason":"liveness_failed","completed_at":"2026-03-04T13:06:07+08:00"}`,
			Result{SessionID: "fs_1", Score: 12, Reason: "liveness_failed", CompletedAt: t0}, "", ""},
		{"unknown field", `{"session_id":"fs_1","passed":true,"completed_at":"` + at + `","photo":"..."}`, Result{}, "photo", "unknown_field"},
		{"no session id", `{"passed":true,"completed_at":"` + at + `"}`, Result{}, "session_id", "required"},
		{"empty session id", `{"session_id":"","completed_at":"` + at + `"}`, Result{}, "session_id", "required"},
		{"session id with tab", `{"session_id":"a\tb","completed_at":"` + at + `"}`, Result{}, "session_id", "invalid_id"},
		{"no completed_at", `{"session_id":"fs_1","passed":true}`, Result{}, "completed_at", "required"},
		{"bad completed_at", `{"session_id":"fs_1","completed_at":"yesterday"}`, Result{}, "", "malformed_json"},
		{"negative score", `{"session_id":"fs_1","score":-1,"completed_at":"` + at + `"}`, Result{}, "score", "out_of_range"},
		{"score above 100", `{"session_id":"fs_1","score":100.5,"completed_at":"` + at + `"}`, Result{}, "score", "out_of_range"},
		{"score as string", `{"session_id":"fs_1","score":"97","completed_at":"` + at + `"}`, Result{}, "score", "wrong_type"},
		{"passed as string", `{"session_id":"fs_1","passed":"true","completed_at":"` + at + `"}`, Result{}, "passed", "wrong_type"},
		{"long reason", `{"session_id":"fs_1","reason":"` + strings.Repeat("x", 257) + `","completed_at":"` + at + `"}`, Result{}, "reason", "too_long"},
		{"two objects", `{"session_id":"fs_1","completed_at":"` + at + `"}{}`, Result{}, "", "malformed_json"},
		{"array", `[]`, Result{}, "", "malformed_json"},
		{"null", `null`, Result{}, "session_id", "required"},
		{"empty", ``, Result{}, "", "empty_body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResult([]byte(tt.body))
			if tt.code == "" {
				if err != nil || !reflect.DeepEqual(got.CompletedAt.UTC(), tt.want.CompletedAt) {
					t.Fatalf("ParseResult = %+v, %v", got, err)
				}
				got.CompletedAt = tt.want.CompletedAt
				if got != tt.want {
					t.Fatalf("ParseResult = %+v, want %+v", got, tt.want)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Code != tt.code || f.Field != tt.field {
				t.Fatalf("err %#v, want %s on %q", err, tt.code, tt.field)
			}
		})
	}
}

func TestDevConcurrent(t *testing.T) {
	d := NewDev(nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			id := fmt.Sprint("fs_", i%25) // half collide
			d.Start(context.Background(), req(id))
			d.Session(id)
			_ = d.Sessions()
		})
	}
	wg.Wait()
	if n := len(d.Sessions()); n != 25 {
		t.Fatalf("%d sessions", n)
	}
}

func TestDevKeepsLastRecords(t *testing.T) {
	d := NewDev(nil)
	for i := range maxRecords + 3 {
		if _, err := d.Start(context.Background(), req(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	all := d.Sessions()
	if _, ok := d.Session("2"); ok || len(all) != maxRecords || all[0].Session.ID != "3" {
		t.Fatalf("%d sessions, first %q", len(all), all[0].Session.ID)
	}
}

func FuzzParseResult(f *testing.F) {
	f.Add([]byte(`{"session_id":"fs_1","passed":true,"score":97.5,"completed_at":"2026-03-04T05:06:07Z"}`))
	f.Add([]byte(`{"session_id":"fs_1","passed":false,"score":0,"reason":"x","completed_at":"2026-03-04T13:06:07.123+08:00"}`))
	f.Add([]byte(`{"session_id":"\u00e9","completed_at":"0001-01-01T00:00:01Z"}`))
	f.Add([]byte(`{"SESSION_ID":"a","completed_at":"2026-03-04T05:06:07Z","session_id":"b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResult(body)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("plain error %v", err)
			}
			return
		}
		if r.SessionID == "" || r.CompletedAt.IsZero() || r.Score < 0 || r.Score > 100 {
			t.Fatalf("accepted %+v", r)
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted %+v cannot be encoded: %v", r, err)
		}
		r2, err := ParseResult(again)
		if err != nil || r2.SessionID != r.SessionID || r2.Passed != r.Passed || r2.Score != r.Score ||
			r2.Reason != r.Reason || !r2.CompletedAt.Equal(r.CompletedAt) {
			t.Fatalf("round trip of %+v: %+v, %v", r, r2, err)
		}
	})
}
