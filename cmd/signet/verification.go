package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/fault"
	"signet/domain/identity"
	"signet/infra/bank"
	"signet/infra/callback"
	"signet/infra/carrier"
	"signet/infra/codes"
	"signet/infra/face"
	"signet/infra/letter"
	"signet/infra/ocr"
	"signet/infra/registry"
	"signet/infra/web"
)

// platformName is printed on authorization letters.
const platformName = "signet"

// providers are the dev adapters of the outside providers; real ones would
// replace them behind the same ports.
type providers struct {
	carrier    *carrier.Dev
	registry   *registry.Dev
	face       *face.Dev
	bank       *bank.Dev
	faceSecret []byte
	bankSecret []byte
}

// derive makes a named secret from the deployment's one key.
func derive(key []byte, name string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("signet " + name))
	return m.Sum(nil)
}

func (a *app) verificationDeps(key []byte) (commands.VerificationDeps, error) {
	for name, v := range map[string]string{"SIGNET_FACE_CALLBACK_SECRET": a.cfg.FaceSecret, "SIGNET_BANK_CALLBACK_SECRET": a.cfg.BankSecret} {
		if v != "" && len(v) < 32 {
			return commands.VerificationDeps{}, fmt.Errorf("%s must be at least 32 bytes (it has %d): callbacks are only as strong as their secret", name, len(v))
		}
	}
	a.providers = &providers{
		carrier:    carrier.NewDev(a.clock),
		registry:   registry.NewDev(a.clock),
		face:       face.NewDev(a.clock),
		bank:       bank.NewDev(a.clock),
		faceSecret: secretOr(a.cfg.FaceSecret, derive(key, "face callbacks")),
		bankSecret: secretOr(a.cfg.BankSecret, derive(key, "bank callbacks")),
	}
	p := bank.DemoPlatformAccount
	return commands.VerificationDeps{
		Blobs:           a.blobs,
		Recognizer:      ocr.Detect(a.log),
		Carrier:         a.providers.carrier,
		Registry:        a.providers.registry,
		Face:            a.providers.face,
		Bank:            a.providers.bank,
		FaceCounter:     codes.NewDailyCount(a.redis, "face-scans", derive(key, "face scan counts")),
		DepositCounter:  codes.NewDailyCount(a.redis, "deposits", derive(key, "deposit counts")),
		FaceCallbackURL: a.publicURL() + "/api/v1/callbacks/face",
		PlatformAccount: enterprise.PlatformAccount{Holder: p.Holder, Bank: p.Bank, Branch: p.Branch, AccountNumber: p.Account, BankCode: p.BranchCode},
		RenderLetter:    letter.Render,
		PlatformName:    platformName,
	}, nil
}

// publicURL is how providers reach this server; without configuration, the
// address it listens on.
func (a *app) publicURL() string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	addr := a.cfg.Addr
	if addr == "" || strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	return "http://" + addr
}

func secretOr(configured string, derived []byte) []byte {
	if configured != "" {
		return []byte(configured)
	}
	return derived
}

func (a *app) callbackVerifier(secret []byte) func(http.Handler) http.Handler {
	return callback.Middleware(callback.Verifier{Secret: secret, Replays: callback.RedisReplays{DB: a.redis}, Clock: a.clock})
}

