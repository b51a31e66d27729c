package readapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/domain/fault"
	"signet/infra/search"
	"signet/infra/search/bleve"
	"signet/infra/sheet"
	"signet/projections/principal"
)

var exportT0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// exportIndex is a bleve index holding n contracts visible to "acct:me"
// and, every tenth, one that is not.
func exportIndex(tb testing.TB, n int) search.Index {
	tb.Helper()
	x, err := bleve.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	ctx := context.Background()
	var batch []search.ContractDoc
	for i := range n + n/10 {
		sent := exportT0.Add(time.Duration(i) * time.Minute)
		exp := sent.Add(365 * 24 * time.Hour)
		d := search.ContractDoc{ID: fmt.Sprintf("c-%07d", i), Number: fmt.Sprintf("HT%07d", i), Title: fmt.Sprintf("房屋租赁合同 %d", i),
			Status: "signing", SenderName: "杭州井然食品贸易有限公司", SenderPerson: "井然", SenderAccount: "acct-s", SenderEnterprise: "ent-s",
			Receivers: []string{"=HYPERLINK(\"x\")", "林某某"}, SentAt: &sent, CreatedAt: sent, Deadline: sent.Add(72 * time.Hour), ExpiresAt: &exp,
			Tags: []string{"ent-s/t1", "ent-other/t9"}, Visible: []string{"acct:me"}, Version: uint64(i + 1)}
		if i%11 == 10 {
			d.Visible = []string{"acct:someone-else"}
		}
		batch = append(batch, d)
		if len(batch) == 1000 {
			if err := x.Write(ctx, search.Batch{Contracts: batch}); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := x.Write(ctx, search.Batch{Contracts: batch}); err != nil {
		tb.Fatal(err)
	}
	return x
}

var exportCaller = principal.Caller{AccountID: "me", Memberships: []principal.Membership{{EnterpriseID: "ent-s", Role: "admin", Verified: true}}}

// export runs the export of every contract visible to "acct:me" into w.
func export(tb testing.TB, x search.Index, rw sheet.RowWriter) {
	tb.Helper()
	ctx := context.Background()
	q := search.ContractQuery{Principals: []string{"acct:me"}, Limit: exportPage}
	page, err := x.SearchContracts(ctx, q)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeRows(ctx, x, q, page, rw, exportCaller, map[string]string{"ent-s/t1": "重要"}); err != nil {
		tb.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		tb.Fatal(err)
	}
}

// Every visible contract once, newest first, across pages, nothing else.
func TestExportWritesEveryPage(t *testing.T) {
	const n = 2000
	x := exportIndex(t, n)
	var buf bytes.Buffer
	rw := sheet.NewCSVWriter(&buf)
	if err := rw.Write(ExportHeader); err != nil {
		t.Fatal(err)
	}
	export(t, x, rw)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 || !slices.Equal(rows[0], ExportHeader) {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	seen := map[string]bool{}
	prev := "HT9999999"
	for _, r := range rows[1:] {
		if seen[r[0]] || r[0] >= prev {
			t.Fatalf("row %q out of order or repeated (after %s)", r, prev)
		}
		seen[r[0]], prev = true, r[0]
	}
	first := rows[1] // 2199 is one of those "acct:me" does not see
	day := func(t time.Time) string { return t.In(contract.Shanghai).Format("2006-01-02 15:04") }
	sent := exportT0.Add(2198 * time.Minute)
	want := []string{"HT0002198", "房屋租赁合同 2198", "杭州井然食品贸易有限公司（井然）", "'=HYPERLINK(\"x\")、林某某", "签署中",
		day(sent), day(sent.Add(72 * time.Hour)), day(sent.Add(365 * 24 * time.Hour)), "重要"}
	if !slices.Equal(first, want) {
		t.Fatalf("first row\n got %q\nwant %q", first, want)
	}
}

func TestParseSearchParams(t *testing.T) {
	cases := []struct {
		query string
		code  string
		check func(SearchParams) bool
	}{
		{"q=租&status=signing,completed&status=expired", "", func(p SearchParams) bool {
			return p.Query.Text == "租" && slices.Equal(p.Query.Status, []string{"signing", "completed", "expired"})
		}},
		{"sent_from=2026-12-01&sent_to=2026-12-01", "", func(p SearchParams) bool {
			return p.Query.SentFrom.Equal(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)) && p.Query.SentTo.Equal(time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC))
		}},
		{"sent_from=2026-12-01T10:00:00%2B08:00", "", func(p SearchParams) bool { return p.Query.SentFrom.Equal(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)) }},
		{"receiver=138 0013 8000", "", func(p SearchParams) bool { return len(p.Query.Receiver) == 64 }},
		{"receiver=上海云签", "", func(p SearchParams) bool { return p.Query.Receiver == "上海云签" }},
		{"tag=t1,t2&enterprise=e1&folder=f1", "", func(p SearchParams) bool {
			return slices.Equal(p.Tags, []string{"t1", "t2"}) && p.Enterprise == "e1" && p.Folder == "f1"
		}},
		{"status=done", "invalid_status", nil},
		{"sent_to=31/12/2026", "invalid_sent_to", nil},
		{"limit=-1", "invalid_limit", nil},
		{"tag=t1", "tag_needs_enterprise", nil},
		{"tag=a/b&enterprise=e", "invalid_tag", nil},
		{"folder=../x", "invalid_folder", nil},
		{"enterprise=e:1", "invalid_enterprise", nil},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseSearchParams(v)
		if c.code != "" {
			if f, ok := fault.As(err); !ok || f.Code != c.code || f.Kind != fault.Invalid {
				t.Errorf("%s: %v, want %s", c.query, err, c.code)
			}
			continue
		}
		if err != nil || !c.check(p) {
			t.Errorf("%s: %+v %v", c.query, p, err)
		}
	}
}

