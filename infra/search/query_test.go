package search

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"signet/domain/fault"
)

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Term
	}{
		{"", nil},
		{"   ", nil},
		{"租", []Term{{"租", true}}},
		{" A ", []Term{{"a", true}}},
		{"!", nil},
		{"租赁", []Term{{"租赁", false}}},
		{"房屋 租赁", []Term{{"房屋", false}, {"租赁", false}}},
		{"租 合同", []Term{{"租", true}, {"合同", false}}},
		{"NDA合同", []Term{{"NDA", false}, {"合同", false}}},
		{"a租b", []Term{{"a", false}, {"租", true}, {"b", false}}},
		{"a lease", []Term{{"a", false}, {"lease", false}}},
		{"租赁 - 合同", []Term{{"租赁", false}, {"合同", false}}},
		{"HT-0001", []Term{{"HT-0001", false}}},
		{"ｶﾀｶﾅ", []Term{{"ｶﾀｶﾅ", false}}},
	} {
		if got := Terms(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Terms(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCursor(t *testing.T) {
	for _, c := range []Cursor{
		{SentDesc, 1_700_000_000_000_000, "c1"},
		{DeadlineAsc, 0, "id|with|bars"},
		{NewestFirst, math.MinInt64, "合同"},
		{OldestFirst, math.MaxInt64, "x"},
	} {
		got, err := DecodeCursor(c.Encode(), c.Sort)
		if err != nil || got != c {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
		if _, err := DecodeCursor(c.Encode(), "other"); !isInvalidCursor(err) {
			t.Errorf("cursor of %s accepted for another sort: %v", c.Sort, err)
		}
	}
	for _, bad := range []string{"", "!!", "MXxzZW50X2Rlc2N8MXw", "Mnxzx", Cursor{SentDesc, 1, ""}.Encode(), strings.Repeat("A", 600)} {
		if _, err := DecodeCursor(bad, SentDesc); !isInvalidCursor(err) {
			t.Errorf("DecodeCursor(%q): %v", bad, err)
		}
	}
}

func isInvalidCursor(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == fault.Invalid && f.Code == "invalid_cursor"
}

func TestPrepareContracts(t *testing.T) {
	q, p, err := PrepareContracts(ContractQuery{Principals: []string{"", "ent:a"}, Status: []string{" ", "signing "}, Tags: []string{""}, Text: " 租 "})
	if err != nil {
		t.Fatal(err)
	}
	if q.Sort != SentDesc || q.Limit != DefaultLimit || !p.Desc || !reflect.DeepEqual(p.Principals, []string{"ent:a"}) ||
		!reflect.DeepEqual(q.Status, []string{"signing"}) || q.Tags != nil || !reflect.DeepEqual(p.Text, []Term{{"租", true}}) {
		t.Errorf("prepared %+v %+v", q, p)
	}
	if _, _, err := PrepareContracts(ContractQuery{Principals: []string{"ent:a"}, Limit: 500}); err != nil {
		t.Errorf("limit 500: %v", err)
	}
	if _, _, err := PrepareContracts(ContractQuery{Principals: []string{"ent:a"}, Status: make([]string, 60)}); err != nil {
		t.Errorf("60 empty statuses: %v", err)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = "s"
	}
	if _, _, err := PrepareContracts(ContractQuery{Principals: []string{"ent:a"}, Status: many}); err == nil {
		t.Error("51 statuses accepted")
	}
	if _, _, err := PrepareContracts(ContractQuery{Principals: []string{"ent:a"}, Text: "\xff"}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	if _, _, err := PrepareContracts(ContractQuery{}); !errors.Is(err, ErrNoPrincipals) {
		t.Errorf("no principals: %v", err)
	}
	from := time.Now()
	if _, _, err := PrepareContracts(ContractQuery{Principals: []string{"x"}, SentFrom: &from, SentTo: &from}); err != nil {
		t.Errorf("empty range refused: %v", err)
	}
	if _, p, _ := PrepareAudit(AuditQuery{Principals: []string{"ent:a", PlatformPrincipal}}); !p.Platform {
		t.Error("platform principal not recognised")
	}
}

func TestBatchPrepare(t *testing.T) {
	docs, err := Batch{Contracts: []ContractDoc{{ID: "a", Version: 2}, {ID: "b", Version: 1}, {ID: "a", Version: 5}, {ID: "a", Version: 3}}}.Prepare()
	if err != nil || len(docs) != 2 || docs[0].ID != "a" || docs[0].Version != 5 || docs[1].ID != "b" {
		t.Errorf("Prepare: %+v, %v", docs, err)
	}
	for _, b := range []Batch{
		{Contracts: []ContractDoc{{ID: strings.Repeat("x", 501), Version: 1}}},
		{Contracts: []ContractDoc{{ID: "\xff", Version: 1}}},
		{Audit: []AuditRecord{{}}},
		{Checkpoint: &Checkpoint{Name: strings.Repeat("n", 101)}},
	} {
		if _, err := b.Prepare(); !errors.Is(err, ErrInvalidDoc) {
			t.Errorf("Prepare(%+v): %v", b, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(Cursor{SentDesc, 12345, "c1"}.Encode(), SentDesc)
	f.Add("MXxzZW50X2Rlc2N8MXxh", SentDesc)
	f.Add("", NewestFirst)
	f.Add("////", DeadlineAsc)
	f.Fuzz(func(t *testing.T, s, sort string) {
		c, err := DecodeCursor(s, sort)
		if err != nil {
			if !isInvalidCursor(err) {
				t.Fatalf("error is not invalid_cursor: %v", err)
			}
			return
		}
		if c.Sort != sort || c.ID == "" || !utf8.ValidString(c.ID) {
			t.Fatalf("decoded %+v for sort %q", c, sort)
		}
		again, err := DecodeCursor(c.Encode(), sort)
		if err != nil || again != c {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", c, again, err)
		}
	})
}

func FuzzPrepareContracts(f *testing.F) {
	f.Add("ent:a", "房屋租赁 合同", "张三", "login-x", "signing", "sent_desc", "", 20, int64(0), int64(10))
	f.Add("", "租", "", "", "", "", "garbage", -1, int64(5), int64(1))
	f.Add("platform", "a", "x", "y", "z", "deadline_asc", Cursor{DeadlineAsc, 3, "c"}.Encode(), 1000, int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, principal, text, sender, receiver, status, sort, after string, limit int, from, to int64) {
		f, tt := time.UnixMicro(from), time.UnixMicro(to)
		q, p, err := PrepareContracts(ContractQuery{Principals: []string{principal}, Text: text, Sender: sender, Receiver: receiver,
			Status: []string{status}, Sort: sort, After: after, Limit: limit, SentFrom: &f, SentTo: &tt})
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("refusal is not a *fault.Error: %v", err)
			}
			return
		}
		if len(p.Principals) == 0 || p.Principals[0] == "" {
			t.Fatal("accepted without a principal")
		}
		if p.Limit < 1 || p.Limit > MaxLimit || q.Limit != p.Limit {
			t.Fatalf("limit %d", p.Limit)
		}
		if q.Sort != SentDesc && q.Sort != SentAsc && q.Sort != DeadlineAsc && q.Sort != DeadlineDesc {
			t.Fatalf("sort %q", q.Sort)
		}
		if (after == "") != (p.After == nil) {
			t.Fatalf("cursor %q prepared as %+v", after, p.After)
		}
		for _, ts := range [][]Term{p.Text, p.Sender, p.Receiver} {
			for _, tm := range ts {
				if tm.Text == "" || !hasWordRune(tm.Text) || (tm.Single && utf8.RuneCountInString(tm.Text) != 1) {
					t.Fatalf("term %+v", tm)
				}
			}
		}
	})
}
