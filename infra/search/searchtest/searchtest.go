// Package searchtest is the acceptance suite of the search port
// (search.Index). Every adapter runs it from its own tests:
//
//	func TestIndex(t *testing.T) {
//		searchtest.AcceptanceTest(t, func(t *testing.T) search.Index { return a fresh, empty index })
//	}
//
// newIndex must return an index of its own for every subtest (indexes may
// share a server: use a prefix per call); the suite closes it when the
// subtest ends.
package searchtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/search"
)

// AcceptanceTest runs the whole suite.
func AcceptanceTest(t *testing.T, newIndex func(t *testing.T) search.Index) {
	tests := []struct {
		name string
		fn   func(*testing.T, search.Index)
	}{
		{"ChineseText", testChineseText},
		{"OneCharacter", testOneCharacter},
		{"LatinText", testLatinText},
		{"Filters", testFilters},
		{"Combined", testCombined},
		{"Sorting", testSorting},
		{"Pagination", testPagination},
		{"PaginationWhileAdding", testPaginationWhileAdding},
		{"Versioning", testVersioning},
		{"Visibility", testVisibility},
		{"VisibilityProperty", testVisibilityProperty},
		{"Refusals", testRefusals},
		{"Audit", testAudit},
		{"AuditPagination", testAuditPagination},
		{"Checkpoint", testCheckpoint},
		{"GetContract", testGetContract},
		{"RebuildCommit", testRebuildCommit},
		{"RebuildAbort", testRebuildAbort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx := newIndex(t)
			t.Cleanup(func() { idx.Close() })
			tc.fn(t, idx)
		})
	}
}

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func day(n float64) time.Time { return t0.Add(time.Duration(n * float64(24*time.Hour))) }

func at(n float64) *time.Time { v := day(n); return &v }

const (
	entA = "ent:a"
	entB = "ent:b"
)

// fixture: contracts of enterprise A (c1..c4) and B (c5, c6).
func fixture() []search.ContractDoc {
	return []search.ContractDoc{
		{
			ID: "c1", Number: "HT-0001", Title: "房屋租赁合同", Status: "signing",
			SenderName: "甲公司", SenderPerson: "张三", SenderAccount: "acct-a1", SenderEnterprise: "ent-a",
			Receivers: []string{"乙公司", "李四"}, ReceiverKeys: []string{"login-li"},
			SentAt: at(1), CreatedAt: day(0.5), Deadline: day(10), ExpiresAt: at(365),
			Tags: []string{"ent-a/重要", "ent-a/urgent"}, Folders: []string{"acct-a1/f1"},
			Visible: []string{entA, "acct:a1"}, Version: 3,
		},
		{
			ID: "c2", Number: "HT-0002", Title: "Lease Agreement for Office", Status: "completed",
			SenderName: "甲公司", SenderPerson: "张三", SenderAccount: "acct-a1", SenderEnterprise: "ent-a",
			Receivers: []string{"Acme Ltd"}, ReceiverKeys: []string{"login-acme"},
			SentAt: at(2), CreatedAt: day(1.5), Deadline: day(5),
			Tags: []string{"ent-a/urgent"}, Visible: []string{entA}, Version: 4,
		},
		{
			ID: "c3", Number: "HT-0003", Title: "劳动合同", Status: "signing",
			SenderName: "甲公司", SenderPerson: "王五", SenderAccount: "acct-a2", SenderEnterprise: "ent-a",
			Receivers: []string{"赵六"}, ReceiverKeys: []string{"login-zhao"},
			SentAt: at(3), CreatedAt: day(2.5), Deadline: day(20),
			Folders: []string{"acct-a1/f2"}, Visible: []string{entA}, Version: 5,
		},
		{
			ID: "c4", Title: "设备采购合同", Status: "draft",
			SenderName: "甲公司", SenderPerson: "王五", SenderAccount: "acct-a2", SenderEnterprise: "ent-a",
			CreatedAt: day(4), Deadline: day(30), Visible: []string{entA}, Version: 6,
		},
		{
			ID: "c5", Number: "HT-0001", Title: "房屋租赁补充协议", Status: "signing",
			SenderName: "丙集团", SenderPerson: "钱七", SenderAccount: "acct-b1", SenderEnterprise: "ent-b",
			Receivers: []string{"乙公司"}, ReceiverKeys: []string{"login-li"},
			SentAt: at(5), CreatedAt: day(4.5), Deadline: day(12),
			Tags: []string{"ent-b/urgent"}, Visible: []string{entB}, Version: 7,
		},
		{
			ID: "c6", Title: "租车协议 Lease", Status: "signing",
			SenderName: "丙集团", SenderPerson: "钱七", SenderAccount: "acct-b1", SenderEnterprise: "ent-b",
			Receivers: []string{"李四"}, ReceiverKeys: []string{"login-li"},
			SentAt: at(6), CreatedAt: day(5.5), Deadline: day(8),
			Visible: []string{entB, "login:li"}, Version: 8,
		},
	}
}

