package writeapi

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/infra/bank"
	"signet/infra/face"
	"signet/infra/upload"
	"signet/infra/web"
)

func (a *api) registerEnterprises(r *mux.Router, d Deps) {
	auth := web.RequireAuth(d.Verify)
	h := func(path string, f http.HandlerFunc, method string) {
		r.Handle(path, auth(f)).Methods(method)
	}
	h("/api/v1/enterprises", a.createEnterprise, http.MethodPost)
	h("/api/v1/enterprises/{id}/license", a.uploadLicense, http.MethodPut)
	h("/api/v1/enterprises/{id}/id-cards/{person}/{side}", a.uploadIDCard, http.MethodPut)
	h("/api/v1/enterprises/{id}/materials", a.submitMaterials, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness", a.chooseMethod, http.MethodPut)
	h("/api/v1/enterprises/{id}/willingness/phone-code", a.sendPhoneCode, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness/phone-code/confirm", a.confirmPhoneCode, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness/face-scans", a.startFaceScan, http.MethodPost)
	h("/api/v1/enterprises/{id}/authorization-letter", a.downloadLetter, http.MethodGet)
	h("/api/v1/enterprises/{id}/authorization-letter", a.uploadLetter, http.MethodPut)
	h("/api/v1/enterprises/{id}/authorization-letter/review", a.reviewLetter, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness/micro-deposit", a.requestMicroDeposit, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness/micro-deposit/confirm", a.confirmMicroDeposit, http.MethodPost)
	h("/api/v1/enterprises/{id}/willingness/reverse-deposit", a.requestReverseDeposit, http.MethodPost)
	h("/api/v1/enterprises/{id}/invitations", a.createInvitation, http.MethodPost)
	h("/api/v1/invitations/{token}/accept", a.acceptInvitation, http.MethodPost)
	h("/api/v1/enterprises/{id}/members/{account}", a.changeMemberRole, http.MethodPut)
	h("/api/v1/enterprises/{id}/members/{account}", a.removeMember, http.MethodDelete)

	// Provider callbacks: authenticated by HMAC over timestamp and body.
	r.Handle("/api/v1/callbacks/face", d.FaceCallbacks(http.HandlerFunc(a.faceCallback))).Methods(http.MethodPost)
	r.Handle("/api/v1/callbacks/bank/transfers", d.BankCallbacks(http.HandlerFunc(a.transferCallback))).Methods(http.MethodPost)
	r.Handle("/api/v1/callbacks/bank/statements", d.BankCallbacks(http.HandlerFunc(a.statementCallback))).Methods(http.MethodPost)
}

func actor(r *http.Request) commands.Actor {
	p, _ := web.Caller(r.Context())
	return commands.Actor{AccountID: p.AccountID, ClientIP: web.ClientIP(r), CorrelationID: web.RequestID(r.Context())}
}

// written answers a write: the position header, then the JSON body.
func written(w http.ResponseWriter, status int, pos uint64, body any) {
	if pos > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(pos, 10))
	}
	web.WriteJSON(w, status, body)
}

type createdEnterprise struct {
	ID string `json:"id"`
}

func (a *api) createEnterprise(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.CreateEnterprise.Handle(r.Context(), commands.CreateEnterprise{Actor: actor(r)})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	w.Header().Set("Location", "/api/v1/enterprises/"+res.EnterpriseID)
	written(w, http.StatusCreated, res.Position, createdEnterprise{ID: res.EnterpriseID})
}

// fail answers a refusal; a refusal that was recorded (a wrong code, a
// carrier mismatch...) still says where, so the client can wait for it.
func fail(w http.ResponseWriter, r *http.Request, pos uint64, err error) {
	if pos > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(pos, 10))
	}
	web.WriteError(w, r, err)
}

// emptyBody accepts no body or an empty JSON object.
func emptyBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength == 0 {
		return true
	}
	var v struct{}
	if err := web.DecodeJSON(w, r, &v); err != nil {
		web.WriteError(w, r, err)
		return false
	}
	return true
}

type fileJSON struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

func fileOf(f enterprise.File) fileJSON { return fileJSON{f.SHA256, f.Size, f.MediaType} }

type licenseUploaded struct {
	File       fileJSON                 `json:"file"`
	Recognized enterprise.LicenseFields `json:"recognized"`
	Recognizer string                   `json:"recognizer"`
}

// readUpload defers reading the request's file until the command has
// checked that the caller may upload it.
func readUpload(r *http.Request, allowed []string) commands.Upload {
	return commands.Upload{Read: func() (commands.Upload, error) {
		f, err := upload.Read(r, "file", allowed, upload.MaxSize)
		if err != nil {
			return commands.Upload{}, err
		}
		return commands.Upload{Data: f.Data, MediaType: f.MediaType}, nil
	}}
}

