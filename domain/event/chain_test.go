package event

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func chain(n int) []Envelope {
	var out []Envelope
	prev := ""
	for i := 1; i <= n; i++ {
		e := Envelope{ID: fmt.Sprintf("id-%d", i), Stream: "contract-1", Version: uint64(i), Position: uint64(10 + i),
			Type: "Thing", Schema: 1, Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Meta: Metadata{Actor: "a", ClientIP: "10.0.0.1", OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}}
		Seal(prev, &e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func([]Envelope) []Envelope
		version uint64
		reason  string
	}{
		{"intact", func(e []Envelope) []Envelope { return e }, 0, ""},
		{"data byte changed", func(e []Envelope) []Envelope { e[2].Data = []byte(`{"n":9}`); return e }, 3, "content"},
		{"metadata changed", func(e []Envelope) []Envelope { e[1].Meta.Actor = "mallory"; return e }, 2, "content"},
		{"time changed", func(e []Envelope) []Envelope {
			e[0].Meta.OccurredAt = e[0].Meta.OccurredAt.Add(time.Microsecond)
			return e
		}, 1, "content"},
		{"type changed", func(e []Envelope) []Envelope { e[3].Type = "Other"; return e }, 4, "content"},
		{"event removed", func(e []Envelope) []Envelope { return append(e[:1:1], e[2:]...) }, 3, "expected version 2"},
		{"event resealed but next links to the old hash", func(e []Envelope) []Envelope {
			e[1].Data = []byte(`{"n":7}`)
			Seal(e[0].Hash, &e[1])
			return e
		}, 3, "prev_hash"},
		{"hash field rewritten", func(e []Envelope) []Envelope { e[4].Hash = e[3].Hash; return e }, 5, "content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyChain(c.tamper(chain(5)))
			if c.version == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("want a ChainError, got %v", err)
			}
			if ce.Version != c.version || ce.EventID != fmt.Sprintf("id-%d", c.version) {
				t.Fatalf("names version %d (%s), want %d: %v", ce.Version, ce.EventID, c.version, err)
			}
			if !strings.Contains(ce.Reason, c.reason) {
				t.Fatalf("reason %q, want it to mention %q", ce.Reason, c.reason)
			}
		})
	}
}

func TestHashIgnoresGlobalPosition(t *testing.T) {
	a := chain(1)[0]
	b := a
	b.Position = 999
	if ChainHash("", a) != ChainHash("", b) {
		t.Fatal("the hash must not depend on the global position, which EventStoreDB assigns after the write")
	}
}

func TestHashFieldsAreUnambiguous(t *testing.T) {
	a := chain(1)[0]
	b := a
	a.Stream, a.Type = "ab", "c"
	b.Stream, b.Type = "a", "bc"
	if ChainHash("", a) == ChainHash("", b) {
		t.Fatal("moving bytes between fields must change the hash")
	}
}

func TestValidate(t *testing.T) {
	good := New{ID: "e1", Type: "T", Schema: 1, Data: []byte(`{}`)}
	cases := []struct {
		name     string
		stream   string
		expected ExpectedVersion
		events   []New
		ok       bool
	}{
		{"good", "account-1", NoStream, []New{good}, true},
		{"exact", "account-1", Exactly(3), []New{good}, true},
		{"any", "account-1", Any, []New{good}, true},
		{"empty stream", "", Any, []New{good}, false},
		{"system stream", "$all", Any, []New{good}, false},
		{"space in stream", "a b", Any, []New{good}, false},
		{"bad expected", "account-1", -5, []New{good}, false},
		{"no events", "account-1", Any, nil, false},
		{"no id", "account-1", Any, []New{{Type: "T", Schema: 1, Data: []byte(`{}`)}}, false},
		{"twice", "account-1", Any, []New{good, good}, false},
		{"no type", "account-1", Any, []New{{ID: "e", Schema: 1, Data: []byte(`{}`)}}, false},
		{"schema 0", "account-1", Any, []New{{ID: "e", Type: "T", Data: []byte(`{}`)}}, false},
		{"not json", "account-1", Any, []New{{ID: "e", Type: "T", Schema: 1, Data: []byte(`{`)}}, false},
		{"metadata not UTF-8", "account-1", Any, []New{{ID: "e", Type: "T", Schema: 1, Data: []byte(`{}`), Meta: Metadata{CorrelationID: "req-\xff\xfe"}}}, false},
	}
	for _, c := range cases {
		err := Validate(c.stream, c.expected, c.events)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if Category("account-1-2") != "account" || Category("x") != "x" || StreamName("batch", "9") != "batch-9" {
		t.Fatal("stream names")
	}
}