func write(t *testing.T, g search.Generation, b search.Batch) {
	t.Helper()
	if err := g.Write(t.Context(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func load(t *testing.T, idx search.Index) {
	t.Helper()
	write(t, idx, search.Batch{Contracts: fixture()})
}

// ids runs q and returns the IDs of its first page in order; it also checks
// that Total agrees when the page is the whole result.
func ids(t *testing.T, g search.Generation, q search.ContractQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := g.SearchContracts(t.Context(), q)
	if err != nil {
		t.Fatalf("SearchContracts(%+v): %v", q, err)
	}
	out := make([]string, len(p.Hits))
	for i, h := range p.Hits {
		out[i] = h.ID
	}
	if p.Next == "" && p.Total != len(out) {
		t.Errorf("SearchContracts(%+v): Total %d, %d hits on the only page", q, p.Total, len(out))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func expectSet(t *testing.T, g search.Generation, q search.ContractQuery, want ...string) {
	t.Helper()
	got := sorted(ids(t, g, q))
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, sorted(want)) {
		t.Errorf("query %s: got %v, want %v", describe(q), got, sorted(want))
	}
}

func describe(q search.ContractQuery) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("principals", strings.Join(q.Principals, ","))
	add("text", q.Text)
	add("sender", q.Sender)
	add("receiver", q.Receiver)
	add("status", strings.Join(q.Status, ","))
	add("number", q.Number)
	add("tags", strings.Join(q.Tags, ","))
	add("folder", q.Folder)
	add("sort", q.Sort)
	if q.SentFrom != nil {
		add("from", q.SentFrom.Format(time.RFC3339))
	}
	if q.SentTo != nil {
		add("to", q.SentTo.Format(time.RFC3339))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

var (
	onlyA = []string{entA}
	onlyB = []string{entB}
	both  = []string{entA, entB}
)

func testChineseText(t *testing.T, idx search.Index) {
	load(t, idx)
	for _, tc := range []struct {
		p    []string
		text string
		want []string
	}{
		{onlyA, "租赁", []string{"c1"}},
		{onlyB, "租赁", []string{"c5"}},
		{both, "租赁", []string{"c1", "c5"}},
		{onlyA, "房屋租赁合同", []string{"c1"}},
		{onlyA, "合同", []string{"c1", "c3", "c4"}},
		{onlyA, "租赁 合同", []string{"c1"}},
		{onlyA, "采购", []string{"c4"}},
		{onlyA, "租赁协议", nil}, // every bigram must be there
		{both, "补充协议", []string{"c5"}},
		{onlyA, "协议", nil},
		{onlyA, "!!", []string{"c1", "c2", "c3", "c4"}}, // nothing searchable: no text filter
	} {
		expectSet(t, idx, search.ContractQuery{Principals: tc.p, Text: tc.text}, tc.want...)
	}
}

func testOneCharacter(t *testing.T, idx search.Index) {
	load(t, idx)
	for _, tc := range []struct {
		p    []string
		text string
		want []string
	}{
		{onlyA, "租", []string{"c1"}},
		{both, "租", []string{"c1", "c5", "c6"}},
		{onlyA, " 劳 ", []string{"c3"}},
		{onlyA, "同", []string{"c1", "c3", "c4"}},
		{onlyA, "协", nil},
		{onlyA, "L", []string{"c2"}},        // a Latin letter anywhere in the title
		{onlyA, "租 合同", []string{"c1"}},     // one-character piece plus a word
		{onlyA, "Office 房", nil},            // both must hold
		{both, "车 lease", []string{"c6"}},   // mixed scripts
		{onlyA, "设备采购合同 同", []string{"c4"}}, // bigram word and one character
	} {
		expectSet(t, idx, search.ContractQuery{Principals: tc.p, Text: tc.text}, tc.want...)
	}
}

func testLatinText(t *testing.T, idx search.Index) {
	load(t, idx)
	for _, tc := range []struct {
		p    []string
		text string
		want []string
	}{
		{onlyA, "lease", []string{"c2"}},
		{onlyA, "LEASE office", []string{"c2"}},
		{onlyA, "agreement lease", []string{"c2"}},
		{onlyA, "leasing", nil},
		{onlyA, "office building", nil},
		{both, "lease", []string{"c2", "c6"}},
		{onlyB, "Lease", []string{"c6"}},
	} {
		expectSet(t, idx, search.ContractQuery{Principals: tc.p, Text: tc.text}, tc.want...)
	}
}

func testFilters(t *testing.T, idx search.Index) {
	load(t, idx)
	q := func(mod func(*search.ContractQuery)) search.ContractQuery {
		c := search.ContractQuery{Principals: onlyA}
		mod(&c)
		return c
	}
	cases := []struct {
		q    search.ContractQuery
		want []string
	}{
		{q(func(c *search.ContractQuery) {}), []string{"c1", "c2", "c3", "c4"}},
		{q(func(c *search.ContractQuery) { c.Status = []string{"signing"} }), []string{"c1", "c3"}},
		{q(func(c *search.ContractQuery) { c.Status = []string{"signing", "completed"} }), []string{"c1", "c2", "c3"}},
		{q(func(c *search.ContractQuery) { c.Status = []string{"void"} }), nil},
		{q(func(c *search.ContractQuery) { c.SentFrom = at(2) }), []string{"c2", "c3"}},
		{q(func(c *search.ContractQuery) { c.SentTo = at(2) }), []string{"c1"}}, // exclusive end
		{q(func(c *search.ContractQuery) { c.SentFrom, c.SentTo = at(2), at(3) }), []string{"c2"}},
		{q(func(c *search.ContractQuery) { c.SentFrom, c.SentTo = at(0), at(100) }), []string{"c1", "c2", "c3"}}, // never drafts
		{q(func(c *search.ContractQuery) { c.SentFrom, c.SentTo = at(2), at(2) }), nil},
		{q(func(c *search.ContractQuery) { c.Sender = "甲公司" }), []string{"c1", "c2", "c3", "c4"}},
		{q(func(c *search.ContractQuery) { c.Sender = "张三" }), []string{"c1", "c2"}},
		{q(func(c *search.ContractQuery) { c.Sender = "王" }), []string{"c3", "c4"}},
		{q(func(c *search.ContractQuery) { c.Sender = "acct-a2" }), []string{"c3", "c4"}},
		{q(func(c *search.ContractQuery) { c.Sender = "ent-a" }), []string{"c1", "c2", "c3", "c4"}},
		{q(func(c *search.ContractQuery) { c.Sender = "acct-a" }), nil},
		{q(func(c *search.ContractQuery) { c.Sender = "丙集团" }), nil}, // B's sender, A's principals
		{q(func(c *search.ContractQuery) { c.Receiver = "乙公司" }), []string{"c1"}},
		{q(func(c *search.ContractQuery) { c.Receiver = "acme" }), []string{"c2"}},
		{q(func(c *search.ContractQuery) { c.Receiver = "login-li" }), []string{"c1"}},
		{q(func(c *search.ContractQuery) { c.Receiver = "login" }), nil},
		{q(func(c *search.ContractQuery) { c.Number = "HT-0001" }), []string{"c1"}},
		{q(func(c *search.ContractQuery) { c.Number = "HT-000" }), nil},
		{q(func(c *search.ContractQuery) { c.Number = "ht-0001" }), nil},
		{q(func(c *search.ContractQuery) { c.Tags = []string{"ent-a/urgent"} }), []string{"c1", "c2"}},
		{q(func(c *search.ContractQuery) { c.Tags = []string{"ent-a/urgent", "ent-a/重要"} }), []string{"c1"}},
		{q(func(c *search.ContractQuery) { c.Tags = []string{"ent-b/urgent"} }), nil},
		{q(func(c *search.ContractQuery) { c.Folder = "acct-a1/f1" }), []string{"c1"}},
		{q(func(c *search.ContractQuery) { c.Folder = "acct-a1/f2" }), []string{"c3"}},
		{q(func(c *search.ContractQuery) { c.Folder = "acct-a1" }), nil},
	}
	for _, tc := range cases {
		expectSet(t, idx, tc.q, tc.want...)
	}
	// Through B's eyes the same filters find B's documents only.
	expectSet(t, idx, search.ContractQuery{Principals: onlyB, Number: "HT-0001"}, "c5")
	expectSet(t, idx, search.ContractQuery{Principals: onlyB, Receiver: "login-li"}, "c5", "c6")
	expectSet(t, idx, search.ContractQuery{Principals: []string{"login:li"}, Receiver: "李四"}, "c6")
}

func testCombined(t *testing.T, idx search.Index) {
	load(t, idx)
	for _, tc := range []struct {
		q    search.ContractQuery
		want []string
	}{
		{search.ContractQuery{Principals: onlyA, Text: "合同", Status: []string{"signing"}, SentFrom: at(0), SentTo: at(10)}, []string{"c1", "c3"}},
		{search.ContractQuery{Principals: onlyA, Text: "合同", Status: []string{"signing"}, SentFrom: at(2), SentTo: at(10)}, []string{"c3"}},
		{search.ContractQuery{Principals: both, Text: "租赁", Status: []string{"signing"}, SentFrom: at(0), SentTo: at(10)}, []string{"c1", "c5"}},
		{search.ContractQuery{Principals: both, Text: "租", Receiver: "login-li", Tags: []string{"ent-b/urgent"}}, []string{"c5"}},
		{search.ContractQuery{Principals: onlyA, Text: "合同", Sender: "张三", Receiver: "乙公司", Number: "HT-0001", Folder: "acct-a1/f1", Tags: []string{"ent-a/重要"}, Status: []string{"signing"}}, []string{"c1"}},
		{search.ContractQuery{Principals: onlyA, Text: "合同", Sender: "张三", Status: []string{"completed"}}, nil},
	} {
		expectSet(t, idx, tc.q, tc.want...)
	}
}

func testSorting(t *testing.T, idx search.Index) {
	load(t, idx)
	for _, tc := range []struct {
		sort string
		want []string
	}{
		{"", []string{"c4", "c3", "c2", "c1"}}, // drafts by creation time
		{search.SentDesc, []string{"c4", "c3", "c2", "c1"}},
		{search.SentAsc, []string{"c1", "c2", "c3", "c4"}},
		{search.DeadlineAsc, []string{"c2", "c1", "c3", "c4"}},
		{search.DeadlineDesc, []string{"c4", "c3", "c1", "c2"}},
	} {
		got := ids(t, idx, search.ContractQuery{Principals: onlyA, Sort: tc.sort})
		if !slices.Equal(got, tc.want) {
			t.Errorf("sort %q: got %v, want %v", tc.sort, got, tc.want)
		}
	}
}

// many makes n contracts visible to principal; every third shares a sent
// time with its neighbours so that the ID decides their order.
func many(prefix, principal string, n int, version uint64) []search.ContractDoc {
	docs := make([]search.ContractDoc, n)
	for i := range docs {
		sent := day(float64(i/3) / 10)
		docs[i] = search.ContractDoc{
			ID: fmt.Sprintf("%s-%03d", prefix, i), Title: fmt.Sprintf("批量合同 %d", i), Status: "signing",
			SentAt: &sent, CreatedAt: sent.Add(-time.Hour), Deadline: day(float64(n-i) / 7),
			Visible: []string{principal}, Version: version,
		}
	}
	return docs
}

// collect pages through q, with between(page) called after each page.
func collect(t *testing.T, g search.Generation, q search.ContractQuery, between func(page int)) []search.ContractDoc {
	t.Helper()
	var all []search.ContractDoc
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
		p, err := g.SearchContracts(t.Context(), q)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(p.Hits) > q.Limit {
			t.Fatalf("page %d has %d hits, limit %d", page, len(p.Hits), q.Limit)
		}
		if p.Next != "" && len(p.Hits) != q.Limit {
			t.Fatalf("page %d has %d hits and a next page", page, len(p.Hits))
		}
		all = append(all, p.Hits...)
		if p.Next == "" {
			return all
		}
		q.After = p.Next
		if between != nil {
			between(page)
		}
	}
}

func checkOrder(t *testing.T, docs []search.ContractDoc, sortName string) {
	t.Helper()
	desc := sortName == search.SentDesc || sortName == search.DeadlineDesc || sortName == ""
	for i := 1; i < len(docs); i++ {
		a, b := docs[i-1], docs[i]
		ka, kb := search.ContractKey(a, sortName), search.ContractKey(b, sortName)
		ok := ka < kb || (ka == kb && a.ID < b.ID)
		if desc {
			ok = ka > kb || (ka == kb && a.ID > b.ID)
		}
		if !ok {
			t.Fatalf("sort %s: %s (key %d) before %s (key %d)", sortName, a.ID, ka, b.ID, kb)
		}
	}
}

func testPagination(t *testing.T, idx search.Index) {
	docs := many("p", entA, 47, 1)
	write(t, idx, search.Batch{Contracts: docs})
	write(t, idx, search.Batch{Contracts: many("q", entB, 10, 1)})
	for _, s := range []string{search.SentDesc, search.SentAsc, search.DeadlineAsc, search.DeadlineDesc} {
		q := search.ContractQuery{Principals: onlyA, Sort: s, Limit: 5}
		p, err := idx.SearchContracts(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 47 {
			t.Errorf("sort %s: Total %d, want 47", s, p.Total)
		}
		got := collect(t, idx, q, nil)
		if len(got) != 47 {
			t.Errorf("sort %s: %d documents over all pages, want 47", s, len(got))
		}
		checkOrder(t, got, s)
		seen := map[string]bool{}
		for _, d := range got {
			if seen[d.ID] {
				t.Errorf("sort %s: %s twice", s, d.ID)
			}
			seen[d.ID] = true
		}
	}
	// Exactly one full page: no next page, not an empty extra one.
	p, err := idx.SearchContracts(t.Context(), search.ContractQuery{Principals: onlyB, Limit: 10})
	if err != nil || len(p.Hits) != 10 || p.Next != "" {
		t.Errorf("10 documents, limit 10: %d hits, next %q, err %v", len(p.Hits), p.Next, err)
	}
	// Default and maximum limits.
	p, _ = idx.SearchContracts(t.Context(), search.ContractQuery{Principals: onlyA})
	if len(p.Hits) != search.DefaultLimit || p.Total != 47 {
		t.Errorf("default limit: %d hits, total %d", len(p.Hits), p.Total)
	}
	write(t, idx, search.Batch{Contracts: many("r", "ent:c", 230, 1)})
	p, _ = idx.SearchContracts(t.Context(), search.ContractQuery{Principals: []string{"ent:c"}, Limit: 1000})
	if len(p.Hits) != search.MaxLimit || p.Total != 230 || p.Next == "" {
		t.Errorf("limit above the maximum: %d hits, total %d, next %q", len(p.Hits), p.Total, p.Next)
	}
}

func testPaginationWhileAdding(t *testing.T, idx search.Index) {
	for _, s := range []string{search.SentDesc, search.SentAsc} {
		t.Run(s, func(t *testing.T) {
			principal := "ent:" + s
			initial := many("w"+s, principal, 40, 1)
			write(t, idx, search.Batch{Contracts: initial})
			added := 0
			got := collect(t, idx, search.ContractQuery{Principals: []string{principal}, Sort: s, Limit: 6}, func(page int) {
				// New documents land before, among and after the ones
				// already paged; updates change versions, not keys.
				var docs []search.ContractDoc
				for _, n := range []float64{-5, 0.15, 2, 100} {
					sent := day(n + float64(page)/1000)
					docs = append(docs, search.ContractDoc{
						ID: fmt.Sprintf("new%s-%d-%v", s, page, n), Title: "新增", Status: "signing",
						SentAt: &sent, CreatedAt: sent, Deadline: sent, Visible: []string{principal}, Version: 2,
					})
					added++
				}
				upd := initial[page%len(initial)]
				upd.Title, upd.Version = "改过的", uint64(10+page)
				docs = append(docs, upd)
				write(t, idx, search.Batch{Contracts: docs})
			})
			seen := map[string]int{}
			for _, d := range got {
				seen[d.ID]++
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s seen %d times", id, n)
				}
			}
			for _, d := range initial {
				if seen[d.ID] != 1 {
					t.Errorf("initial document %s seen %d times", d.ID, seen[d.ID])
				}
			}
			checkOrder(t, got, s)
			if added == 0 {
				t.Fatal("no page boundary: the test added nothing")
			}
		})
	}
}

func get(t *testing.T, g search.Generation, id string) (search.ContractDoc, bool) {
	t.Helper()
	d, ok, err := g.GetContract(t.Context(), id)
	if err != nil {
		t.Fatalf("GetContract(%s): %v", id, err)
	}
	return d, ok
}

func testVersioning(t *testing.T, idx search.Index) {
	doc := func(title string, v uint64) search.ContractDoc {
		return search.ContractDoc{ID: "v1", Title: title, Status: "signing", CreatedAt: t0, Deadline: day(1), Visible: onlyA, Version: v}
	}
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{doc("第五版", 5)}})
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{doc("第三版", 3)}})  // older
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{doc("另一个五", 5)}}) // same version
	if d, _ := get(t, idx, "v1"); d.Title != "第五版" || d.Version != 5 {
		t.Errorf("after older and same-version writes: %q v%d, want 第五版 v5", d.Title, d.Version)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "五版"}, "v1")
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "三版"})
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "另一"})

	// Newer wins; within one batch the greatest version wins whatever the order.
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{doc("第七版", 7), doc("第九版", 9), doc("第八版", 8)}})
	if d, _ := get(t, idx, "v1"); d.Title != "第九版" || d.Version != 9 {
		t.Errorf("after batch 7,9,8: %q v%d, want 第九版 v9", d.Title, d.Version)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "七版"})
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "九版"}, "v1")

	// Visibility moves with the version: a newer doc for B only hides it from A.
	d := doc("第十版", 10)
	d.Visible = onlyB
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{d}})
	expectSet(t, idx, search.ContractQuery{Principals: onlyA})
	expectSet(t, idx, search.ContractQuery{Principals: onlyB, Text: "十版"}, "v1")

	for _, bad := range []search.ContractDoc{{ID: "", Version: 1}, {ID: "x", Version: 0}} {
		if err := idx.Write(t.Context(), search.Batch{Contracts: []search.ContractDoc{bad}}); !errors.Is(err, search.ErrInvalidDoc) {
			t.Errorf("Write(%+v): %v, want ErrInvalidDoc", bad, err)
		}
	}
}

