package sealing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/pdfsign/verify"
	"github.com/digitorus/timestamp"

	"signet/domain/layout"
	"signet/infra/artwork"
	"signet/infra/pki"
	"signet/infra/tsa"
)

var (
	artOnce sync.Once
	art     *artwork.Artwork
	artErr  error
)

// drawing is the PNG-drawing Artwork; CI installs fonts-wqy-zenhei, so a
// missing font is a broken environment and fails.
func drawing(t testing.TB) *artwork.Artwork {
	t.Helper()
	artOnce.Do(func() {
		path := artwork.FindFont()
		if path == "" {
			artErr = errors.New("no CJK font: apt-get install fonts-wqy-zenhei")
			return
		}
		art, artErr = artwork.New(path)
	})
	if artErr != nil {
		t.Fatal(artErr)
	}
	return art
}

type fixture struct {
	dir    string
	ca     *pki.Authority
	sealer *Sealer
}

func setup(t testing.TB) fixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.Open(filepath.Join(dir, "pki"), []byte("sealing test secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, chain, _, err := ca.TimestampSigner(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	authority, err := tsa.New(key, chain[0], chain, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{dir: dir, ca: ca, sealer: New(ca, authority, drawing(t), nil)}
}

// textPDF writes a PDF 1.4 with one line of Helvetica text per page;
// rotate turns every page.
func textPDF(lines []string, rotate int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	n := len(lines)
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595.28 841.89] >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i, line := range lines {
		rot := ""
		if rotate != 0 {
			rot = fmt.Sprintf(" /Rotate %d", rotate)
		}
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R%s >>", 5+2*i, rot))
		// An unbalanced "q" and a scale left in force: stamps must not inherit them.
		content := fmt.Sprintf("q 2 0 0 2 0 0 cm BT /F1 10 Tf 36 380 Td (%s) Tj ET", line)
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

var (
	signedAt = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	acme     = Party{PartyID: "p-acme", SubjectID: "enterprise-11111111-1111-4111-8111-111111111111", Kind: pki.Enterprise,
		Name: "杭州示例科技有限公司", Organization: "杭州示例科技有限公司", SerialNumber: "9133****0001X",
		SignedAt: signedAt, Location: "杭州"}
	zhang = Party{PartyID: "p-zhang", SubjectID: "account-22222222-2222-4222-8222-222222222222", Kind: pki.Person,
		Name: "张三", SerialNumber: "3301**********0016", SignedAt: signedAt.Add(time.Hour)}
)

// contract is a two-page, two-party contract: the enterprise's seal and the
// person's signature and date on page 2, a Chinese business value on page 1.
func contract(t testing.TB) Request {
	t.Helper()
	a := drawing(t)
	seal, mt, err := a.Seal(acme.Name)
	if err != nil || mt != artwork.PNG {
		t.Fatalf("seal: %v %s", err, mt)
	}
	sig, mt, err := a.TypedSignature(zhang.Name)
	if err != nil || mt != artwork.PNG {
		t.Fatalf("signature: %v %s", err, mt)
	}
	doc := Document{ID: "doc-1", Name: "采购合同.pdf", PDF: textPDF([]string{"Purchase agreement page one", "Purchase agreement page two"}, 0)}
	return Request{
		ContractID: "contract-33333333-3333-4333-8333-333333333333", Number: "HT2026110300001", Title: "采购合同",
		Documents: []Document{doc},
		Stamps: []Stamp{
			{DocumentID: "doc-1", Page: 2, Rect: layout.Rect{X: 360, Y: 120, W: 140, H: 140}, Image: seal, MediaType: artwork.PNG},
			{DocumentID: "doc-1", Page: 2, Rect: layout.Rect{X: 80, Y: 140, W: 160, H: 50}, Image: sig, MediaType: artwork.PNG},
			{DocumentID: "doc-1", Page: 2, Rect: layout.Rect{X: 80, Y: 110, W: 110, H: 18}, Text: "2026-11-03"},
			{DocumentID: "doc-1", Page: 1, Rect: layout.Rect{X: 100, Y: 600, W: 160, H: 24}, Text: "合同金额：壹万元整"},
		},
		Parties: []Party{acme, zhang},
	}
}

// pdfsigTool finds pdfsig and certutil: CI installs poppler-utils and
// libnss3-tools, so their absence fails the test.
func pdfsigTool(t testing.TB) {
	t.Helper()
	for tool, pkg := range map[string]string{"pdfsig": "poppler-utils", "certutil": "libnss3-tools", "pdftotext": "poppler-utils"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: apt-get install %s (the CI script installs it)", tool, pkg)
		}
	}
}

// nssDB makes an NSS database that trusts the CA root.
func nssDB(t testing.TB, fx fixture) string {
	t.Helper()
	db := filepath.Join(fx.dir, "nss")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(fx.dir, "ca.pem")
	if err := os.WriteFile(ca, fx.ca.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "--empty-password", "-d", "sql:" + db},
		{"-A", "-n", "signet", "-t", "CT,C,C", "-i", ca, "-d", "sql:" + db},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return db
}

type sigReport struct {
	fields map[string]string
	lines  []string
}

// pdfsig runs pdfsig on pdf and splits its report by signature.
func pdfsig(t testing.TB, db string, pdf []byte) (head string, sigs []sigReport) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfsig", "-nssdir", "sql:"+db, path).CombinedOutput()
	if err != nil {
		t.Logf("pdfsig exit: %v", err) // non-zero for invalid signatures; the report says why
	}
	t.Logf("pdfsig:\n%s", out)
	start := regexp.MustCompile(`^Signature #(\d+):$`)
	for _, line := range strings.Split(string(out), "\n") {
		if start.MatchString(line) {
			sigs = append(sigs, sigReport{fields: map[string]string{}})
			continue
		}
		if len(sigs) == 0 {
			head += line + "\n"
			continue
		}
		s := &sigs[len(sigs)-1]
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if line == "" {
			continue
		}
		s.lines = append(s.lines, line)
		if k, v, ok := strings.Cut(line, ":"); ok {
			s.fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return head, sigs
}

func TestSealTwoPartiesPdfsigValidates(t *testing.T) {
	pdfsigTool(t)
	fx := setup(t)
	req := contract(t)
	res, err := fx.sealer.Seal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Documents) != 1 || len(res.Timestamps) != 2 || len(res.Issued) != 2 {
		t.Fatalf("%d documents, %d timestamps, %d certificates issued", len(res.Documents), len(res.Timestamps), len(res.Issued))
	}
	doc := res.Documents[0]
	sum := sha256.Sum256(doc.PDF)
	if doc.ID != "doc-1" || doc.Signatures != 2 || doc.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("document %s, %d signatures, sha %s", doc.ID, doc.Signatures, doc.SHA256)
	}
	if os.Getenv("SIGNET_KEEP_SEALED") != "" {
		os.WriteFile(os.Getenv("SIGNET_KEEP_SEALED"), doc.PDF, 0o644)
	}

	db := nssDB(t, fx)
	_, sigs := pdfsig(t, db, doc.PDF)
	if len(sigs) != 2 {
		t.Fatalf("pdfsig found %d signatures, want 2", len(sigs))
	}
	size := len(doc.PDF)
	prevEnd := 0
	for i, s := range sigs {
		p := req.Parties[i]
		want := map[string]string{
			"Signer Certificate Common Name": p.Name,
			"Signature Validation":           "Signature is Valid.",
			"Certificate Validation":         "Certificate is Trusted.",
			"Signing Hash Algorithm":         "SHA-256",
			"Signature Type":                 "adbe.pkcs7.detached",
		}
		for k, v := range want {
			if s.fields[k] != v {
				t.Errorf("signature %d: %q is %q, want %q", i+1, k, s.fields[k], v)
			}
		}
		if !strings.Contains(s.fields["Signer full Distinguished Name"], "CN="+p.Name) {
			t.Errorf("signature %d: DN %q", i+1, s.fields["Signer full Distinguished Name"])
		}
		// Signed ranges: [0 - a], [b - c]; each signature covers its revision.
		m := regexp.MustCompile(`^\[(\d+) - (\d+)\], \[(\d+) - (\d+)\]$`).FindStringSubmatch(s.fields["Signed Ranges"])
		if m == nil {
			t.Fatalf("signature %d: signed ranges %q", i+1, s.fields["Signed Ranges"])
		}
		end, _ := strconv.Atoi(m[4])
		if m[1] != "0" || end <= prevEnd {
			t.Errorf("signature %d: ranges %q after a revision ending at %d", i+1, s.fields["Signed Ranges"], prevEnd)
		}
		prevEnd = end
		last := i == len(sigs)-1
		covers := slicesContain(s.lines, "Total document signed")
		if last != covers {
			t.Errorf("signature %d: \"Total document signed\" shown %v, want %v (ranges end %d of %d bytes)", i+1, covers, last, end, size)
		}
		if last && end != size {
			t.Errorf("last signature ends at %d of %d bytes", end, size)
		}
	}

	// pdftotext still finds the document's text on both pages.
	path := filepath.Join(t.TempDir(), "signed.pdf")
	os.WriteFile(path, doc.PDF, 0o600)
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"Purchase agreement page one", "Purchase agreement page two"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pdftotext lost %q:\n%s", want, out)
		}
	}

	checkGoVerify(t, fx, doc.PDF, req)
	checkTimestamps(t, fx, res.Timestamps)
}

