package readapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"signet/domain/batch"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/template"
	"signet/infra/sheet"
	"signet/infra/web"
	"signet/projections/batches"
	"signet/projections/enterprises"
	"signet/projections/templates"
)

// BatchReader reads batches; batches.Reader implements it.
type BatchReader interface {
	Progress(ctx context.Context, id string) (batches.Progress, error)
	Access(ctx context.Context, id string, c batches.Caller) error
	List(ctx context.Context, c batches.Caller, limit int) ([]batches.Progress, error)
}

var errNoErrorSheet = fault.New(fault.NotFound, "no_error_sheet", "Every row of this batch's sheet is valid: there is no error copy.")

func (a *api) registerBatches(r *mux.Router) {
	if a.Enterprises == nil || a.Files == nil || a.Templates == nil {
		panic("readapi: Deps.Batches needs Deps.Enterprises, Deps.Files and Deps.Templates")
	}
	authed := web.RequireAuth(a.Verify)
	get := func(path string, h http.HandlerFunc) {
		r.Handle(path, authed(h)).Methods(http.MethodGet)
	}
	get("/api/v1/templates/{id}/batch-sample", a.batchSample)
	get("/api/v1/batches", a.batchList)
	get("/api/v1/batches/{id}", a.batchProgress)
	get("/api/v1/batches/{id}/report", a.batchReport)
	get("/api/v1/batches/{id}/errors.xlsx", a.batchErrorSheet)
}

// batchCaller is the caller with the enterprises they administer.
func (a *api) batchCaller(r *http.Request) (batches.Caller, error) {
	p, _ := web.Caller(r.Context())
	c := batches.Caller{AccountID: p.AccountID}
	ents, err := a.Enterprises.EnterprisesOf(r.Context(), p.AccountID)
	if err != nil {
		return c, err
	}
	for _, e := range ents {
		if e.Role == "master_admin" || e.Role == "admin" || e.Role == "auditor" { // auditors read all
			c.AdminOf = append(c.AdminOf, e.ID)
		}
	}
	return c, nil
}

// batchAccess waits for the read models and refuses callers who may not
// see the route's batch.
func (a *api) batchAccess(r *http.Request) (batches.Progress, error) {
	if err := a.catchUp(r, batches.Name, enterprises.Name); err != nil {
		return batches.Progress{}, err
	}
	c, err := a.batchCaller(r)
	if err != nil {
		return batches.Progress{}, err
	}
	id := mux.Vars(r)["id"]
	if err := a.Batches.Access(r.Context(), id, c); err != nil {
		return batches.Progress{}, err
	}
	return a.Batches.Progress(r.Context(), id)
}

// batchView is a batch's progress with the links to act on it.
type batchView struct {
	batches.Progress
	Links map[string]string `json:"links"`
}

func viewOf(p batches.Progress) batchView {
	base := "/api/v1/batches/" + p.ID
	links := map[string]string{"self": base, "report": base + "/report"}
	if p.ErrorSheet != "" {
		links["error_sheet"] = base + "/errors.xlsx"
	}
	switch p.Status {
	case string(batch.StatusChecked):
		links["start"], links["cancellation"] = base+"/start", base+"/cancellation"
	case string(batch.StatusRunning):
		links["cancellation"] = base + "/cancellation"
	case string(batch.StatusPaused):
		links["resumption"], links["cancellation"] = base+"/resumption", base+"/cancellation"
	}
	return batchView{Progress: p, Links: links}
}

func (a *api) batchProgress(w http.ResponseWriter, r *http.Request) {
	p, err := a.batchAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	answer(w, r, viewOf(p), nil)
}

func (a *api) batchList(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			answer(w, r, nil, fault.Invalidf("limit", "invalid_limit", "limit is a number from 1 to 200."))
			return
		}
		limit = n
	}
	if err := a.catchUp(r, batches.Name, enterprises.Name); err != nil {
		answer(w, r, nil, err)
		return
	}
	c, err := a.batchCaller(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	ps, err := a.Batches.List(r.Context(), c, limit)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	out := make([]batchView, len(ps))
	for i, p := range ps {
		out[i] = viewOf(p)
	}
	answer(w, r, out, nil)
}