func (a *api) uploadLicense(w http.ResponseWriter, r *http.Request) {
	f := readUpload(r, upload.Photos)
	res, err := a.cmds.UploadLicense.Handle(r.Context(), commands.UploadLicense{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], File: f})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, licenseUploaded{File: fileOf(res.File), Recognized: res.Recognized, Recognizer: res.Recognizer})
}

type idCardUploaded struct {
	File       fileJSON                `json:"file"`
	Recognized enterprise.IDCardFields `json:"recognized"`
	Recognizer string                  `json:"recognizer"`
}

func (a *api) uploadIDCard(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	person, side := enterprise.Person(v["person"]), enterprise.Side(v["side"])
	if person != enterprise.LegalRep && person != enterprise.Agent {
		web.WriteError(w, r, fault.New(fault.NotFound, "invalid_person", "The ID card is the legal representative's (legal_rep) or the agent's (agent)."))
		return
	}
	if side != enterprise.Portrait && side != enterprise.Emblem {
		web.WriteError(w, r, fault.New(fault.NotFound, "invalid_side", "An ID card side is portrait (人像面) or emblem (国徽面)."))
		return
	}
	f := readUpload(r, upload.Photos)
	res, err := a.cmds.UploadIDCard.Handle(r.Context(), commands.UploadIDCard{Actor: actor(r), EnterpriseID: v["id"], Person: person, Side: side, File: f})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	// The uploader sees the full recognised number once, to check it
	// against the card (the seed's screen shows it); read models mask it.
	written(w, http.StatusOK, res.Position, idCardUploaded{File: fileOf(res.File), Recognized: res.Recognized, Recognizer: res.Recognizer})
}

type materialsRequest struct {
	Name                     string `json:"name"`
	SoleProprietor           bool   `json:"sole_proprietor"`
	USCC                     string `json:"uscc"`
	LegalRepName             string `json:"legal_rep_name"`
	LegalRepIDNumber         string `json:"legal_rep_id_number"`
	Operator                 string `json:"operator"`
	AgentName                string `json:"agent_name"`
	AgentIDNumber            string `json:"agent_id_number"`
	AcceptPersonalDataPolicy bool   `json:"accept_personal_data_policy"`
	AcceptPhoneFollowup      bool   `json:"accept_phone_followup"`
}

type materialsResponse struct {
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (a *api) submitMaterials(w http.ResponseWriter, r *http.Request) {
	var req materialsRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.SubmitMaterials.Handle(r.Context(), commands.SubmitMaterials{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"],
		Materials: enterprise.Materials{Name: req.Name, SoleProprietor: req.SoleProprietor, USCC: req.USCC, LegalRepName: req.LegalRepName,
			LegalRepIDNumber: req.LegalRepIDNumber, Operator: enterprise.Person(req.Operator), AgentName: req.AgentName, AgentIDNumber: req.AgentIDNumber,
			AcceptPersonal: req.AcceptPersonalDataPolicy, AcceptFollowup: req.AcceptPhoneFollowup}})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, materialsResponse{Name: res.Name, ExpiresAt: res.ExpiresAt})
}

type methodRequest struct {
	Method string `json:"method"`
}

func (a *api) chooseMethod(w http.ResponseWriter, r *http.Request) {
	var req methodRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.ChooseMethod.Handle(r.Context(), commands.ChooseMethod{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], Method: enterprise.Method(req.Method)})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, req)
}

type phoneRequest struct {
	Phone string `json:"phone"`
}

type phoneCodeSent struct {
	Phone       string    `json:"phone"`
	ExpiresAt   time.Time `json:"expires_at"`
	ResendAfter time.Time `json:"resend_after"`
}

func (a *api) sendPhoneCode(w http.ResponseWriter, r *http.Request) {
	var req phoneRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.SendPhoneCode.Handle(r.Context(), commands.SendPhoneCode{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], Phone: req.Phone})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusAccepted, res.Position, phoneCodeSent{Phone: res.MaskedPhone, ExpiresAt: res.ExpiresAt, ResendAfter: res.ResendAfter})
}

type codeConfirm struct {
	Code string `json:"code"`
}

type verificationJSON struct {
	Verified bool   `json:"verified"`
	Step     string `json:"step"`
}

func (a *api) confirmPhoneCode(w http.ResponseWriter, r *http.Request) {
	var req codeConfirm
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.ConfirmPhoneCode.Handle(r.Context(), commands.ConfirmPhoneCode{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], Code: req.Code})
	a.verification(w, r, res, err)
}

