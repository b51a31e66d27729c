package bleve

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"signet/infra/search"
)

// BenchmarkSearch100k indexes 100,000 contracts of 50 enterprises (reported
// as docs/s), then measures SearchContracts with the principals of one
// enterprise (p50/p99 in ms):
//
//	go test -v -run '^$' -bench Search100k -benchtime 2000x ./infra/search/bleve/
func BenchmarkSearch100k(b *testing.B) {
	const docs, enterprises, batch = 100_000, 50, 1000
	x, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"房屋", "租赁", "劳动", "采购", "设备", "技术", "服务", "保密", "销售", "借款", "合作", "框架", "补充", "软件", "运输", "仓储"}
	statuses := []string{"draft", "signing", "signing", "completed", "completed", "completed", "rejected", "expired"}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := b.Context()
	start := time.Now()
	buf := make([]search.ContractDoc, 0, batch)
	for i := range docs {
		ent := i % enterprises
		title := ""
		for range 2 + rng.IntN(3) {
			title += words[rng.IntN(len(words))]
		}
		title += []string{"合同", "协议"}[rng.IntN(2)]
		sent := base.Add(time.Duration(rng.IntN(365*24)) * time.Hour)
		d := search.ContractDoc{
			ID: fmt.Sprintf("c%06d", i), Number: fmt.Sprintf("HT-%06d", i), Title: title, Status: statuses[rng.IntN(len(statuses))],
			SenderName: fmt.Sprintf("企业%02d", ent), SenderPerson: "员工" + words[rng.IntN(len(words))], SenderAccount: fmt.Sprintf("acct-%d", rng.IntN(5000)),
			SenderEnterprise: fmt.Sprintf("ent-%d", ent), Receivers: []string{fmt.Sprintf("企业%02d", rng.IntN(enterprises)), "张三"},
			ReceiverKeys: []string{fmt.Sprintf("login-%d", rng.IntN(20000))}, SentAt: &sent, CreatedAt: sent.Add(-time.Hour),
			Deadline: sent.Add(time.Duration(1+rng.IntN(30)) * 24 * time.Hour), Tags: []string{fmt.Sprintf("ent-%d/t%d", ent, rng.IntN(5))},
			Visible: []string{fmt.Sprintf("ent:%d", ent), fmt.Sprintf("acct:%d", rng.IntN(5000))}, Version: uint64(i + 1),
		}
		if d.Status == "draft" {
			d.SentAt = nil
		}
		buf = append(buf, d)
		if len(buf) == batch {
			if err := x.Write(ctx, search.Batch{Contracts: buf, Checkpoint: &search.Checkpoint{Name: "bench", Position: uint64(i + 1)}}); err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	el := time.Since(start)
	b.Logf("indexed %d documents in %v: %.0f docs/s", docs, el, float64(docs)/el.Seconds())

	from, to := base.AddDate(0, 3, 0), base.AddDate(0, 6, 0)
	queries := map[string]func(ent int) search.ContractQuery{
		"text": func(ent int) search.ContractQuery {
			return search.ContractQuery{Text: words[ent%len(words)]}
		},
		"text+status+sent": func(ent int) search.ContractQuery {
			return search.ContractQuery{Text: words[ent%len(words)], Status: []string{"signing", "completed"}, SentFrom: &from, SentTo: &to}
		},
		"one-character": func(ent int) search.ContractQuery {
			w := []rune(words[ent%len(words)])
			return search.ContractQuery{Text: string(w[0])}
		},
	}
	for _, name := range []string{"text", "text+status+sent", "one-character"} {
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			hits := 0
			i := 0
			for b.Loop() {
				ent := i % enterprises
				i++
				q := queries[name](ent)
				q.Principals = []string{fmt.Sprintf("ent:%d", ent)}
				t := time.Now()
				p, err := x.SearchContracts(ctx, q)
				lat = append(lat, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				hits += p.Total
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(hits)/float64(len(lat)), "matches/query")
		})
	}
}