func slicesContain(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// checkGoVerify checks the signatures with digitorus/pdfsign/verify and the
// certificates against the CA root.
func checkGoVerify(t *testing.T, fx fixture, pdf []byte, req Request) {
	t.Helper()
	opts := verify.DefaultVerifyOptions()
	opts.AllowUntrustedRoots = true // the root is checked below, against our CA
	resp, err := verify.VerifyWithOptions(bytes.NewReader(pdf), int64(len(pdf)), opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if resp.Error != "" {
		t.Fatalf("verify: %s", resp.Error)
	}
	if len(resp.Signers) != 2 {
		t.Fatalf("verify found %d signers", len(resp.Signers))
	}
	roots := x509.NewCertPool()
	roots.AddCert(fx.ca.Root())
	for i, s := range resp.Signers {
		if !s.ValidSignature {
			t.Errorf("signer %d: signature not valid", i+1)
		}
		if s.TimeStamp == nil || s.TimestampStatus != "valid" || !s.TimestampTrusted || s.TimeSource != "embedded_timestamp" {
			t.Errorf("signer %d: timestamp %v status %q trusted %v source %q %v", i+1, s.TimeStamp != nil, s.TimestampStatus, s.TimestampTrusted, s.TimeSource, s.TimeWarnings)
		}
		if !strings.Contains(s.Reason, req.Number) || !strings.Contains(s.Reason, req.Parties[i].SignedAt.In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05")) {
			t.Errorf("signer %d: reason %q", i+1, s.Reason)
		}
		if s.Name != req.Parties[i].Name {
			t.Errorf("signer %d: name %q", i+1, s.Name)
		}
		if len(s.Certificates) == 0 {
			t.Fatalf("signer %d: no certificates", i+1)
		}
		leaf := s.Certificates[0]
		if !leaf.KeyUsageValid || !leaf.ExtKeyUsageValid {
			t.Errorf("signer %d: key usage %v (%s), extended %v (%s)", i+1, leaf.KeyUsageValid, leaf.KeyUsageError, leaf.ExtKeyUsageValid, leaf.ExtKeyUsageError)
		}
		if _, err := leaf.Certificate.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: s.TimeStamp.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
			t.Errorf("signer %d: certificate does not chain to the CA: %v", i+1, err)
		}
	}
}

// checkTimestamps checks the returned tokens chain to the CA root.
func checkTimestamps(t *testing.T, fx fixture, tokens [][]byte) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(fx.ca.Root())
	for i, tok := range tokens {
		ts, err := timestamp.Parse(tok)
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if time.Since(ts.Time) > time.Minute || ts.HashAlgorithm.Size() != len(ts.HashedMessage) {
			t.Errorf("token %d: time %v, imprint %x", i, ts.Time, ts.HashedMessage)
		}
		var tsaCert *x509.Certificate
		for _, c := range ts.Certificates {
			if len(c.ExtKeyUsage) == 1 && c.ExtKeyUsage[0] == x509.ExtKeyUsageTimeStamping {
				tsaCert = c
			}
		}
		if tsaCert == nil {
			t.Fatalf("token %d carries no TSA certificate", i)
		}
		if _, err := tsaCert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: ts.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			t.Errorf("token %d: TSA certificate: %v", i, err)
		}
	}
}

