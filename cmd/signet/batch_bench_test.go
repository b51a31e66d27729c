package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"signet/domain/batch"
	"signet/domain/event"
)

// Batch sending on the embedded default (SQLite event store, in-process
// Redis, projections and the batch runner in the process), measured over
// HTTP as a customer's program would see it:
//
//	go test ./cmd/signet -run '^$' -bench 'Batch10000|BaselineSQLite' -benchtime 1x
//
// Per run: a 10,000-row CSV sheet for a two-party template is uploaded
// (read, every row checked, the batch recorded: check_s), started, and
// followed until every row is a sent contract (contracts/s and send_s, from
// the start to the batch's completion on its stream) and until the read
// model shows it completed (shown_s: the projections catching up). BenchmarkBaselineSQLiteInsert in the same run
// says what the disk allows.
func BenchmarkBatch10000(b *testing.B) {
	const rows = 10_000
	cfg := testConfig(b)
	cfg.CodesPerHour = 1 << 30
	e := start(b, cfg, roles{true, true, true}, nil)
	e.runBatches()
	boss := newUser(b, e, "13800139901")
	ent := boss.verifiedCase("339901", "13912349901")
	tpl := boss.template(ent, false)
	deadline := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	var sheet strings.Builder
	sheet.WriteString("\ufeff合同标题,乙方姓名,乙方手机号/邮箱,甲方企业名称,甲方经办人姓名,甲方手机号/邮箱,月租金,签署截止日期\n")
	for i := range rows {
		fmt.Fprintf(&sheet, "租赁合同 %d,林某某,136%08d,%s,井然,%s,%d,%s\n", i, i, entName, boss.login, 3000+i, deadline)
	}
	data := []byte(sheet.String())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e.grant(ent, rows)
		b.StartTimer()
		began := time.Now()
		var up batchReply
		boss.uploadSheet(tpl.id, ent, "一万份.csv", data, http.StatusCreated).json(b, &up)
		checked := time.Since(began)
		if up.Valid != rows {
			b.Fatalf("upload: %d valid, %+v", up.Valid, up.Errors)
		}
		started := time.Now()
		boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusOK)
		// Sent: the batch's stream records its completion.
		for {
			envs, err := e.app.store.ReadStream(context.Background(), batch.StreamOf(up.ID), 0, event.Backwards, 1)
			if err != nil {
				b.Fatal(err)
			}
			if envs[0].Type == batch.TypeBatchCompleted {
				break
			}
			if envs[0].Type == batch.TypeBatchPaused || time.Since(started) > 10*time.Minute {
				b.Fatalf("batch stream ends with %s after %s", envs[0].Type, time.Since(started))
			}
			time.Sleep(50 * time.Millisecond)
		}
		sent := time.Since(started)
		// Shown: the read model says so too.
		for boss.progress(up.ID).Status != "completed" {
			time.Sleep(50 * time.Millisecond)
		}
		shown := time.Since(started)
		b.ReportMetric(checked.Seconds(), "check_s")
		b.ReportMetric(rows/sent.Seconds(), "contracts/s")
		b.ReportMetric(sent.Seconds(), "send_s")
		b.ReportMetric(shown.Seconds(), "shown_s")
	}
}
