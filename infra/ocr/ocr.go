// Package ocr reads the fields of a business licence and of both sides of a
// resident identity card from photos, so the verification form arrives filled
// in and the user only checks and corrects it. Recognition is a convenience:
// every field may come back empty or wrong, and nothing here decides whether a
// document is genuine.
package ocr

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"time"
)

// LicenseFields are what a business licence (营业执照) says.
type LicenseFields struct {
	Name     string // 名称 / 企业名称; empty when the licence shows none (个体户 "***")
	USCC     string // 统一社会信用代码, the 18-character candidate as read, not validated
	LegalRep string // 法定代表人, or 经营者 / 负责人 / 执行事务合伙人 / 投资人
}

// PortraitFields are what the portrait side of an identity card says.
type PortraitFields struct {
	Name     string // 姓名
	IDNumber string // 公民身份号码: 17 digits and a digit or X, not validated
}

// EmblemFields are what the national-emblem side of an identity card says.
type EmblemFields struct {
	Authority  string // 签发机关
	ValidFrom  string // first day of 有效期限, "2006-01-02"
	ValidUntil string // last day, "2006-01-02", or "长期" for a card without end
}

// Recognizer reads documents from JPEG or PNG photos. Fields it cannot read
// are empty; an error means the photo itself could not be processed.
type Recognizer interface {
	License(ctx context.Context, img []byte) (LicenseFields, error)
	Portrait(ctx context.Context, img []byte) (PortraitFields, error)
	Emblem(ctx context.Context, img []byte) (EmblemFields, error)
	Name() string
}

// Manual recognises nothing: the user types every field. It is what runs
// when no OCR engine is installed.
type Manual struct{}

func (Manual) License(context.Context, []byte) (LicenseFields, error)   { return LicenseFields{}, nil }
func (Manual) Portrait(context.Context, []byte) (PortraitFields, error) { return PortraitFields{}, nil }
func (Manual) Emblem(context.Context, []byte) (EmblemFields, error)     { return EmblemFields{}, nil }
func (Manual) Name() string                                             { return "manual" }

// Detect returns a Tesseract recognizer when the tesseract binary on PATH
// has Simplified Chinese data, and Manual otherwise; it logs which and why.
func Detect(logger *slog.Logger) Recognizer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bin, err := exec.LookPath("tesseract")
	if err != nil {
		logger.Warn("ocr: tesseract not found on PATH, document fields are entered by hand",
			"install", "apt-get install tesseract-ocr tesseract-ocr-chi-sim")
		return Manual{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Tesseract 3 printed the list on stderr, later versions on stdout.
	out, err := exec.CommandContext(ctx, bin, "--list-langs").CombinedOutput()
	if err != nil {
		logger.Warn("ocr: tesseract --list-langs failed, document fields are entered by hand",
			"bin", bin, "err", err, "output", truncate(string(out), 300))
		return Manual{}
	}
	langs := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		langs[l] = true
	}
	if !langs["chi_sim"] {
		logger.Warn("ocr: tesseract has no chi_sim language data, document fields are entered by hand",
			"bin", bin, "install", "apt-get install tesseract-ocr-chi-sim")
		return Manual{}
	}
	// chi_sim alone: its model reads the Latin letters and digits of the
	// codes, and adding eng makes tesseract read Han labels as Latin noise.
	t := Tesseract{Bin: bin, Langs: "chi_sim"}
	logger.Info("ocr: using tesseract", "bin", bin, "langs", t.Langs)
	return t
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