func TestTamperingIsDetected(t *testing.T) {
	pdfsigTool(t)
	fx := setup(t)
	res, err := fx.sealer.Seal(context.Background(), contract(t))
	if err != nil {
		t.Fatal(err)
	}
	pdf := res.Documents[0].PDF
	db := nssDB(t, fx)
	_, sigs := pdfsig(t, db, pdf)
	firstEnd := 0
	if m := regexp.MustCompile(`\[(\d+) - (\d+)\]$`).FindStringSubmatch(sigs[0].fields["Signed Ranges"]); m != nil {
		firstEnd, _ = strconv.Atoi(m[2])
	}
	if firstEnd == 0 {
		t.Fatalf("no ranges for signature 1: %q", sigs[0].fields["Signed Ranges"])
	}
	// The pdfsign marker in the second revision's signature dictionary lies
	// only in the second signature's range.
	second := bytes.Index(pdf[firstEnd:], []byte("Digitorus"))
	if second < 0 {
		t.Fatal("no second revision marker")
	}
	for _, c := range []struct {
		name   string
		offset int
		valid  []bool
	}{
		{"first revision", bytes.IndexByte(pdf, '\n') + 2, []bool{false, false}}, // the binary comment byte
		{"second revision", firstEnd + second, []bool{true, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Clone(pdf)
			bad[c.offset] ^= 0x20
			_, sigs := pdfsig(t, db, bad)
			if len(sigs) != 2 {
				t.Fatalf("pdfsig found %d signatures", len(sigs))
			}
			for i, s := range sigs {
				got := s.fields["Signature Validation"]
				if c.valid[i] != (got == "Signature is Valid.") || got == "" {
					t.Errorf("signature %d: %q, want valid=%v", i+1, got, c.valid[i])
				}
			}
		})
	}
}