func FuzzParseSearchParams(f *testing.F) {
	for _, s := range []string{"q=租&status=signing", "sent_from=2026-12-01&sent_to=2026-12-31", "tag=a&enterprise=b", "receiver=13800138000", "after=xyz&limit=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := ParseSearchParams(v)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("%q: not a refusal: %v", raw, err)
			}
			return
		}
		q, _ := contractQuery(principal.Caller{AccountID: "me"}, []string{"acct:me"}, p)
		if _, _, err := search.PrepareContracts(q); err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("%q: not a refusal: %v", raw, err)
			}
		}
		if _, err := ParseAuditParams(v); err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("%q: audit: not a refusal: %v", raw, err)
			}
		}
	})
}

// countWriter counts what the export writes.
type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// BenchmarkExport100k exports 100,000 contracts from bleve and reports the
// heap in use at its peak during the export and after it: the export
// holds one page at a time, so the peak does not grow with the rows.
// Indexing the contracts first takes most of the run.
func BenchmarkExport100k(b *testing.B) { benchExport(b, 100_000) }

// BenchmarkExport10k is the same at a tenth of the rows: its peak heap is
// the 100k one's when the export's memory does not grow with the rows.
func BenchmarkExport10k(b *testing.B) { benchExport(b, 10_000) }

func benchExport(b *testing.B, n int) {
	x := exportIndex(b, n)
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			for range b.N {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				var peak uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					var m runtime.MemStats
					for {
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				})
				start := time.Now()
				out := &countWriter{}
				var rw sheet.RowWriter
				if format == "csv" {
					rw = sheet.NewCSVWriter(out)
					rw.Write(ExportHeader)
				} else {
					var err error
					if rw, err = sheet.NewXLSXWriter(out, "合同列表", ExportHeader); err != nil {
						b.Fatal(err)
					}
				}
				export(b, x, rw)
				el := time.Since(start)
				close(stop)
				wg.Wait()
				b.ReportMetric(float64(n)/el.Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-before-MB")
				b.ReportMetric(float64(out.n)/(1<<20), "file-MB")
			}
		})
	}
}