func testVisibility(t *testing.T, idx search.Index) {
	load(t, idx)
	// Nothing of B reaches A by any filter, and vice versa.
	queries := []search.ContractQuery{
		{}, {Text: "租赁"}, {Text: "租"}, {Text: "lease"}, {Number: "HT-0001"}, {Receiver: "login-li"},
		{Receiver: "乙公司"}, {Status: []string{"signing"}}, {Tags: []string{"ent-b/urgent"}},
		{Sender: "acct-b1"}, {Sender: "丙集团"}, {SentFrom: at(4), SentTo: at(7)},
	}
	for _, q := range queries {
		for _, side := range []struct {
			p      []string
			others string
		}{{onlyA, entB}, {onlyB, entA}} {
			q.Principals = side.p
			for _, id := range ids(t, idx, q) {
				d, _ := get(t, idx, id)
				if !slices.Contains(d.Visible, side.p[0]) {
					t.Errorf("query %s returned %s visible to %v", describe(q), id, d.Visible)
				}
			}
		}
	}
	// A principal of a person sees what names it, whatever the enterprise.
	expectSet(t, idx, search.ContractQuery{Principals: []string{"login:li"}}, "c6")
	expectSet(t, idx, search.ContractQuery{Principals: []string{"acct:a1", "login:li"}}, "c1", "c6")
	expectSet(t, idx, search.ContractQuery{Principals: []string{"ent:nobody"}})
	// A principal is a whole term, not a prefix or a word.
	expectSet(t, idx, search.ContractQuery{Principals: []string{"ent"}})
	expectSet(t, idx, search.ContractQuery{Principals: []string{"ent:"}})
	expectSet(t, idx, search.ContractQuery{Principals: []string{"acct:a"}})
}

