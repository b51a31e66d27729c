package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"signet/infra/pki"
)

var t0 = time.Date(2026, 11, 3, 9, 30, 15, 123456789, time.UTC)

type fixture struct {
	ca  *pki.Authority
	tsa *TSA
}

func setup(t testing.TB) fixture {
	t.Helper()
	ca, err := pki.Open(t.TempDir(), []byte("tsa test secret"), func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	key, chain, _, err := ca.TimestampSigner(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(key, chain[0], chain, func() time.Time { return t0 }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{ca, a}
}

func request(t testing.TB, data string, opts *timestamp.RequestOptions) []byte {
	t.Helper()
	req, err := timestamp.CreateRequest(strings.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRespondGrantsAVerifiableToken(t *testing.T) {
	fx := setup(t)
	nonce := new(big.Int).Lsh(big.NewInt(12345), 70)
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		t.Run(h.String(), func(t *testing.T) {
			req := request(t, "signature value", &timestamp.RequestOptions{Hash: h, Certificates: true, Nonce: nonce})
			resp, err := fx.tsa.Respond(req)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := timestamp.ParseResponse(resp) // also checks the token's signature
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			digest := h.New()
			digest.Write([]byte("signature value"))
			switch {
			case ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, digest.Sum(nil)):
				t.Fatalf("token imprint %v %x", ts.HashAlgorithm, ts.HashedMessage)
			case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
				t.Fatalf("nonce %v, want %v", ts.Nonce, nonce)
			case !ts.Time.Equal(t0.Truncate(time.Second)):
				t.Fatalf("time %v, want %v", ts.Time, t0.Truncate(time.Second))
			case ts.Accuracy != Accuracy:
				t.Fatalf("accuracy %v", ts.Accuracy)
			case !ts.Policy.Equal(DefaultPolicy):
				t.Fatalf("policy %v", ts.Policy)
			case ts.SerialNumber == nil || ts.SerialNumber.Sign() <= 0:
				t.Fatalf("serial %v", ts.SerialNumber)
			case !ts.AddTSACertificate || len(ts.Certificates) != 2:
				t.Fatalf("token carries %d certificates, want the TSA's and the root", len(ts.Certificates))
			}
			checkChain(t, fx, ts)
		})
	}
}

// checkChain verifies the token's signer certificate up to the CA root.
func checkChain(t *testing.T, fx fixture, ts *timestamp.Timestamp) {
	t.Helper()
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		t.Fatal(err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil || !signer.Equal(fx.tsa.Certificate()) {
		t.Fatal("the token is not signed by the TSA certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(fx.ca.Root())
	if _, err := signer.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: ts.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatalf("TSA certificate does not chain to the root: %v", err)
	}
	if err := p7.VerifyWithChainAtTime(roots, ts.Time); err != nil {
		t.Fatalf("token signature: %v", err)
	}
}

func TestRespondWithoutCertificates(t *testing.T) {
	fx := setup(t)
	resp, err := fx.tsa.Respond(request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA256}))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Certificates) != 0 {
		t.Fatalf("%d certificates in a token whose request did not ask for them", len(ts.Certificates))
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		t.Fatal(err)
	}
	p7.Certificates = []*x509.Certificate{fx.tsa.Certificate()}
	if err := p7.Verify(); err != nil {
		t.Fatalf("token signature with the TSA certificate supplied: %v", err)
	}
}

func TestRespondRejects(t *testing.T) {
	fx := setup(t)
	good := request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA256})
	parsed, err := timestamp.ParseRequest(good)
	if err != nil {
		t.Fatal(err)
	}
	marshal := func(mod func(r *timestamp.Request)) []byte {
		r := *parsed
		mod(&r)
		der, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	for _, c := range []struct {
		name string
		req  []byte
		want timestamp.FailureInfo
	}{
		{"empty", nil, timestamp.BadDataFormat},
		{"garbage", []byte("not DER"), timestamp.BadDataFormat},
		{"trailing data", append(append([]byte{}, good...), 0), timestamp.BadDataFormat},
		{"huge", bytes.Repeat([]byte{0x30}, MaxRequestBytes+1), timestamp.BadDataFormat},
		{"sha1", request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA1}), timestamp.BadAlgorithm},
		{"short digest", marshal(func(r *timestamp.Request) { r.HashedMessage = r.HashedMessage[:16] }), timestamp.BadDataFormat},
		{"foreign policy", marshal(func(r *timestamp.Request) { r.TSAPolicyOID = asn1.ObjectIdentifier{1, 2, 3} }), timestamp.UnacceptedPolicy},
		{"extension", marshal(func(r *timestamp.Request) {
			r.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}}}
		}), timestamp.UnacceptedExtension},
		{"negative nonce", marshal(func(r *timestamp.Request) { r.Nonce = big.NewInt(-5) }), timestamp.BadDataFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := fx.tsa.Respond(c.req)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			_, err = timestamp.ParseResponse(resp)
			if err == nil || !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), c.want.String()) {
				t.Fatalf("response: %v, want a rejection for %q", err, c.want)
			}
		})
	}
	// Our own policy, asked for by name, is accepted.
	own := marshal(func(r *timestamp.Request) { r.TSAPolicyOID = DefaultPolicy })
	if resp, err := fx.tsa.Respond(own); err != nil {
		t.Fatal(err)
	} else if _, err := timestamp.ParseResponse(resp); err != nil {
		t.Fatalf("request naming the TSA's policy: %v", err)
	}
}