// batchReport answers every bad cell of the sheet, as JSON.
func (a *api) batchReport(w http.ResponseWriter, r *http.Request) {
	p, err := a.batchAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	data, err := a.blob(r.Context(), p.ReportSHA)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var errs []batch.RowError
	if err := json.Unmarshal(data, &errs); err != nil {
		web.WriteError(w, r, fmt.Errorf("batch %s report: %w", p.ID, err))
		return
	}
	answer(w, r, struct {
		ID      string           `json:"id"`
		Total   int              `json:"total"`
		Valid   int              `json:"valid"`
		Invalid int              `json:"invalid"`
		Errors  []batch.RowError `json:"errors"`
	}{p.ID, p.Sheet.Total, p.Sheet.Valid, p.Sheet.Invalid, errs}, nil)
}

// batchErrorSheet serves the sheet's copy with the error column.
func (a *api) batchErrorSheet(w http.ResponseWriter, r *http.Request) {
	p, err := a.batchAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	if p.ErrorSheet == "" {
		answer(w, r, nil, errNoErrorSheet)
		return
	}
	data, err := a.blob(r.Context(), p.ErrorSheet)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	name := strings.TrimSuffix(strings.TrimSuffix(p.FileName, ".xlsx"), ".csv")
	if name == "" {
		name = "batch"
	}
	serveXLSX(w, data, name+"-错误说明.xlsx")
}

// blob reads a stored file and checks it still hashes to its name.
func (a *api) blob(ctx context.Context, sha string) ([]byte, error) {
	data, _, err := a.Files.Get(ctx, sha)
	if errors.Is(err, event.ErrNotFound) {
		return nil, errFileMissing
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", sha, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		return nil, fmt.Errorf("file %s: stored bytes hash to %x", sha, sum)
	}
	return data, nil
}

// batchSample serves a template's sheet: one column per party field and
// business field, the title, signing deadline and expiry, a hint row, and
// Excel's checks where it has them.
func (a *api) batchSample(w http.ResponseWriter, r *http.Request) {
	v, err := a.templateAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	var buf bytes.Buffer
	if err := sheet.WriteSample(&buf, v.Name, sampleColumns(v), nil); err != nil {
		web.WriteError(w, r, fmt.Errorf("batch sample of template %s: %w", v.ID, err))
		return
	}
	serveXLSX(w, buf.Bytes(), v.Name+"-批量发送.xlsx")
}

// sampleColumns are the template's batch columns as the sheet writer
// takes them. A business date may lie in the past, so only the deadline
// and the expiry get Excel's "after today" check.
func sampleColumns(v templates.TemplateView) []sheet.Column {
	cols := batch.Columns(template.Snapshot{Name: v.Name, ContractType: v.ContractType, Sequential: v.Sequential, Roles: v.Roles, Fields: v.Fields})
	out := make([]sheet.Column, len(cols))
	for i, c := range cols {
		k := sheet.Text
		switch c.Kind {
		case batch.KindContact:
			k = sheet.Contact
		case batch.KindNumber:
			k = sheet.Number
		case batch.KindChoice:
			k = sheet.Choice
		case batch.KindDate, batch.KindDateTime:
			if c.Target != batch.TargetValue {
				k = sheet.Date
			}
		}
		out[i] = sheet.Column{Header: c.Header, Hint: c.Hint, Kind: k, Choices: c.Choices, Required: c.Required}
	}
	return out
}

func serveXLSX(w http.ResponseWriter, data []byte, name string) {
	h := w.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", downloadAs(name))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

// downloadAs is a Content-Disposition that saves the file under name: an
// ASCII filename for old clients, the exact name as RFC 5987 filename*.
func downloadAs(name string) string {
	name = strings.ToValidUTF8(strings.TrimSpace(name), "\uFFFD")
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