// devProviderRoutes let a test (or a developer with curl) play the
// providers: see what they were asked, and send their signed callbacks.
func (a *app) devProviderRoutes(r *mux.Router) {
	r.HandleFunc("/dev/carrier/checks", func(w http.ResponseWriter, req *http.Request) {
		type check struct {
			Name     string    `json:"name"`
			IDNumber string    `json:"id_number"`
			Phone    string    `json:"phone"`
			Match    bool      `json:"match"`
			Reason   string    `json:"reason,omitempty"`
			At       time.Time `json:"at"`
		}
		out := []check{}
		for _, c := range a.providers.carrier.Checks() {
			out = append(out, check{c.Name, identity.MaskIDNumber(c.IDNumber), identity.MaskPhone(c.Phone), c.Result.Match, c.Result.Reason, c.At})
		}
		web.WriteJSON(w, http.StatusOK, out)
	}).Methods(http.MethodGet)
	r.HandleFunc("/dev/registry/checks", func(w http.ResponseWriter, req *http.Request) {
		web.WriteJSON(w, http.StatusOK, a.providers.registry.Checks())
	}).Methods(http.MethodGet)
	r.HandleFunc("/dev/face/sessions", func(w http.ResponseWriter, req *http.Request) {
		type session struct {
			ID        string    `json:"id"`
			QRURL     string    `json:"qr_url"`
			ExpiresAt time.Time `json:"expires_at"`
			Name      string    `json:"name"`
			IDNumber  string    `json:"id_number"`
		}
		out := []session{}
		for _, s := range a.providers.face.Sessions() {
			out = append(out, session{s.Session.ID, s.Session.QRURL, s.Session.ExpiresAt, s.Request.Name, identity.MaskIDNumber(s.Request.IDNumber)})
		}
		web.WriteJSON(w, http.StatusOK, out)
	}).Methods(http.MethodGet)
	r.HandleFunc("/dev/face/sessions/{id}/result", func(w http.ResponseWriter, req *http.Request) {
		var in struct {
			Passed bool    `json:"passed"`
			Score  float64 `json:"score"`
			Reason string  `json:"reason"`
		}
		if err := web.DecodeJSON(w, req, &in); err != nil {
			web.WriteError(w, req, err)
			return
		}
		id := mux.Vars(req)["id"]
		if _, ok := a.providers.face.Session(id); !ok {
			web.WriteError(w, req, fault.New(fault.NotFound, "face_session_not_found", "The dev face provider has no such session."))
			return
		}
		body, _ := json.Marshal(face.Result{SessionID: id, Passed: in.Passed, Score: in.Score, Reason: in.Reason, CompletedAt: a.clock.Now().UTC()})
		a.deliver(w, req, "/api/v1/callbacks/face", body, a.providers.faceSecret)
	}).Methods(http.MethodPost)
	r.HandleFunc("/dev/bank/transfers", func(w http.ResponseWriter, req *http.Request) {
		web.WriteJSON(w, http.StatusOK, a.providers.bank.Transfers())
	}).Methods(http.MethodGet)
	r.HandleFunc("/dev/bank/transfers/{id}/fail", func(w http.ResponseWriter, req *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := web.DecodeJSON(w, req, &in); err != nil {
			web.WriteError(w, req, err)
			return
		}
		id := mux.Vars(req)["id"]
		if _, ok := a.providers.bank.Transfer(id); !ok {
			web.WriteError(w, req, fault.New(fault.NotFound, "transfer_not_found", "The dev bank has no such transfer."))
			return
		}
		body, _ := json.Marshal(bank.TransferStatus{TransferID: id, Status: "failed", Reason: in.Reason, At: a.clock.Now().UTC()})
		a.deliver(w, req, "/api/v1/callbacks/bank/transfers", body, a.providers.bankSecret)
	}).Methods(http.MethodPost)
	r.HandleFunc("/dev/bank/statements", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 64<<10))
		if err != nil {
			web.WriteError(w, req, fault.Invalidf("body", "unreadable_body", "The request body could not be read."))
			return
		}
		if _, err := bank.ParseStatementLine(body); err != nil {
			web.WriteError(w, req, err)
			return
		}
		a.deliver(w, req, "/api/v1/callbacks/bank/statements", body, a.providers.bankSecret)
	}).Methods(http.MethodPost)
}

// deliver signs body as the provider would and hands it to this process's
// own callback route, answering with the callback's answer.
func (a *app) deliver(w http.ResponseWriter, req *http.Request, path string, body []byte, secret []byte) {
	cb := httptest.NewRequestWithContext(req.Context(), http.MethodPost, path, bytes.NewReader(body))
	cb.Header.Set("Content-Type", "application/json")
	cb.RemoteAddr = req.RemoteAddr
	callback.SignRequest(cb, secret, a.clock.Now(), body)
	a.router.ServeHTTP(w, cb)
}
