package writeapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/contract"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/infra/evidence"
	"signet/infra/web"
)

func (a *api) registerContracts(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	r.Handle("/api/v1/contracts", auth(http.HandlerFunc(a.sendContract))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/approval", auth(http.HandlerFunc(a.approveContract))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/approval-rejection", auth(http.HandlerFunc(a.rejectApproval))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/revocation", auth(http.HandlerFunc(a.revokeContract))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/sealing", auth(http.HandlerFunc(a.retrySealing))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/evidence", auth(http.HandlerFunc(a.contractEvidence))).Methods(http.MethodGet)
	r.Handle("/api/v1/contracts/{id}/parties/{party}/sign-code", auth(http.HandlerFunc(a.sendSignCode))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/parties/{party}/signature", auth(http.HandlerFunc(a.signContract))).Methods(http.MethodPost)
	r.Handle("/api/v1/contracts/{id}/parties/{party}/rejection", auth(http.HandlerFunc(a.rejectContract))).Methods(http.MethodPost)
}

// Limits of an ad hoc (multipart) send.
const (
	maxSpecBytes     = 1 << 20
	maxDocumentBytes = 20 << 20
	maxAdHocBytes    = 100 << 20
)

type documentSpec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// sendRequest is the JSON body of a send, or the "spec" part of an ad hoc
// multipart send (whose other parts are the PDFs, named by document ID).
type sendRequest struct {
	TemplateID      string                         `json:"template_id"`
	EnterpriseID    string                         `json:"enterprise_id"`
	Title           string                         `json:"title"`
	Parties         map[string]contract.PartyInput `json:"parties"`
	Values          map[string]string              `json:"values"`
	SigningDeadline *time.Time                     `json:"signing_deadline"`
	ExpiresAt       *time.Time                     `json:"expires_at"`
	DryRun          bool                           `json:"dry_run"`

	ContractType string         `json:"contract_type"`
	Sequential   *bool          `json:"sequential"`
	Documents    []documentSpec `json:"documents"`
	Roles        []layout.Role  `json:"roles"`
	Fields       []layout.Field `json:"fields"`
}

type sentContract struct {
	ID        string                    `json:"id,omitempty"`
	Number    string                    `json:"number,omitempty"`
	Status    string                    `json:"status"`
	Approvers []string                  `json:"approvers,omitempty"`
	Preview   *contract.ContractCreated `json:"preview,omitempty"`
}

func (a *api) sendContract(w http.ResponseWriter, r *http.Request) {
	cmd, err := readSend(w, r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	cmd.Actor = actor(r)
	res, err := a.cmds.Contracts.Send.Handle(r.Context(), cmd)
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	if cmd.DryRun {
		// The preview shows the parties as the sender typed them; nothing is stored.
		preview := res.Contract
		web.WriteJSON(w, http.StatusOK, sentContract{Status: "preview", Approvers: res.Approvers, Preview: &preview})
		return
	}
	w.Header().Set("Location", "/api/v1/contracts/"+res.ContractID)
	written(w, http.StatusCreated, res.Position, sentContract{ID: res.ContractID, Number: res.Number, Status: string(res.Status), Approvers: res.Approvers})
}

func readSend(w http.ResponseWriter, r *http.Request) (commands.SendContract, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		var req sendRequest
		if err := web.DecodeJSON(w, r, &req); err != nil {
			return commands.SendContract{}, err
		}
		if len(req.Documents) > 0 {
			return commands.SendContract{}, fault.Invalidf("documents", "documents_need_multipart", "Upload ad hoc documents as multipart/form-data: a \"spec\" part with this JSON and one PDF part per document, named by its ID.")
		}
		return req.command(nil)
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxAdHocBytes), params["boundary"])
	var (
		req       *sendRequest
		files     = map[string][]byte{}
		filenames = map[string]string{}
		order     []string
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return commands.SendContract{}, multipartFault(err)
		}
		name := part.FormName()
		if name == "spec" {
			var s sendRequest
			if err := web.DecodeStrict(io.LimitReader(part, maxSpecBytes), &s); err != nil {
				return commands.SendContract{}, onFieldOf(err, "spec")
			}
			req = &s
			continue
		}
		if name == "" || files[name] != nil {
			return commands.SendContract{}, fault.Invalidf("documents", "invalid_part", "Name each document part by its document ID, once.")
		}
		data, err := io.ReadAll(io.LimitReader(part, maxDocumentBytes+1))
		if err != nil {
			return commands.SendContract{}, multipartFault(err)
		}
		if len(data) > maxDocumentBytes {
			return commands.SendContract{}, fault.New(fault.TooLarge, "pdf_too_large", fmt.Sprintf("Document %s is larger than %d MB.", name, maxDocumentBytes>>20)).OnField("documents." + name)
		}
		files[name], filenames[name] = data, part.FileName()
		order = append(order, name)
	}
	if req == nil {
		return commands.SendContract{}, fault.Invalidf("spec", "missing_spec", "Add a \"spec\" part holding the contract as JSON.")
	}
	docs := req.Documents
	if len(docs) == 0 {
		// Without a list, each part is a document named by its file name.
		for _, id := range order {
			docs = append(docs, documentSpec{ID: id, Name: strings.TrimSuffix(filenames[id], ".pdf")})
		}
	}
	listed := map[string]bool{}
	for _, d := range docs {
		listed[d.ID] = true
	}
	for _, id := range order {
		if !listed[id] {
			return commands.SendContract{}, fault.Invalidf("documents", "unlisted_document", "Part %q is not a document the spec lists.", id)
		}
	}
	var out []commands.AdHocDocument
	for _, d := range docs {
		data, ok := files[d.ID]
		if !ok {
			return commands.SendContract{}, fault.Invalidf("documents", "missing_document", "The spec lists document %q but no part carries it.", d.ID)
		}
		out = append(out, commands.AdHocDocument{ID: d.ID, Name: d.Name, File: commands.Upload{Data: data, MediaType: "application/pdf"}})
	}
	if len(out) == 0 {
		return commands.SendContract{}, fault.Invalidf("documents", "no_documents", "Upload at least one PDF document.")
	}
	return req.command(out)
}