// solid is a w×h PNG of one opaque colour.
func solid(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []byte{0xC0, 0x10, 0x10, 0xFF})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// render draws a page at 72 dpi: one pixel per point.
func render(t testing.TB, pdf []byte, page int) *image.Gray {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdf, 0o600)
	if out, err := exec.Command("pdftoppm", "-r", "72", "-gray", "-png", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

func TestStampPlacementOnTurnedPages(t *testing.T) {
	pdfsigTool(t)
	a := drawing(t)
	img := solid(t, 40, 20) // 2:1, placed in a square: full width, centred vertically
	rect := layout.Rect{X: 120, Y: 200, W: 100, H: 100}
	for _, rot := range []int{0, 90, 180, 270} {
		t.Run(strconv.Itoa(rot), func(t *testing.T) {
			orig := textPDF([]string{"Placement"}, rot)
			out, err := stamp(orig, []Stamp{{DocumentID: "d", Page: 1, Rect: rect, Image: img, MediaType: "image/png"}}, a)
			if err != nil {
				t.Fatal(err)
			}
			before, after := render(t, orig, 1), render(t, out, 1)
			if before.Bounds() != after.Bounds() {
				t.Fatalf("page size changed: %v to %v", before.Bounds(), after.Bounds())
			}
			var diff image.Rectangle
			for y := 0; y < after.Bounds().Dy(); y++ {
				for x := 0; x < after.Bounds().Dx(); x++ {
					if d := int(before.GrayAt(x, y).Y) - int(after.GrayAt(x, y).Y); d > 40 || d < -40 {
						diff = diff.Union(image.Rect(x, y, x+1, y+1))
					}
				}
			}
			// Expected in pixels: x from 120 to 220, y (from the top) for v from 225 to 275.
			h := after.Bounds().Dy()
			want := image.Rect(120, h-275, 220, h-225)
			if abs(diff.Min.X-want.Min.X) > 1 || abs(diff.Max.X-want.Max.X) > 1 || abs(diff.Min.Y-want.Min.Y) > 1 || abs(diff.Max.Y-want.Max.Y) > 1 {
				t.Fatalf("stamp drawn at %v, want %v on a %v page", diff, want, after.Bounds())
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestSealErrorsNameDocumentAndStep(t *testing.T) {
	fx := setup(t)
	ctx := context.Background()
	base := contract(t)
	for _, c := range []struct {
		name     string
		mod      func(r *Request)
		doc      string
		step     string
		contains string
	}{
		{"no documents", func(r *Request) { r.Documents = nil }, "", "request", "no documents"},
		{"no parties", func(r *Request) { r.Parties = nil }, "", "request", "no signing parties"},
		{"stamp on a missing page", func(r *Request) { r.Stamps[0].Page = 3 }, "doc-1", "stamp", "page 3 of a 2-page"},
		{"stamp for an unknown document", func(r *Request) { r.Stamps[0].DocumentID = "doc-9" }, "doc-9", "stamp", "does not have"},
		{"broken PDF", func(r *Request) { r.Documents[0].PDF = []byte("%PDF-1.4\nnot really") }, "doc-1", "stamp", "read PDF"},
		{"image that is not one", func(r *Request) { r.Stamps[0].Image = []byte("junk") }, "doc-1", "stamp", "cannot be read"},
		{"JPEG labelled PNG", func(r *Request) {
			var b bytes.Buffer
			jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
			r.Stamps[0].Image = b.Bytes()
		}, "doc-1", "stamp", "labelled image/png is jpeg"},
		{"SVG without text", func(r *Request) { r.Stamps[0].MediaType = "image/svg+xml"; r.Stamps[0].Image = []byte("<svg/>") }, "doc-1", "stamp", "no text"},
		{"unknown party kind", func(r *Request) { r.Parties[1].Kind = "robot" }, "", "certificate for p-zhang", "robot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := base
			req.Documents = append([]Document(nil), base.Documents...)
			req.Stamps = append([]Stamp(nil), base.Stamps...)
			req.Parties = append([]Party(nil), base.Parties...)
			c.mod(&req)
			_, err := fx.sealer.Seal(ctx, req)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if se.DocumentID != c.doc || se.Step != c.step || !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("error %q: document %q step %q, want %q %q containing %q", err, se.DocumentID, se.Step, c.doc, c.step, c.contains)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fx.sealer.Seal(cancelled, base); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestSVGFallsBackToTextAndUnstampedDocumentsAreSigned(t *testing.T) {
	pdfsigTool(t)
	fx := setup(t)
	req := contract(t)
	req.Stamps[0].MediaType, req.Stamps[0].Image, req.Stamps[0].Text = "image/svg+xml", []byte("<svg/>"), acme.Name
	plain := Document{ID: "doc-2", Name: "附件.pdf", PDF: textPDF([]string{"Annex"}, 0)}
	req.Documents = append(req.Documents, plain)
	res, err := fx.sealer.Seal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Documents) != 2 || len(res.Timestamps) != 4 {
		t.Fatalf("%d documents, %d timestamps", len(res.Documents), len(res.Timestamps))
	}
	annex := res.Documents[1].PDF
	if !bytes.HasPrefix(annex, plain.PDF) {
		t.Fatal("a document without stamps was rewritten instead of only signed")
	}
	db := nssDB(t, fx)
	for _, d := range res.Documents {
		_, sigs := pdfsig(t, db, d.PDF)
		if len(sigs) != 2 {
			t.Fatalf("%s: %d signatures", d.ID, len(sigs))
		}
		for i, s := range sigs {
			if s.fields["Signature Validation"] != "Signature is Valid." || s.fields["Certificate Validation"] != "Certificate is Trusted." {
				t.Errorf("%s signature %d: %q, %q", d.ID, i+1, s.fields["Signature Validation"], s.fields["Certificate Validation"])
			}
		}
	}
	// The SVG seal's rectangle on page 2 shows its text instead.
	page := render(t, res.Documents[0].PDF, 2)
	r := req.Stamps[0].Rect
	h := page.Bounds().Dy()
	inked := 0
	for y := h - int(r.Y+r.H); y < h-int(r.Y); y++ {
		for x := int(r.X); x < int(r.X+r.W); x++ {
			if page.GrayAt(x, y).Y < 128 {
				inked++
			}
		}
	}
	if inked < 50 {
		t.Fatalf("%d dark pixels in the SVG seal's rectangle: its text was not drawn", inked)
	}
}

func TestDictText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"张三", "张三"},
		{"杭州示例科技有限公司", "杭州示例科技有限公司"},
		{"王小山", "fb"},              // 小 U+5C0F, 山 U+5C71: a backslash byte
		{"\u4e28", "fb"},           // 丨 U+4E28: a "(" byte
		{"signs (a)", "signs (a)"}, // ASCII is escaped by pdfsign
		{"a\nb", "fb"},
	} {
		if got := dictText(c.in, "fb"); got != c.want {
			t.Errorf("dictText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNameThatPdfsignCannotWriteIsLeftToTheCertificate(t *testing.T) {
	pdfsigTool(t)
	fx := setup(t)
	req := contract(t)
	req.Parties[1].Name = "王小山"          // 小 and 山 hold a backslash byte in UTF-16BE
	req.Parties[1].Location = "\u4e29山东" // U+4E29 holds a ")" byte
	res, err := fx.sealer.Seal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	pdf := res.Documents[0].PDF
	_, sigs := pdfsig(t, nssDB(t, fx), pdf)
	if len(sigs) != 2 || sigs[1].fields["Signer Certificate Common Name"] != "王小山" || sigs[1].fields["Signature Validation"] != "Signature is Valid." {
		t.Fatalf("signatures %+v", sigs)
	}
	resp, err := verify.VerifyWithOptions(bytes.NewReader(pdf), int64(len(pdf)), &verify.VerifyOptions{AllowUntrustedRoots: true})
	if err != nil || len(resp.Signers) != 2 {
		t.Fatalf("verify: %v", err)
	}
	// Left out rather than written garbled; the certificate names the signer.
	if s := resp.Signers[1]; s.Name != "" || s.Location != "" || !strings.Contains(s.Reason, "签署合同 "+req.Number) {
		t.Fatalf("name %q, location %q, reason %q", s.Name, s.Location, s.Reason)
	}
}

func TestConcurrentSeals(t *testing.T) {
	fx := setup(t)
	req := contract(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { _, errs[i] = fx.sealer.Seal(context.Background(), req) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("seal %d: %v", i, err)
		}
	}
}

// BenchmarkSeal seals a two-page, two-party contract (certificates already issued).
func BenchmarkSeal(b *testing.B) {
	fx := setup(b)
	req := contract(b)
	if _, err := fx.sealer.Seal(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := fx.sealer.Seal(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzStamp feeds outside PDFs and images to the stamping step: it may
// refuse them, never crash or hang.
func FuzzStamp(f *testing.F) {
	a, err := artwork.New("") // Latin text only: loading a CJK font in every fuzz worker takes seconds
	if err != nil {
		f.Fatal(err)
	}
	f.Add(textPDF([]string{"one", "two"}, 0), solid(f, 4, 2), 1)
	f.Add(textPDF([]string{"one"}, 90), []byte("\x89PNG\r\n\x1a\n"), 1)
	f.Add([]byte("%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<</Root 1 0 R>>"), []byte{}, 2)
	f.Fuzz(func(t *testing.T, pdf, img []byte, page int) {
		out, err := stamp(pdf, []Stamp{
			{Page: page, Rect: layout.Rect{X: 10, Y: 10, W: 50, H: 30}, Image: img, MediaType: "image/png"},
			{Page: 1, Rect: layout.Rect{X: 10, Y: 60, W: 50, H: 10}, Text: "2026-11-03"},
		}, a)
		if err == nil && !bytes.HasPrefix(out, []byte("%PDF-")) {
			t.Fatalf("stamped output is not a PDF: %q", out[:min(len(out), 16)])
		}
	})
}

func TestSignPlatform(t *testing.T) {
	pdfsigTool(t)
	fx := setup(t)
	doc, token, issued, err := fx.sealer.SignPlatform(context.Background(), textPDF([]string{"Certificate of completion"}, 0), "完成证明 / certificate of completion")
	if err != nil {
		t.Fatal(err)
	}
	if issued == nil || issued.Kind != pki.Platform || len(token) == 0 || doc.Signatures != 1 {
		t.Fatalf("issued %+v, token %d bytes, %d signatures", issued, len(token), doc.Signatures)
	}
	_, sigs := pdfsig(t, nssDB(t, fx), doc.PDF)
	if len(sigs) != 1 || sigs[0].fields["Signer Certificate Common Name"] != "Signet Platform" ||
		sigs[0].fields["Signature Validation"] != "Signature is Valid." || sigs[0].fields["Certificate Validation"] != "Certificate is Trusted." {
		t.Fatalf("pdfsig: %+v", sigs)
	}
	checkTimestamps(t, fx, [][]byte{token})
}