func (a *api) verification(w http.ResponseWriter, r *http.Request, res commands.VerificationResult, err error) {
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, verificationJSON{Verified: res.Verified, Step: string(res.Step)})
}

type faceScanStarted struct {
	SessionID    string    `json:"session_id"`
	QRURL        string    `json:"qr_url"`
	ExpiresAt    time.Time `json:"expires_at"`
	AttemptsLeft int       `json:"attempts_left_today"`
}

func (a *api) startFaceScan(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.StartFaceScan.Handle(r.Context(), commands.StartFaceScan{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusCreated, res.Position, faceScanStarted{SessionID: res.SessionID, QRURL: res.QRURL, ExpiresAt: res.ExpiresAt, AttemptsLeft: res.AttemptsLeft})
}

func (a *api) downloadLetter(w http.ResponseWriter, r *http.Request) {
	res, err := a.cmds.DownloadLetter.Handle(r.Context(), commands.DownloadLetter{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	if res.Position > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(res.Position, 10))
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="authorization-letter-`+res.Reference+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(res.PDF)))
	w.Header().Set("ETag", `"`+res.File.SHA256+`"`)
	_, _ = w.Write(res.PDF)
}

type letterUploaded struct {
	File      fileJSON  `json:"file"`
	ReviewDue time.Time `json:"review_due"`
}

func (a *api) uploadLetter(w http.ResponseWriter, r *http.Request) {
	f := readUpload(r, upload.Letters)
	res, err := a.cmds.UploadLetter.Handle(r.Context(), commands.UploadLetter{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], File: f})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, letterUploaded{File: fileOf(res.File), ReviewDue: res.ReviewDue})
}

type reviewRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (a *api) reviewLetter(w http.ResponseWriter, r *http.Request) {
	var req reviewRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		web.WriteError(w, r, fault.Invalidf("decision", "invalid_decision", "The decision is approve or reject."))
		return
	}
	res, err := a.cmds.ReviewLetter.Handle(r.Context(), commands.ReviewLetter{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"],
		Approve: req.Decision == "approve", Reason: req.Reason})
	a.verification(w, r, res, err)
}

type depositRequest struct {
	Holder        string `json:"holder"`
	Bank          string `json:"bank"`
	Branch        string `json:"branch"`
	Province      string `json:"province"`
	City          string `json:"city"`
	AccountNumber string `json:"account_number"`
}

type depositRequested struct {
	TransferID string    `json:"transfer_id"`
	Deadline   time.Time `json:"deadline"`
	Message    string    `json:"message"`
}

func (a *api) requestMicroDeposit(w http.ResponseWriter, r *http.Request) {
	var req depositRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.RequestMicroDeposit.Handle(r.Context(), commands.RequestMicroDeposit{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"],
		Account: enterprise.BankAccount{Holder: req.Holder, Bank: req.Bank, Branch: req.Branch, Province: req.Province, City: req.City, AccountNumber: req.AccountNumber}})
	if err != nil {
		// A transfer the bank refused is recorded (requested, then failed).
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusCreated, res.Position, depositRequested{TransferID: res.TransferID, Deadline: res.Deadline,
		Message: "The platform is paying an amount between 0.01 and 0.99 CNY into the account; enter it before the deadline."})
}

type amountRequest struct {
	Amount string `json:"amount"`
}

func (a *api) confirmMicroDeposit(w http.ResponseWriter, r *http.Request) {
	var req amountRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.ConfirmMicroDeposit.Handle(r.Context(), commands.ConfirmMicroDeposit{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], Amount: req.Amount})
	a.verification(w, r, res, err)
}

type reverseRequest struct {
	AcknowledgePaymentTerms       bool `json:"acknowledge_payment_terms"`
	AcknowledgeMatchingConditions bool `json:"acknowledge_matching_conditions"`
}

type reverseRequested struct {
	Reference string                     `json:"reference"`
	Amount    string                     `json:"amount"`
	Currency  string                     `json:"currency"`
	PayerName string                     `json:"payer_name"`
	PayTo     enterprise.PlatformAccount `json:"pay_to"`
	NotBefore time.Time                  `json:"not_before"`
	Memo      string                     `json:"memo"`
}

func (a *api) requestReverseDeposit(w http.ResponseWriter, r *http.Request) {
	var req reverseRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.RequestReverseDeposit.Handle(r.Context(), commands.RequestReverseDeposit{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"],
		Acknowledged: map[string]bool{"payment_terms": req.AcknowledgePaymentTerms, "matching_conditions": req.AcknowledgeMatchingConditions}})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	q := res.Request
	written(w, http.StatusOK, res.Position, reverseRequested{Reference: q.Reference, Amount: bank.FormatFen(q.AmountFen), Currency: "CNY",
		PayerName: q.PayerName, PayTo: q.PayTo, NotBefore: q.NotBefore, Memo: "signet " + q.Reference})
}

