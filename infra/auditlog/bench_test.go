package auditlog_test

import (
	"testing"

	"signet/infra/auditlog"
)

// A log of 50,000 events in 500 streams (appended 100 per transaction)
// with a signed head every 10,000: what `signet audit verify` reads and
// checks, and the tree build alone. Run with
//
//	go test -run xxx -bench . -benchtime 3x ./infra/auditlog/
func benchLog(b *testing.B) *logFile {
	l := &logFile{t: b, path: b.TempDir() + "/events.db", tree: auditlog.NewTree()}
	l.open()
	for i := range 5 {
		l.add(string(rune('a'+i)), 10000, 100, 100)
		l.sign()
	}
	return l
}

func BenchmarkVerify50k(b *testing.B) {
	l := benchLog(b)
	keys := auditlog.KeySet(signer.PublicKey())
	var events uint64
	for b.Loop() {
		r, err := auditlog.Verify(ctx, l.store, keys)
		if err != nil || !r.OK() || r.HeadsVerified != 5 {
			b.Fatalf("%v\n%s", err, r.Summary())
		}
		events = r.Events
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkTreeCatchUp50k(b *testing.B) {
	l := benchLog(b)
	var n uint64
	for b.Loop() {
		tree := auditlog.NewTree()
		if _, err := tree.CatchUp(ctx, l.store); err != nil {
			b.Fatal(err)
		}
		n = tree.Size()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