// testVisibilityProperty writes random documents and checks random queries
// against a model: every hit is visible to a principal of the query, and
// every matching visible document is found.
func testVisibilityProperty(t *testing.T, idx search.Index) {
	rng := rand.New(rand.NewPCG(5, 7))
	principals := []string{"ent:1", "ent:2", "ent:3", "ent:4", "acct:1", "acct:2", "acct:3", "login:x", "login:y"}
	statuses := []string{"draft", "signing", "completed", "void"}
	tags := []string{"t/a", "t/b", "t/c"}
	pick := func(from []string, max int) []string {
		n := rng.IntN(max + 1)
		var out []string
		for _, i := range rng.Perm(len(from))[:n] {
			out = append(out, from[i])
		}
		return out
	}
	docs := make([]search.ContractDoc, 120)
	for i := range docs {
		sent := day(rng.Float64() * 30)
		docs[i] = search.ContractDoc{
			ID: fmt.Sprintf("r%03d", i), Title: "随机合同", Status: statuses[rng.IntN(len(statuses))],
			SentAt: &sent, CreatedAt: sent, Deadline: day(rng.Float64() * 60),
			Tags: pick(tags, 2), Visible: pick(principals, 3), Version: uint64(1 + rng.IntN(5)),
		}
	}
	write(t, idx, search.Batch{Contracts: docs})
	for round := 0; round < 60; round++ {
		q := search.ContractQuery{Principals: pick(principals, 3), Limit: 1 + rng.IntN(40)}
		if len(q.Principals) == 0 {
			q.Principals = []string{principals[rng.IntN(len(principals))]}
		}
		if rng.IntN(2) == 0 {
			q.Status = pick(statuses, 2)
		}
		if rng.IntN(3) == 0 {
			q.Tags = pick(tags, 1)
		}
		if rng.IntN(3) == 0 {
			q.SentFrom, q.SentTo = at(rng.Float64()*15), at(15+rng.Float64()*15)
		}
		q.Sort = []string{search.SentDesc, search.SentAsc, search.DeadlineAsc, search.DeadlineDesc}[rng.IntN(4)]
		var want []string
		for _, d := range docs {
			if model(d, q) {
				want = append(want, d.ID)
			}
		}
		var got []string
		for _, d := range collect(t, idx, q, nil) {
			visible := false
			for _, p := range q.Principals {
				visible = visible || slices.Contains(d.Visible, p)
			}
			if !visible {
				t.Fatalf("query %s: hit %s is visible to %v only", describe(q), d.ID, d.Visible)
			}
			got = append(got, d.ID)
		}
		if !slices.Equal(sorted(got), sorted(want)) {
			t.Fatalf("query %s: got %v, want %v", describe(q), sorted(got), sorted(want))
		}
	}
}