type invitationRequest struct {
	Role string `json:"role"`
}

type invitationCreated struct {
	InvitationID string    `json:"invitation_id"`
	Token        string    `json:"token"`
	AcceptURL    string    `json:"accept_url"`
	ExpiresAt    time.Time `json:"expires_at"`
}

func (a *api) createInvitation(w http.ResponseWriter, r *http.Request) {
	var req invitationRequest
	if r.ContentLength != 0 {
		if err := web.DecodeJSON(w, r, &req); err != nil {
			web.WriteError(w, r, err)
			return
		}
	}
	res, err := a.cmds.CreateInvitation.Handle(r.Context(), commands.CreateInvitation{Actor: actor(r), EnterpriseID: mux.Vars(r)["id"], Role: enterprise.Role(req.Role)})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	written(w, http.StatusCreated, res.Position, invitationCreated{InvitationID: res.InvitationID, Token: res.Token,
		AcceptURL: "/api/v1/invitations/" + res.Token + "/accept", ExpiresAt: res.ExpiresAt})
}

type joined struct {
	EnterpriseID string `json:"enterprise_id"`
	Role         string `json:"role"`
}

func (a *api) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	res, err := a.cmds.AcceptInvitation.Handle(r.Context(), commands.AcceptInvitation{Actor: actor(r), Token: mux.Vars(r)["token"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, joined{EnterpriseID: res.EnterpriseID, Role: string(res.Role)})
}

type roleRequest struct {
	Role string `json:"role"`
}

func (a *api) changeMemberRole(w http.ResponseWriter, r *http.Request) {
	var req roleRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		web.WriteError(w, r, err)
		return
	}
	v := mux.Vars(r)
	res, err := a.cmds.ChangeMemberRole.Handle(r.Context(), commands.ChangeMemberRole{Actor: actor(r), EnterpriseID: v["id"], AccountID: v["account"], Role: enterprise.Role(req.Role)})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	written(w, http.StatusOK, res.Position, req)
}

func (a *api) removeMember(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	res, err := a.cmds.RemoveMember.Handle(r.Context(), commands.RemoveMember{Actor: actor(r), EnterpriseID: v["id"], AccountID: v["account"]})
	if err != nil {
		fail(w, r, res.Position, err)
		return
	}
	if res.Position > 0 {
		w.Header().Set(PositionHeader, strconv.FormatUint(res.Position, 10))
	}
	w.WriteHeader(http.StatusNoContent)
}

type callbackAnswer struct {
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason,omitempty"`
	EnterpriseID string `json:"enterprise_id,omitempty"`
}

// body reads a callback's body (the verifying middleware restored it).
func body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		web.WriteError(w, r, fault.Invalidf("body", "unreadable_body", "The request body could not be read."))
		return nil, false
	}
	return b, true
}

func (a *api) faceCallback(w http.ResponseWriter, r *http.Request) {
	b, ok := body(w, r)
	if !ok {
		return
	}
	res, err := face.ParseResult(b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	out, err := a.cmds.FaceCallback.Handle(r.Context(), commands.FaceCallback{Result: res, ClientIP: web.ClientIP(r)})
	if err != nil {
		fail(w, r, out.Position, err)
		return
	}
	written(w, http.StatusOK, out.Position, callbackAnswer{Outcome: out.Outcome})
}

func (a *api) transferCallback(w http.ResponseWriter, r *http.Request) {
	b, ok := body(w, r)
	if !ok {
		return
	}
	st, err := bank.ParseTransferStatus(b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	out, err := a.cmds.TransferStatus.Handle(r.Context(), commands.TransferStatusCallback{Status: st, ClientIP: web.ClientIP(r)})
	if err != nil {
		fail(w, r, out.Position, err)
		return
	}
	written(w, http.StatusOK, out.Position, callbackAnswer{Outcome: out.Outcome})
}

func (a *api) statementCallback(w http.ResponseWriter, r *http.Request) {
	b, ok := body(w, r)
	if !ok {
		return
	}
	line, err := bank.ParseStatementLine(b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	out, err := a.cmds.Statement.Handle(r.Context(), commands.StatementCallback{Line: line, ClientIP: web.ClientIP(r)})
	if err != nil {
		fail(w, r, out.Position, err)
		return
	}
	written(w, http.StatusOK, out.Position, callbackAnswer{Outcome: out.Outcome, Reason: out.Reason, EnterpriseID: out.EnterpriseID})
}
