package readapi

import (
	"net/url"
	"testing"
)

func FuzzParseListQuery(f *testing.F) {
	for _, s := range []string{"", "box=all&limit=20", "days=7&view=deadline_soon", "limit=0", "limit=-1", "limit=01", "days=99999999999999999999", "after=abc&sort=sent_asc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseListQuery(v)
		if err != nil {
			return
		}
		if q.Limit < 0 || q.Days < 0 || (v.Get("limit") == "") != (q.Limit == 0) {
			t.Fatalf("%q read as %+v", raw, q)
		}
		if q.Box != v.Get("box") || q.After != v.Get("after") {
			t.Fatalf("%q read as %+v", raw, q)
		}
	})
}

func TestParseListQuery(t *testing.T) {
	q, err := ParseListQuery(url.Values{"box": {"out"}, "limit": {"5"}, "days": {"30"}, "tag": {"t"}, "enterprise": {"e"}})
	if err != nil || q.Box != "out" || q.Limit != 5 || q.Days != 30 || q.Tag != "t" || q.Enterprise != "e" {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []string{"limit=x", "limit=0", "limit=-3", "limit=+3", "days=1.5", "days=007"} {
		v, _ := url.ParseQuery(bad)
		if _, err := ParseListQuery(v); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
