// Package tsa is the platform's RFC 3161 timestamp authority. It answers
// DER time-stamp requests directly (Respond), over HTTP (ServeHTTP:
// application/timestamp-query in, application/timestamp-reply out), and to
// code in this process that only speaks HTTP, such as digitorus/pdfsign,
// through InMemory or Loopback.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
)

// DefaultPolicy is the TSA policy stamped on tokens when New gets none:
// an arc under IANA's enterprise number reserved for documentation
// (RFC 5612), fitting a demo platform without its own number.
var DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 3161, 1}

// Accuracy is the stated accuracy of the time in a token: tokens carry
// whole seconds.
const Accuracy = time.Second

// MaxRequestBytes bounds a request; real ones are under 200 bytes.
const MaxRequestBytes = 16 << 10

// Media types of RFC 3161 over HTTP.
const (
	QueryType = "application/timestamp-query"
	ReplyType = "application/timestamp-reply"
)

var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// TSA signs time-stamp tokens. It is safe for concurrent use.
type TSA struct {
	signer  crypto.Signer
	cert    *x509.Certificate
	parents []*x509.Certificate
	now     func() time.Time
	policy  asn1.ObjectIdentifier
}

// New returns a TSA signing with signer under cert. chain is cert's chain
// as pki returns it (cert first is allowed); it goes into tokens whose
// request asks for certificates. A nil now means time.Now, a nil policy
// DefaultPolicy.
func New(signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, now func() time.Time, policy asn1.ObjectIdentifier) (*TSA, error) {
	if signer == nil || cert == nil {
		return nil, errors.New("tsa: a signer and its certificate are required")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("tsa: the signer's key does not belong to the certificate")
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0 || !criticalEKU(cert) {
		return nil, errors.New("tsa: the certificate lacks the sole, critical timeStamping extended key usage RFC 3161 requires")
	}
	if len(chain) > 0 && chain[0].Equal(cert) {
		chain = chain[1:]
	}
	if now == nil {
		now = time.Now
	}
	if policy == nil {
		policy = DefaultPolicy
	}
	return &TSA{signer: signer, cert: cert, parents: chain, now: now, policy: policy}, nil
}

func criticalEKU(cert *x509.Certificate) bool {
	for _, e := range cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			return e.Critical
		}
	}
	return false
}

// Certificate is the TSA's signing certificate.
func (t *TSA) Certificate() *x509.Certificate { return t.cert }

// Respond answers a DER TimeStampReq with a DER TimeStampResp: a token, or
// a rejection whose status says why (bad format, unsupported hash,
// policy or extension). An error means the TSA itself failed.
func (t *TSA) Respond(reqDER []byte) ([]byte, error) {
	req, fail := parse(reqDER, t.policy)
	if req == nil {
		return timestamp.CreateErrorResponse(timestamp.Rejection, fail)
	}
	now := t.now().UTC()
	if now.Before(t.cert.NotBefore) || now.After(t.cert.NotAfter) {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.SystemFailure)
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              now.Truncate(time.Second),
		Accuracy:          Accuracy,
		Policy:            t.policy,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
		Certificates:      t.parents,
	}
	resp, err := ts.CreateResponseWithOpts(t.cert, t.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tsa: sign token: %w", err)
	}
	return resp, nil
}

// parse checks a request; a nil request is rejected for the FailureInfo
// (whose zero value, BadAlgorithm, is a reason too).
func parse(der []byte, policy asn1.ObjectIdentifier) (*timestamp.Request, timestamp.FailureInfo) {
	if len(der) == 0 || len(der) > MaxRequestBytes {
		return nil, timestamp.BadDataFormat
	}
	req, err := timestamp.ParseRequest(der)
	if err != nil {
		return nil, timestamp.BadDataFormat
	}
	switch req.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, timestamp.BadAlgorithm // SHA-1 and the like no longer prove anything
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return nil, timestamp.BadDataFormat
	}
	if req.TSAPolicyOID != nil && !req.TSAPolicyOID.Equal(policy) {
		return nil, timestamp.UnacceptedPolicy
	}
	if len(req.Extensions) > 0 {
		return nil, timestamp.UnacceptedExtension // RFC 3161 2.4.2: none is understood here
	}
	if req.Nonce != nil && (req.Nonce.Sign() < 0 || req.Nonce.BitLen() > 512) {
		return nil, timestamp.BadDataFormat
	}
	return req, timestamp.UnknownFailureInfo
}

// ServeHTTP implements RFC 3161 section 3.4: POST a DER request with
// Content-Type application/timestamp-query, get the DER response.
func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a time-stamp query", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != QueryType {
		http.Error(w, "Content-Type must be "+QueryType, http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	if len(body) > MaxRequestBytes {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := t.Respond(body)
	if err != nil {
		http.Error(w, "the timestamp authority failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ReplyType)
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	w.Write(resp)
}

// Loopback serves t on 127.0.0.1 on a free port until stop is called or
// ctx ends, for clients that need a real socket.
func (t *TSA) Loopback(ctx context.Context) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("tsa: loopback listener: %w", err)
	}
	srv := &http.Server{Handler: t, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	done := make(chan struct{})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return "http://" + ln.Addr().String() + "/", stop, nil
}

// scheme routes http.DefaultTransport requests to TSAs in this process:
// digitorus/pdfsign posts to its TSA URL with a fresh http.Client{}, so
// the default transport is the only place to plug in without a socket.
const scheme = "signet-tsa"

var (
	registerOnce sync.Once
	registerErr  error
	routes       sync.Map // host -> *TSA
	routeSeq     atomic.Uint64
)

// InMemory returns a URL that http.DefaultTransport answers with t, in
// memory, until stop is called.
func (t *TSA) InMemory() (url string, stop func(), err error) {
	registerOnce.Do(func() {
		tr, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			registerErr = fmt.Errorf("tsa: http.DefaultTransport is a %T, cannot route %s:// through it", http.DefaultTransport, scheme)
			return
		}
		tr.RegisterProtocol(scheme, router{})
	})
	if registerErr != nil {
		return "", nil, registerErr
	}
	host := "tsa" + strconv.FormatUint(routeSeq.Add(1), 10)
	routes.Store(host, t)
	return scheme + "://" + host + "/", func() { routes.Delete(host) }, nil
}

// router is the RoundTripper behind the signet-tsa scheme.
type router struct{}

func (router) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	v, ok := routes.Load(r.URL.Host)
	if !ok {
		return nil, fmt.Errorf("tsa: no timestamp authority at %s (stopped?)", r.URL)
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	v.(*TSA).ServeHTTP(rec, r)
	return &http.Response{
		Status:        strconv.Itoa(rec.code) + " " + http.StatusText(rec.code),
		StatusCode:    rec.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       r,
	}, nil
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.wrote = true
	return w.body.Write(p)
}
