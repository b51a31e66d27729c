package commands

import (
	"errors"

	"signet/domain/layout"
)

// PDFInspector checks an uploaded PDF with a real PDF library: encrypted
// or broken files are refused with a *fault.Error; otherwise it reports
// the page sizes.
type PDFInspector interface {
	Inspect(data []byte) ([]layout.Page, error)
	// Blank returns a blank A4 PDF of n pages (空白文档).
	Blank(pages int) ([]byte, error)
}

// Artwork draws the images a signature leaves: an enterprise's default
// seal and a typed signature.
type Artwork interface {
	Seal(enterpriseName string) (data []byte, mediaType string, err error)
	TypedSignature(name string) (data []byte, mediaType string, err error)
}

// LifecycleDeps are the ports of templates, seals, sending and signing.
type LifecycleDeps struct {
	PDF PDFInspector
	Art Artwork
	// PublicURL prefixes the links in notifications, e.g. "https://sign.example.com".
	PublicURL string
	// Sealer and Completion produce the final documents after the last signature.
	Sealer     Sealer
	Completion CompletionRenderer
}

func (l LifecycleDeps) check() error {
	var errs []error
	if l.PDF == nil {
		errs = append(errs, errors.New("commands: lifecycle needs PDF"))
	}
	if l.Art == nil {
		errs = append(errs, errors.New("commands: lifecycle needs Art"))
	}
	if l.Sealer == nil || l.Completion == nil {
		errs = append(errs, errors.New("commands: lifecycle needs Sealer and Completion"))
	}
	return errors.Join(errs...)
}
