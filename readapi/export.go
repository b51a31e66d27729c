package readapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"signet/domain/contract"
	"signet/infra/search"
	"signet/infra/sheet"
	"signet/projections/principal"
)

// ExportHeader is the first row of an export.
var ExportHeader = []string{"合同编号", "合同标题", "发件方", "签约方", "状态", "发送时间", "签署截止", "合同到期", "标签"}

// StatusNames are the statuses as the export shows them.
var StatusNames = map[string]string{
	string(contract.StatusCreated):          "待发送",
	string(contract.StatusPendingApproval):  "待审批",
	string(contract.StatusApproved):         "审批通过",
	string(contract.StatusApprovalRejected): "审批驳回",
	string(contract.StatusSigning):          "签署中",
	string(contract.StatusSealing):          "生成签署文件中",
	string(contract.StatusCompleted):        "已完成",
	string(contract.StatusRejected):         "已拒签",
	string(contract.StatusRevoked):          "已撤回",
	string(contract.StatusExpired):          "已逾期",
}

// exportPage is how many contracts one read of the index brings: the
// export holds one page in memory, never the whole result.
const exportPage = search.MaxLimit

// exportDuration bounds one export (the server's write timeout aside).
const exportDuration = 10 * time.Minute

// exportContracts streams every contract of a search, page by page, as CSV
// (UTF-8 with a BOM, formulas neutralised) or XLSX.
func (a *api) exportContracts(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		answer(w, r, nil, errInvalidFormat)
		return
	}
	p, err := ParseSearchParams(r.URL.Query())
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	c, principals, err := a.searchCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	q, err := contractQuery(c, principals, p)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	q.After, q.Limit = "", exportPage
	ctx, cancel := context.WithTimeout(r.Context(), exportDuration)
	defer cancel()
	// The first page answers refusals (a bad sort, a bad cursor) while a
	// JSON error can still be sent.
	page, err := a.Search.Index.SearchContracts(ctx, q)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	tags := a.tagNames(ctx, c)
	name := "合同列表-" + time.Now().In(contract.Shanghai).Format("20060102-150405") + "." + format
	lw := &lazyWriter{w: w, start: func() {
		h := w.Header()
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		}
		h.Set("Content-Disposition", attachmentNamed(name))
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	}}
	var rw sheet.RowWriter
	if format == "csv" {
		rw = sheet.NewCSVWriter(lw)
		err = rw.Write(ExportHeader)
	} else {
		rw, err = sheet.NewXLSXWriter(lw, "合同列表", ExportHeader)
	}
	if err == nil {
		err = writeRows(ctx, a.Search.Index, q, page, rw, c, tags)
	}
	if rw != nil {
		if cerr := rw.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		if !lw.started {
			answer(w, r, nil, err)
			return
		}
		// Half a file must not look like a whole one: cut the connection.
		panic(http.ErrAbortHandler)
	}
}

// RowSource reads pages of a contract search.
type RowSource interface {
	SearchContracts(ctx context.Context, q search.ContractQuery) (search.ContractPage, error)
}

// writeRows writes page and every page after it.
func writeRows(ctx context.Context, src RowSource, q search.ContractQuery, page search.ContractPage, rw sheet.RowWriter, c principal.Caller, tags map[string]string) error {
	row := make([]string, len(ExportHeader))
	for {
		for _, d := range page.Hits {
			ExportRow(row, hitOf(c, d), tags)
			if err := rw.Write(row); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
		var err error
		if page, err = src.SearchContracts(ctx, q); err != nil {
			return fmt.Errorf("export: next page: %w", err)
		}
	}
}

// ExportRow fills row with h as the export shows it; tags maps
// "<enterprise ID>/<tag ID>" to the tag's name.
func ExportRow(row []string, h ContractHit, tags map[string]string) {
	day := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(contract.Shanghai).Format("2006-01-02 15:04")
	}
	sender := h.Sender.Name
	if h.Sender.EnterpriseID != "" && h.Sender.PersonName != "" {
		sender += "（" + h.Sender.PersonName + "）"
	}
	status := StatusNames[h.Status]
	if status == "" {
		status = h.Status
	}
	var names []string
	for _, t := range h.Tags {
		if n := tags[t.EnterpriseID+"/"+t.ID]; n != "" {
			names = append(names, n)
		}
	}
	deadline := h.SigningDeadline
	row[0], row[1], row[2], row[3], row[4] = h.Number, h.Title, sender, strings.Join(h.Receivers, "、"), status
	row[5], row[6], row[7], row[8] = day(h.SentAt), day(&deadline), day(h.ExpiresAt), strings.Join(names, "、")
}

// tagNames maps the caller's enterprises' tags to their names; without the
// lists' read model (or when it fails) tags are left out of the export.
func (a *api) tagNames(ctx context.Context, c principal.Caller) map[string]string {
	out := map[string]string{}
	if a.Boxes == nil {
		return out
	}
	for _, m := range c.Memberships {
		if m.Role == "" {
			continue
		}
		tags, err := a.Boxes.Tags(ctx, m.EnterpriseID)
		if err != nil {
			continue
		}
		for _, t := range tags {
			out[m.EnterpriseID+"/"+t.ID] = t.Name
		}
	}
	return out
}

// attachmentNamed is the Content-Disposition of a download named name: an
// ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987).
func attachmentNamed(name string) string {
	var ascii, enc strings.Builder
	for _, c := range name {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(c)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// lazyWriter sends the response's headers at the first byte, so that an
// error before it can still be answered as JSON.
type lazyWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start()
	}
	return l.w.Write(b)
}