func TestRespondOutsideCertificateValidity(t *testing.T) {
	fx := setup(t)
	late := *fx.tsa
	late.now = func() time.Time { return fx.tsa.cert.NotAfter.Add(time.Hour) }
	resp, err := late.Respond(request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA256}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := timestamp.ParseResponse(resp); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("token after the TSA certificate expired: %v", err)
	}
}

func TestNewRefusesAnUnfitCertificate(t *testing.T) {
	fx := setup(t)
	ctx := context.Background()
	key, chain, _, err := fx.ca.PlatformSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(key, chain[0], chain, nil, nil); err == nil || !strings.Contains(err.Error(), "timeStamping") {
		t.Fatalf("platform certificate as TSA: %v", err)
	}
	if _, err := New(key, fx.tsa.Certificate(), nil, nil, nil); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("mismatched key: %v", err)
	}
}

func TestHTTP(t *testing.T) {
	fx := setup(t)
	srv := httptest.NewServer(fx.tsa)
	defer srv.Close()
	req := request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})

	res, err := http.Post(srv.URL, QueryType, bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != ReplyType {
		t.Fatalf("POST: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if _, err := timestamp.ParseResponse(body); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, ct string
		body       []byte
		want       int
	}{
		{http.MethodGet, "", nil, http.StatusMethodNotAllowed},
		{http.MethodPost, "application/octet-stream", req, http.StatusUnsupportedMediaType},
		{http.MethodPost, QueryType, make([]byte, MaxRequestBytes+1), http.StatusRequestEntityTooLarge},
	} {
		r, _ := http.NewRequest(c.method, srv.URL, bytes.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.ct, res.StatusCode, c.want)
		}
	}
}

// post sends req to url as pdfsign does: a fresh client on the default transport.
func post(url string, req []byte) (*timestamp.Timestamp, error) {
	res, err := (&http.Client{}).Post(url, QueryType, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return timestamp.ParseResponse(body)
}

func TestLoopbackAndInMemory(t *testing.T) {
	fx := setup(t)
	req := request(t, "x", &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})

	ctx, cancel := context.WithCancel(context.Background())
	url, stop, err := fx.tsa.Loopback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("loopback URL %s", url)
	}
	if _, err := post(url, req); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	cancel() // ending the context stops the server too
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := post(url, req)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("loopback still answers after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop() // idempotent

	mem, stopMem, err := fx.tsa.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := post(mem, req)
	if err != nil {
		t.Fatalf("in memory: %v", err)
	}
	if ts.HashedMessage == nil {
		t.Fatal("no token")
	}
	stopMem()
	if _, err := post(mem, req); err == nil || !strings.Contains(err.Error(), "no timestamp authority") {
		t.Fatalf("after stop: %v", err)
	}
}

func FuzzRespond(f *testing.F) {
	fx := setup(f)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
		f.Add(request(f, "seed", &timestamp.RequestOptions{Hash: h, Certificates: true, Nonce: big.NewInt(42)}))
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, err := fx.tsa.Respond(req)
		if err != nil {
			t.Fatalf("Respond failed on outside input: %v", err)
		}
		ts, err := timestamp.ParseResponse(resp)
		if err != nil {
			if !strings.Contains(err.Error(), "rejected") {
				t.Fatalf("response neither a token nor a rejection: %v", err)
			}
			return
		}
		in, err := timestamp.ParseRequest(req)
		if err != nil {
			t.Fatalf("granted a request that does not parse: %v", err)
		}
		if !bytes.Equal(ts.HashedMessage, in.HashedMessage) || ts.HashAlgorithm != in.HashAlgorithm {
			t.Fatal("token imprint differs from the request's")
		}
		if d := sha256.Size; in.HashAlgorithm == crypto.SHA256 && len(ts.HashedMessage) != d {
			t.Fatalf("granted a %d-byte SHA-256 digest", len(ts.HashedMessage))
		}
	})
}