func model(d search.ContractDoc, q search.ContractQuery) bool {
	visible := false
	for _, p := range q.Principals {
		visible = visible || slices.Contains(d.Visible, p)
	}
	if !visible {
		return false
	}
	if len(q.Status) > 0 && !slices.Contains(q.Status, d.Status) {
		return false
	}
	for _, tag := range q.Tags {
		if !slices.Contains(d.Tags, tag) {
			return false
		}
	}
	if q.SentFrom != nil && (d.SentAt == nil || d.SentAt.Before(*q.SentFrom)) {
		return false
	}
	if q.SentTo != nil && (d.SentAt == nil || !d.SentAt.Before(*q.SentTo)) {
		return false
	}
	return true
}

func isFault(err error, kind fault.Kind, code string) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == kind && f.Code == code
}

func testRefusals(t *testing.T, idx search.Index) {
	load(t, idx)
	ctx := t.Context()
	for _, p := range [][]string{nil, {}, {""}} {
		if _, err := idx.SearchContracts(ctx, search.ContractQuery{Principals: p}); !errors.Is(err, search.ErrNoPrincipals) {
			t.Errorf("contracts without principals %q: %v", p, err)
		}
		if _, err := idx.SearchAudit(ctx, search.AuditQuery{Principals: p}); !errors.Is(err, search.ErrNoPrincipals) {
			t.Errorf("audit without principals %q: %v", p, err)
		}
	}
	p, err := idx.SearchContracts(ctx, search.ContractQuery{Principals: onlyA, Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %v, next %q", err, p.Next)
	}
	for _, c := range []struct {
		q    search.ContractQuery
		code string
	}{
		{search.ContractQuery{Principals: onlyA, After: "garbage!"}, "invalid_cursor"},
		{search.ContractQuery{Principals: onlyA, After: p.Next, Sort: search.DeadlineAsc}, "invalid_cursor"},
		{search.ContractQuery{Principals: onlyA, Sort: "title"}, "invalid_sort"},
		{search.ContractQuery{Principals: onlyA, Limit: -1}, "invalid_limit"},
		{search.ContractQuery{Principals: onlyA, SentFrom: at(2), SentTo: at(1)}, "invalid_range"},
		{search.ContractQuery{Principals: onlyA, Text: strings.Repeat("长", 201)}, "text_too_long"},
	} {
		if _, err := idx.SearchContracts(ctx, c.q); !isFault(err, fault.Invalid, c.code) {
			t.Errorf("query %s after=%q limit=%d: %v, want Invalid %s", describe(c.q), c.q.After, c.q.Limit, err, c.code)
		}
	}
	if _, err := idx.SearchAudit(ctx, search.AuditQuery{Principals: onlyA, After: p.Next}); !isFault(err, fault.Invalid, "invalid_cursor") {
		t.Errorf("contract cursor on audit: %v", err)
	}
}

func auditFixture() []search.AuditRecord {
	return []search.AuditRecord{
		{ID: "e1", At: day(1), Actor: "acct-a1", Enterprise: "ent-a", ClientIP: "10.0.0.*", Stream: "contract-c1", Type: "ContractSent",
			Summary: "张三 发送了合同《房屋租赁合同》", Visible: []string{entA}, Position: 11},
		{ID: "e2", At: day(2), Actor: "acct-x", Stream: "contract-c1", Type: "PartySigned",
			Summary: "李四 签署了合同《房屋租赁合同》", Visible: []string{entA, "acct:x"}, Position: 12},
		{ID: "e3", At: day(3), Actor: "acct-a1", Enterprise: "ent-a", Stream: "enterprise-a", Type: "MemberInvited",
			Summary: "张三 invited a new member", Visible: []string{entA}, Position: 13},
		{ID: "e4", At: day(4), Actor: "acct-b1", Enterprise: "ent-b", Stream: "contract-c5", Type: "ContractSent",
			Summary: "钱七 发送了合同《房屋租赁补充协议》", Visible: []string{entB}, Position: 14},
		{ID: "e5", At: day(5), Actor: "acct-b1", Enterprise: "ent-b", Stream: "account-b1", Type: "PasswordChanged",
			Summary: "钱七 changed the password", Visible: []string{"acct:b1"}, Position: 15},
	}
}

func auditIDs(t *testing.T, g search.Generation, q search.AuditQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := g.SearchAudit(t.Context(), q)
	if err != nil {
		t.Fatalf("SearchAudit(%+v): %v", q, err)
	}
	out := make([]string, len(p.Hits))
	for i, h := range p.Hits {
		out[i] = h.ID
	}
	if p.Total != len(out) {
		t.Errorf("SearchAudit(%+v): Total %d, %d hits", q, p.Total, len(out))
	}
	return out
}

func testAudit(t *testing.T, idx search.Index) {
	recs := auditFixture()
	write(t, idx, search.Batch{Audit: recs})
	// Idempotent by ID: a second write of e1 with another summary changes nothing.
	again := recs[0]
	again.Summary = "篡改"
	write(t, idx, search.Batch{Audit: []search.AuditRecord{again, again}})

	platform := []string{search.PlatformPrincipal}
	for _, tc := range []struct {
		q    search.AuditQuery
		want []string // newest first
	}{
		{search.AuditQuery{Principals: platform}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{search.AuditQuery{Principals: platform, Sort: search.OldestFirst}, []string{"e1", "e2", "e3", "e4", "e5"}},
		{search.AuditQuery{Principals: onlyA}, []string{"e3", "e2", "e1"}},
		{search.AuditQuery{Principals: onlyB}, []string{"e4"}},
		{search.AuditQuery{Principals: []string{"acct:x", "acct:b1"}}, []string{"e5", "e2"}},
		{search.AuditQuery{Principals: platform, Actor: "acct-a1"}, []string{"e3", "e1"}},
		{search.AuditQuery{Principals: onlyB, Actor: "acct-a1"}, nil},
		{search.AuditQuery{Principals: platform, Type: "ContractSent"}, []string{"e4", "e1"}},
		{search.AuditQuery{Principals: onlyA, Type: "ContractSent"}, []string{"e1"}},
		{search.AuditQuery{Principals: platform, Stream: "contract-c1"}, []string{"e2", "e1"}},
		{search.AuditQuery{Principals: platform, Enterprise: "ent-b"}, []string{"e5", "e4"}},
		{search.AuditQuery{Principals: platform, From: at(2), To: at(4)}, []string{"e3", "e2"}},
		{search.AuditQuery{Principals: platform, From: at(4)}, []string{"e5", "e4"}},
		{search.AuditQuery{Principals: platform, Text: "租赁"}, []string{"e4", "e2", "e1"}},
		{search.AuditQuery{Principals: onlyA, Text: "租赁"}, []string{"e2", "e1"}},
		{search.AuditQuery{Principals: platform, Text: "签"}, []string{"e2"}},
		{search.AuditQuery{Principals: platform, Text: "password"}, []string{"e5"}},
		{search.AuditQuery{Principals: platform, Text: "篡改"}, nil},
		{search.AuditQuery{Principals: platform, Text: "发送", Actor: "acct-b1", From: at(0), To: at(10)}, []string{"e4"}},
	} {
		got := auditIDs(t, idx, tc.q)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("audit query %+v: got %v, want %v", tc.q, got, tc.want)
		}
	}
	p, err := idx.SearchAudit(t.Context(), search.AuditQuery{Principals: platform, Stream: "contract-c1", Sort: search.OldestFirst})
	if err != nil || len(p.Hits) != 2 {
		t.Fatalf("trail of c1: %v, %d hits", err, len(p.Hits))
	}
	if got := p.Hits[0]; got.Summary != recs[0].Summary || !got.At.Equal(recs[0].At) || got.ClientIP != "10.0.0.*" ||
		got.Actor != "acct-a1" || got.Enterprise != "ent-a" || got.Position != 11 || !slices.Equal(got.Visible, []string{entA}) {
		t.Errorf("record read back as %+v, want %+v", got, recs[0])
	}
	if _, err := idx.SearchAudit(t.Context(), search.AuditQuery{Principals: platform, Sort: "sideways"}); !isFault(err, fault.Invalid, "invalid_sort") {
		t.Errorf("bad audit sort: %v", err)
	}
}

func testAuditPagination(t *testing.T, idx search.Index) {
	var recs []search.AuditRecord
	for i := 1; i <= 33; i++ {
		recs = append(recs, search.AuditRecord{ID: fmt.Sprintf("ev-%02d", i), At: day(float64(i) / 24), Stream: "s-1", Type: "T",
			Summary: "事件", Visible: []string{entA}, Position: uint64(i)})
	}
	write(t, idx, search.Batch{Audit: recs})
	for _, s := range []string{search.NewestFirst, search.OldestFirst} {
		q := search.AuditQuery{Principals: onlyA, Sort: s, Limit: 4}
		var got []uint64
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("audit pagination does not end")
			}
			p, err := idx.SearchAudit(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 33 {
				t.Errorf("Total %d, want 33", p.Total)
			}
			for _, h := range p.Hits {
				got = append(got, h.Position)
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		if len(got) != 33 {
			t.Fatalf("sort %s: %d records over all pages", s, len(got))
		}
		for i := 1; i < len(got); i++ {
			if (s == search.NewestFirst) != (got[i-1] > got[i]) {
				t.Fatalf("sort %s: positions %v", s, got)
			}
		}
	}
}

func checkpoint(t *testing.T, g search.Generation, name string) uint64 {
	t.Helper()
	p, err := g.Checkpoint(t.Context(), name)
	if err != nil {
		t.Fatalf("Checkpoint(%s): %v", name, err)
	}
	return p
}

func testCheckpoint(t *testing.T, idx search.Index) {
	if p := checkpoint(t, idx, "search"); p != 0 {
		t.Errorf("fresh index: checkpoint %d", p)
	}
	write(t, idx, search.Batch{Contracts: fixture()[:1], Audit: auditFixture()[:1], Checkpoint: &search.Checkpoint{Name: "search", Position: 10}})
	if p := checkpoint(t, idx, "search"); p != 10 {
		t.Errorf("checkpoint %d, want 10", p)
	}
	write(t, idx, search.Batch{Checkpoint: &search.Checkpoint{Name: "search", Position: 7}}) // never back
	if p := checkpoint(t, idx, "search"); p != 10 {
		t.Errorf("after a lower position: %d, want 10", p)
	}
	write(t, idx, search.Batch{Checkpoint: &search.Checkpoint{Name: "search", Position: 1 << 40}})
	if p := checkpoint(t, idx, "search"); p != 1<<40 {
		t.Errorf("checkpoint %d, want %d", p, uint64(1<<40))
	}
	if p := checkpoint(t, idx, "other"); p != 0 {
		t.Errorf("another name: %d", p)
	}
	if err := idx.Write(t.Context(), search.Batch{Checkpoint: &search.Checkpoint{Name: ""}}); !errors.Is(err, search.ErrInvalidDoc) {
		t.Errorf("empty checkpoint name: %v", err)
	}
}

func testGetContract(t *testing.T, idx search.Index) {
	load(t, idx)
	want := fixture()[0]
	d, ok := get(t, idx, "c1")
	if !ok {
		t.Fatal("c1 not found")
	}
	if d.Title != want.Title || d.Number != want.Number || !d.SentAt.Equal(*want.SentAt) || !d.ExpiresAt.Equal(*want.ExpiresAt) ||
		!d.Deadline.Equal(want.Deadline) || !d.CreatedAt.Equal(want.CreatedAt) || !slices.Equal(d.Tags, want.Tags) ||
		!slices.Equal(d.Visible, want.Visible) || !slices.Equal(d.ReceiverKeys, want.ReceiverKeys) || d.Version != want.Version {
		t.Errorf("c1 read back as %+v, want %+v", d, want)
	}
	if d, _ := get(t, idx, "c4"); d.SentAt != nil || d.ExpiresAt != nil {
		t.Errorf("draft read back with times: %+v", d)
	}
	if _, ok := get(t, idx, "nope"); ok {
		t.Error("unknown ID found")
	}
	// Hits carry whole documents too.
	p, err := idx.SearchContracts(t.Context(), search.ContractQuery{Principals: onlyA, Number: "HT-0001"})
	if err != nil || len(p.Hits) != 1 || p.Hits[0].SenderPerson != "张三" || !slices.Equal(p.Hits[0].Receivers, want.Receivers) {
		t.Errorf("hit: %+v, %v", p.Hits, err)
	}
}

func testRebuildCommit(t *testing.T, idx search.Index) {
	ctx := t.Context()
	load(t, idx)
	write(t, idx, search.Batch{Audit: auditFixture(), Checkpoint: &search.Checkpoint{Name: "search", Position: 50}})
	rb, err := idx.BeginRebuild(ctx)
	if err != nil {
		t.Fatalf("BeginRebuild: %v", err)
	}
	if _, err := idx.BeginRebuild(ctx); !errors.Is(err, search.ErrRebuildRunning) {
		t.Errorf("second BeginRebuild: %v", err)
	}
	if p := checkpoint(t, rb, "search"); p != 0 {
		t.Errorf("fresh rebuild has checkpoint %d", p)
	}
	// The rebuild starts empty and fills while the old index still answers.
	if _, ok := get(t, rb, "c1"); ok {
		t.Error("rebuild is not empty")
	}
	renamed := fixture()[:2]
	renamed[0].Title = "重建后的合同"
	write(t, rb, search.Batch{Contracts: renamed, Audit: auditFixture()[:1], Checkpoint: &search.Checkpoint{Name: "search", Position: 60}})
	if d, ok := get(t, rb, "c1"); !ok || d.Title != "重建后的合同" {
		t.Errorf("rebuild GetContract: %+v %v", d, ok)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "租赁"}, "c1")
	expectSet(t, idx, search.ContractQuery{Principals: onlyA}, "c1", "c2", "c3", "c4")
	if p := checkpoint(t, idx, "search"); p != 50 {
		t.Errorf("live checkpoint during rebuild: %d", p)
	}
	// The live index keeps taking writes until the switch.
	write(t, idx, search.Batch{Contracts: []search.ContractDoc{{ID: "live", Title: "直播", CreatedAt: t0, Deadline: t0, Visible: onlyA, Version: 1}}})
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "直播"}, "live")

	if err := rb.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA}, "c1", "c2")
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "重建"}, "c1")
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "租赁"})
	if got := auditIDs(t, idx, search.AuditQuery{Principals: []string{search.PlatformPrincipal}}); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("audit after commit: %v", got)
	}
	if p := checkpoint(t, idx, "search"); p != 60 {
		t.Errorf("checkpoint after commit: %d, want 60", p)
	}
	if _, ok := get(t, idx, "live"); ok {
		t.Error("a document of the old generation survived the commit")
	}
	// The switched index takes writes; the committed Rebuild is finished.
	write(t, idx, search.Batch{Contracts: fixture()[2:3]})
	expectSet(t, idx, search.ContractQuery{Principals: onlyA}, "c1", "c2", "c3")
	if err := rb.Write(ctx, search.Batch{Contracts: fixture()[3:4]}); err == nil {
		t.Error("Write on a committed Rebuild succeeded")
	}
	// And a next rebuild can start.
	rb2, err := idx.BeginRebuild(ctx)
	if err != nil {
		t.Fatalf("BeginRebuild after commit: %v", err)
	}
	write(t, rb2, search.Batch{Contracts: fixture()[4:5]})
	if err := rb2.Commit(ctx); err != nil {
		t.Fatalf("second Commit: %v", err)
	}
	expectSet(t, idx, search.ContractQuery{Principals: both}, "c5")
}

func testRebuildAbort(t *testing.T, idx search.Index) {
	ctx := t.Context()
	load(t, idx)
	rb, err := idx.BeginRebuild(ctx)
	if err != nil {
		t.Fatalf("BeginRebuild: %v", err)
	}
	write(t, rb, search.Batch{Contracts: []search.ContractDoc{{ID: "x", Title: "废弃", CreatedAt: t0, Deadline: t0, Visible: onlyA, Version: 1}},
		Checkpoint: &search.Checkpoint{Name: "search", Position: 99}})
	if err := rb.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA}, "c1", "c2", "c3", "c4")
	if p := checkpoint(t, idx, "search"); p != 0 {
		t.Errorf("checkpoint after abort: %d", p)
	}
	if err := rb.Commit(ctx); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	rb2, err := idx.BeginRebuild(ctx)
	if err != nil {
		t.Fatalf("BeginRebuild after abort: %v", err)
	}
	if _, ok := get(t, rb2, "x"); ok {
		t.Error("aborted rebuild's document is in the next rebuild")
	}
	if err := rb2.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	expectSet(t, idx, search.ContractQuery{Principals: onlyA, Text: "废弃"})
}
