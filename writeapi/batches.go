package writeapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/batch"
	"signet/domain/fault"
	"signet/infra/sheet"
	"signet/infra/web"
)

func (a *api) registerBatches(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	r.Handle("/api/v1/batches", auth(http.HandlerFunc(a.checkBatch))).Methods(http.MethodPost)
	r.Handle("/api/v1/batches/{id}/start", auth(http.HandlerFunc(a.startBatch))).Methods(http.MethodPost)
	r.Handle("/api/v1/batches/{id}/cancellation", auth(http.HandlerFunc(a.cancelBatch))).Methods(http.MethodPost)
	r.Handle("/api/v1/batches/{id}/resumption", auth(http.HandlerFunc(a.resumeBatch))).Methods(http.MethodPost)
}

// Limits of a batch upload: the sheet (sheet.DefaultLimits.MaxBytes),
// and the form around it.
const (
	batchFormSlack  = 64 << 10
	batchFieldBytes = 1 << 10
	// batchErrorsShown is how many bad cells the upload's answer lists;
	// the report has them all.
	batchErrorsShown = 100
)

var errNotMultipart = fault.New(fault.Unsupported, "unsupported_media_type",
	`Upload the sheet as multipart/form-data: the parts "template_id", optionally "enterprise_id", then "file" (.xlsx, or .csv in UTF-8).`)

// checkBatch reads the form up to the file part, lets the command check
// who uploads, and only then the file (at most the sheet limit).
func (a *api) checkBatch(w http.ResponseWriter, r *http.Request) {
	limit := sheet.DefaultLimits.MaxBytes
	tooLarge := fault.New(fault.TooLarge, sheet.CodeTooLarge, fmt.Sprintf(
		"A sheet is at most %d MB (and %d rows); split the rows into several files.", limit>>20, batch.MaxRows)).OnField("file")
	if r.ContentLength > limit+batchFormSlack {
		web.WriteError(w, r, tooLarge)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		web.WriteError(w, r, errNotMultipart)
		return
	}
	body := http.MaxBytesReader(w, r.Body, limit+batchFormSlack)
	cmd := commands.CheckBatchSheet{Actor: actor(r)}
	var part *multipart.Part
	cmd.TemplateID, cmd.EnterpriseID, part, err = batchForm(multipart.NewReader(body, params["boundary"]), tooLarge)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	cmd.FileName = part.FileName()
	cmd.File = commands.Upload{Read: func() (commands.Upload, error) {
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return commands.Upload{}, formFault(err, tooLarge)
		}
		return commands.Upload{Data: data}, nil
	}}
	if cmd.TemplateID == "" {
		web.WriteError(w, r, fault.Invalidf("template_id", "missing_template_id", `Say which template the sheet fills: the form part "template_id", before "file".`))
		return
	}
	res, err := a.cmds.Batches.Check.Handle(r.Context(), cmd)
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	out := checkedBatch(res)
	if res.Checked.Valid == 0 {
		// Recorded, so that the report and the error copy can be fetched,
		// but there is nothing to send.
		out.Error = &batchError{Code: "no_valid_rows", Message: fmt.Sprintf(
			"None of the sheet's %d rows is valid; fix the rows listed in errors (or in the error copy) and upload the sheet again.", res.Checked.Total)}
		written(w, http.StatusUnprocessableEntity, res.Position, out)
		return
	}
	w.Header().Set("Location", out.Links.Self)
	written(w, http.StatusCreated, res.Position, out)
}

// batchForm reads the form's text parts up to the file part, which it
// returns unread. Every refusal is a *fault.Error; tooLarge is the body
// limit's.
func batchForm(mr *multipart.Reader, tooLarge error) (templateID, enterpriseID string, file *multipart.Part, err error) {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", "", nil, fault.Invalidf("file", "missing_file", `The form has no "file" part: add the sheet after "template_id".`)
		}
		if err != nil {
			return "", "", nil, formFault(err, tooLarge)
		}
		name := part.FormName()
		if name == "file" {
			return templateID, enterpriseID, part, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, batchFieldBytes))
		if err != nil {
			return "", "", nil, formFault(err, tooLarge)
		}
		switch name {
		case "template_id":
			templateID = strings.TrimSpace(string(v))
		case "enterprise_id":
			enterpriseID = strings.TrimSpace(string(v))
		}
	}
}

func formFault(err, tooLarge error) error {
	var over *http.MaxBytesError
	if errors.As(err, &over) {
		return tooLarge
	}
	return fault.New(fault.Invalid, "malformed_multipart", "The multipart body could not be read: "+err.Error())
}

type batchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// batchChecked is the answer to an upload: the batch, the first bad cells
// and where the rest is.
type batchChecked struct {
	Error           *batchError      `json:"error,omitempty"` // only when no row is valid
	ID              string           `json:"id"`
	Status          string           `json:"status"`
	TemplateID      string           `json:"template_id"`
	FileName        string           `json:"file_name"`
	Format          string           `json:"format"`
	Total           int              `json:"total"`
	Valid           int              `json:"valid"`
	Invalid         int              `json:"invalid"`
	QuotaLeft       int              `json:"quota_left"`
	Errors          []batch.RowError `json:"errors"`
	ErrorsTruncated bool             `json:"errors_truncated"`
	Links           batchLinks       `json:"links"`
}

type batchLinks struct {
	Self       string `json:"self"`
	Report     string `json:"report"`
	ErrorSheet string `json:"error_sheet,omitempty"`
	Start      string `json:"start"`
}

func checkedBatch(res commands.CheckBatchSheetResult) batchChecked {
	c := res.Checked
	base := "/api/v1/batches/" + c.BatchID
	out := batchChecked{ID: c.BatchID, Status: string(batch.StatusChecked), TemplateID: c.TemplateID, FileName: c.FileName, Format: c.Format,
		Total: c.Total, Valid: c.Valid, Invalid: c.Invalid, QuotaLeft: res.QuotaLeft, Errors: res.Errors,
		Links: batchLinks{Self: base, Report: base + "/report", Start: base + "/start"}}
	if out.Errors == nil {
		out.Errors = []batch.RowError{}
	}
	if len(out.Errors) > batchErrorsShown {
		out.Errors, out.ErrorsTruncated = out.Errors[:batchErrorsShown], true
	}
	if c.ErrorSheetSHA256 != "" {
		out.Links.ErrorSheet = base + "/errors.xlsx"
	}
	return out
}

type startRequest struct {
	Rows string `json:"rows"`
}

type batchState struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (a *api) startBatch(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Batches.Start.Handle(r.Context(), commands.StartBatch{Actor: actor(r), BatchID: mux.Vars(r)["id"], Rows: req.Rows})
	a.batchResult(w, r, res, err)
}

func (a *api) cancelBatch(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Batches.Cancel.Handle(r.Context(), commands.CancelBatch{Actor: actor(r), BatchID: mux.Vars(r)["id"]})
	a.batchResult(w, r, res, err)
}

func (a *api) resumeBatch(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Batches.Resume.Handle(r.Context(), commands.ResumeBatch{Actor: actor(r), BatchID: mux.Vars(r)["id"]})
	a.batchResult(w, r, res, err)
}

func (a *api) batchResult(w http.ResponseWriter, r *http.Request, res commands.BatchResult, err error) {
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, batchState{ID: res.BatchID, Status: string(res.Status)})
}