func (req sendRequest) command(docs []commands.AdHocDocument) (commands.SendContract, error) {
	if req.TemplateID != "" && (req.Sequential != nil || req.ContractType != "" || len(req.Roles)+len(req.Fields)+len(docs) > 0) {
		return commands.SendContract{}, fault.Invalidf("template_id", "template_and_ad_hoc",
			"A contract from a template takes its type, signing order, roles, fields and documents from the template; send those only ad hoc.")
	}
	if req.SigningDeadline == nil {
		return commands.SendContract{}, fault.Invalidf("signing_deadline", "missing_signing_deadline", "Give the signing deadline (签约截止时间) as an RFC 3339 time.")
	}
	return commands.SendContract{
		EnterpriseID: req.EnterpriseID, TemplateID: req.TemplateID, Title: req.Title, Parties: req.Parties, Values: req.Values,
		SigningDeadline: *req.SigningDeadline, ExpiresAt: req.ExpiresAt, DryRun: req.DryRun,
		ContractType: req.ContractType, Sequential: req.Sequential != nil && *req.Sequential, Documents: docs, Roles: req.Roles, Fields: req.Fields,
	}, nil
}

func multipartFault(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fault.New(fault.TooLarge, "body_too_large", fmt.Sprintf("An ad hoc contract's upload is at most %d MB in all.", maxAdHocBytes>>20))
	}
	return fault.New(fault.Invalid, "malformed_multipart", "The multipart body could not be read: "+err.Error())
}

func onFieldOf(err error, field string) error {
	if f, ok := fault.As(err); ok && f.Field == "" {
		return f.OnField(field)
	}
	return err
}

type contractStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (a *api) contractResult(w http.ResponseWriter, r *http.Request, res commands.ContractResult, err error) {
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, contractStatus{ID: res.ContractID, Status: string(res.Status)})
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (a *api) approveContract(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Contracts.Approve.Handle(r.Context(), commands.ApproveContract{Actor: actor(r), ContractID: mux.Vars(r)["id"]})
	a.contractResult(w, r, res, err)
}

func (a *api) rejectApproval(w http.ResponseWriter, r *http.Request) {
	var req reasonRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Contracts.RejectApproval.Handle(r.Context(), commands.RejectApproval{Actor: actor(r), ContractID: mux.Vars(r)["id"], Reason: req.Reason})
	a.contractResult(w, r, res, err)
}

func (a *api) revokeContract(w http.ResponseWriter, r *http.Request) {
	var req reasonRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.Contracts.Revoke.Handle(r.Context(), commands.RevokeContract{Actor: actor(r), ContractID: mux.Vars(r)["id"], Reason: req.Reason})
	a.contractResult(w, r, res, err)
}

// retrySealing tries the final documents again now, instead of at the
// policy's next attempt.
func (a *api) retrySealing(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.Contracts.Seal.Handle(r.Context(), commands.SealContract{Actor: actor(r), ContractID: mux.Vars(r)["id"]})
	if _, refused := fault.As(err); err != nil && !refused {
		err = fault.New(fault.Unavailable, "sealing_failed", "The final documents could not be produced this time; the failure is recorded in the contract's sealing status and will be retried.")
	}
	a.contractResult(w, r, res, err)
}

// contractEvidence answers a completed contract's evidence bundle. It is
// on the write side because it may sign a tree head covering the contract.
// The zip is built whole before anything is sent, so a failure is an error
// answer, never half a bundle.
func (a *api) contractEvidence(w http.ResponseWriter, r *http.Request) {
	b, err := a.cmds.Contracts.Evidence.Handle(r.Context(), commands.ExportEvidence{Actor: actor(r), ContractID: mux.Vars(r)["id"]})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := evidence.Write(&buf, b); err != nil {
		web.WriteError(w, r, err)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="evidence-`+b.ContractID+`.zip"`)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

type signCodeRequest struct {
	EnterpriseID string `json:"enterprise_id"`
}

type signCodeSent struct {
	To          string    `json:"to"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAfter time.Time `json:"resend_after"`
}

func (a *api) sendSignCode(w http.ResponseWriter, r *http.Request) {
	var req signCodeRequest
	if r.ContentLength != 0 {
		if err := web.DecodeJSON(w, r, &req); err != nil {
			web.WriteError(w, r, err)
			return
		}
	}
	v := mux.Vars(r)
	res, err := a.cmds.Contracts.SendSignCode.Handle(r.Context(), commands.SendSignCode{Actor: actor(r), ContractID: v["id"], PartyID: v["party"], EnterpriseID: req.EnterpriseID})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, signCodeSent{To: res.To, ExpiresAt: res.ExpiresAt, ResendAfter: res.ResendAfter})
}

type signRequest struct {
	Code         string `json:"code"`
	EnterpriseID string `json:"enterprise_id"`
	SealID       string `json:"seal_id"`
	SignatureID  string `json:"signature_id"`
}

func (a *api) signContract(w http.ResponseWriter, r *http.Request) {
	var req signRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.Contracts.Sign.Handle(r.Context(), commands.SignContract{Actor: actor(r), ContractID: v["id"], PartyID: v["party"],
		EnterpriseID: req.EnterpriseID, SealID: req.SealID, SignatureID: req.SignatureID, Code: req.Code})
	a.contractResult(w, r, res, err)
}

type rejectRequest struct {
	Reason       string `json:"reason"`
	EnterpriseID string `json:"enterprise_id"`
}

func (a *api) rejectContract(w http.ResponseWriter, r *http.Request) {
	var req rejectRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.Contracts.Reject.Handle(r.Context(), commands.RejectContract{Actor: actor(r), ContractID: v["id"], PartyID: v["party"],
		EnterpriseID: req.EnterpriseID, Reason: req.Reason})
	a.contractResult(w, r, res, err)
}
