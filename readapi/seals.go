package readapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"signet/domain/fault"
	"signet/infra/web"
	"signet/projections/accounts"
	"signet/projections/enterprises"
)

// SealReader reads enterprises' seals and approval policies and accounts'
// signature images; SealReaders implements it over the two read models.
type SealReader interface {
	Seals(ctx context.Context, eid string) ([]enterprises.SealView, error)
	ApprovalPolicy(ctx context.Context, eid string) (enterprises.ApprovalPolicyView, error)
	SignatureImages(ctx context.Context, accountID string) ([]accounts.SignatureImage, error)
}

// SealReaders is a SealReader over the enterprises and accounts read models.
type SealReaders struct {
	Enterprises enterprises.Reader
	Accounts    accounts.Reader
}

func (s SealReaders) Seals(ctx context.Context, eid string) ([]enterprises.SealView, error) {
	return s.Enterprises.Seals(ctx, eid)
}

func (s SealReaders) ApprovalPolicy(ctx context.Context, eid string) (enterprises.ApprovalPolicyView, error) {
	return s.Enterprises.ApprovalPolicy(ctx, eid)
}

func (s SealReaders) SignatureImages(ctx context.Context, accountID string) ([]accounts.SignatureImage, error) {
	return s.Accounts.SignatureImages(ctx, accountID)
}

var (
	errSealNotFound      = fault.New(fault.NotFound, "seal_not_found", "This enterprise has no such seal.")
	errSignatureNotFound = fault.New(fault.NotFound, "signature_not_found", "You have no such signature image.")
)

// sealItem is a seal as a member sees it.
type sealItem struct {
	enterprises.SealView
	MayUse   bool   `json:"may_use"` // the caller may sign with it
	ImageURL string `json:"image_url"`
}

// signatureItem is one of the caller's signature images.
type signatureItem struct {
	accounts.SignatureImage
	ImageURL string `json:"image_url"`
}

func (a *api) registerSeals(r *mux.Router) {
	authed := web.RequireAuth(a.Verify)
	h := func(path string, f http.HandlerFunc) {
		r.Handle(path, authed(f)).Methods(http.MethodGet)
	}
	if a.Enterprises != nil {
		h("/api/v1/enterprises/{id}/seals", a.seals)
		h("/api/v1/enterprises/{id}/approval-policy", a.approvalPolicy)
		if a.Files != nil {
			h("/api/v1/enterprises/{id}/seals/{seal}/image", a.sealImage)
		}
	}
	h("/api/v1/me/signatures", a.signatures)
	if a.Files != nil {
		h("/api/v1/me/signatures/{id}/image", a.signatureImage)
	}
}

// memberAccess loads the route's enterprise and the caller's role in it:
// 404 when there is no such enterprise, 403 when the caller has no role.
func (a *api) memberAccess(r *http.Request) (eid, role string, err error) {
	if err := a.catchUp(r, enterprises.Name); err != nil {
		return "", "", err
	}
	eid = mux.Vars(r)["id"]
	p, _ := web.Caller(r.Context())
	role, err = a.Enterprises.Access(r.Context(), eid, p.AccountID)
	if err != nil {
		return "", "", err
	}
	if role == "" {
		if _, err := a.Enterprises.Case(r.Context(), eid); err != nil {
			return "", "", err
		}
		return "", "", errNotMember
	}
	return eid, role, nil
}

func (a *api) seals(w http.ResponseWriter, r *http.Request) {
	eid, role, err := a.memberAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	seals, err := a.Seals.Seals(r.Context(), eid)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	p, _ := web.Caller(r.Context())
	out := make([]sealItem, 0, len(seals))
	for _, s := range seals {
		out = append(out, sealItem{SealView: s, MayUse: s.MayUse(p.AccountID, role),
			ImageURL: "/api/v1/enterprises/" + eid + "/seals/" + s.ID + "/image"})
	}
	answer(w, r, out, nil)
}

// sealImage serves a seal's image to the enterprise's members, disabled
// seals' too (they appear in signed contracts' history).
func (a *api) sealImage(w http.ResponseWriter, r *http.Request) {
	eid, _, err := a.memberAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	seals, err := a.Seals.Seals(r.Context(), eid)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	id := mux.Vars(r)["seal"]
	for _, s := range seals {
		if s.ID == id {
			a.serveImage(w, r, s.File.SHA256)
			return
		}
	}
	answer(w, r, nil, errSealNotFound)
}

func (a *api) approvalPolicy(w http.ResponseWriter, r *http.Request) {
	eid, _, err := a.memberAccess(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	p, err := a.Seals.ApprovalPolicy(r.Context(), eid)
	answer(w, r, p, err)
}

func (a *api) myImages(r *http.Request) ([]accounts.SignatureImage, error) {
	if err := a.catchUp(r, accounts.Name); err != nil {
		return nil, err
	}
	p, _ := web.Caller(r.Context())
	return a.Seals.SignatureImages(r.Context(), p.AccountID)
}

func (a *api) signatures(w http.ResponseWriter, r *http.Request) {
	imgs, err := a.myImages(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	out := make([]signatureItem, 0, len(imgs))
	for _, s := range imgs {
		out = append(out, signatureItem{SignatureImage: s, ImageURL: "/api/v1/me/signatures/" + s.ID + "/image"})
	}
	answer(w, r, out, nil)
}

// signatureImage serves one of the caller's own signature images; nobody
// else's.
func (a *api) signatureImage(w http.ResponseWriter, r *http.Request) {
	imgs, err := a.myImages(r)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	id := mux.Vars(r)["id"]
	for _, s := range imgs {
		if s.ID == id {
			a.serveImage(w, r, s.SHA256)
			return
		}
	}
	answer(w, r, nil, errSignatureNotFound)
}

// serveImage answers a stored image with its media type. The browser is
// told not to guess another type, and an SVG (a drawn default seal) may
// neither run scripts nor load anything.
func (a *api) serveImage(w http.ResponseWriter, r *http.Request, sha string) {
	data, ref, err := a.Files.Get(r.Context(), sha)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ref.MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Disposition", "inline")
	h.Set("ETag", `"`+ref.SHA256+`"`)
	if strings.HasPrefix(ref.MediaType, "image/svg+xml") {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	// ServeContent answers If-None-Match with 304 against the ETag.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
