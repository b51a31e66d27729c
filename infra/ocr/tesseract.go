package ocr

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of the accepted formats
	_ "image/png"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"signet/domain/fault"
)

const (
	// MaxImageBytes is the largest photo accepted, as the upload form promises.
	MaxImageBytes = 10 << 20
	// MaxImagePixels bounds the decoded size: a small PNG can claim an enormous
	// canvas, and leptonica would allocate it.
	MaxImagePixels = 40_000_000

	defaultTimeout = 30 * time.Second
	maxTextBytes   = 64 << 10 // a page of text is a few KB
	maxStderrBytes = 4 << 10
)

// Tesseract runs the tesseract command-line program on each photo, once or,
// when the first reading misses a field, twice.
type Tesseract struct {
	Bin     string        // path of the binary; "tesseract" when empty
	Langs   string        // -l argument; "chi_sim" when empty, which reads Latin letters and digits too
	Timeout time.Duration // for all passes over one photo; 30 s when zero
}

func (t Tesseract) Name() string { return "tesseract" }

// Page segmentation modes, in the order tried, chosen by measuring on
// rendered documents (see the tests): mode 6 (one uniform block) reads labels
// and values on the same line best; mode 4 (a column of lines) misses more
// labels but misreads fewer digits, so it runs only when the first reading
// left a field empty or a code whose check character fails.
var passes = []int{6, 4}

func (t Tesseract) License(ctx context.Context, img []byte) (LicenseFields, error) {
	var f LicenseFields
	err := t.read(ctx, img, func(text string) bool {
		g := ParseLicense(text)
		f.Name = better(f.Name, g.Name, nonEmpty)
		f.USCC = better(f.USCC, g.USCC, validUSCC)
		f.LegalRep = better(f.LegalRep, g.LegalRep, nonEmpty)
		return f.Name != "" && validUSCC(f.USCC) && f.LegalRep != ""
	})
	return f, err
}

func (t Tesseract) Portrait(ctx context.Context, img []byte) (PortraitFields, error) {
	var f PortraitFields
	err := t.read(ctx, img, func(text string) bool {
		g := ParsePortrait(text)
		f.Name = better(f.Name, g.Name, nonEmpty)
		f.IDNumber = better(f.IDNumber, g.IDNumber, validIDNumber)
		return f.Name != "" && validIDNumber(f.IDNumber)
	})
	return f, err
}

func (t Tesseract) Emblem(ctx context.Context, img []byte) (EmblemFields, error) {
	var f EmblemFields
	err := t.read(ctx, img, func(text string) bool {
		g := ParseEmblem(text)
		f.Authority = better(f.Authority, g.Authority, nonEmpty)
		// The dates come from one reading, not one from each.
		if f.ValidUntil == "" && (g.ValidUntil != "" || f.ValidFrom == "") {
			f.ValidFrom, f.ValidUntil = g.ValidFrom, g.ValidUntil
		}
		return f.Authority != "" && f.ValidFrom != "" && f.ValidUntil != ""
	})
	return f, err
}

// read checks img and runs the passes, within the timeout together, until
// merge says every field is read. Only the first pass's failure is an error:
// after it, there are fields to show.
func (t Tesseract) read(ctx context.Context, img []byte, merge func(text string) (done bool)) error {
	if err := checkImage(img); err != nil {
		return err
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("tesseract did not finish within %s: %w", timeout, context.DeadlineExceeded))
	defer cancel()
	for i, psm := range passes {
		text, err := t.text(ctx, img, psm)
		if err != nil {
			if i == 0 {
				return err
			}
			return nil
		}
		if merge(text) {
			return nil
		}
	}
	return nil
}

func nonEmpty(s string) bool { return s != "" }

// better keeps have unless got is good and have is not, or have is empty.
func better(have, got string, good func(string) bool) string {
	if good(have) || got == "" {
		return have
	}
	if good(got) || have == "" {
		return got
	}
	return have
}

// text returns tesseract's reading of img with page segmentation mode psm.
// An image tesseract cannot decode is an error wrapping a *fault.Error; any
// other failure is a plain error. Both carry tesseract's stderr.
func (t Tesseract) text(ctx context.Context, img []byte, psm int) (string, error) {
	// At most runtime.NumCPU() tesseract processes at once, whatever the
	// number of uploads: the rest wait (bounded by ctx), so a burst of
	// uploads cannot start hundreds of 100 MB processes.
	select {
	case running <- struct{}{}:
		defer func() { <-running }()
	case <-ctx.Done():
		return "", fmt.Errorf("ocr: waiting for a free slot: %w", context.Cause(ctx))
	}
	bin, langs := t.Bin, t.Langs
	if bin == "" {
		bin = "tesseract"
	}
	if langs == "" {
		langs = "chi_sim"
	}
	cmd := exec.CommandContext(ctx, bin, "stdin", "stdout", "-l", langs, "--psm", strconv.Itoa(psm),
		// Runs of spaces are how the gap between a licence's columns shows.
		"-c", "preserve_interword_spaces=1")
	cmd.Stdin = bytes.NewReader(img)
	stdout := &capped{max: maxTextBytes}
	stderr := &capped{max: maxStderrBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// One thread per run: parallel requests already keep the cores busy, and
	// OpenMP threads contending with each other make every run slower.
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.WaitDelay = time.Second

	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("ocr: %w", context.Cause(ctx))
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "pixReadMem") {
			// leptonica could not decode what the header promised: the
			// upload is broken, which is the user's to fix.
			return "", fmt.Errorf("ocr: tesseract could not read the image: %s: %w", msg, errUnreadable)
		}
		return "", fmt.Errorf("ocr: tesseract failed: %w: %s", err, msg)
	}
	return stdout.String(), nil
}

var running = make(chan struct{}, max(1, runtime.NumCPU()))

// checkImage refuses, before tesseract sees it, a photo that is empty, too
// large, or not a JPEG or PNG.
var errUnreadable = fault.New(fault.Unsupported, "image_unreadable", "The photo could not be read; it may be damaged or cut short. Upload the document again as a JPEG or PNG photo.")

func checkImage(img []byte) error {
	if len(img) == 0 {
		return fault.New(fault.Invalid, "image_empty", "The photo is empty; upload a JPEG or PNG photo of the document.")
	}
	if len(img) > MaxImageBytes {
		return fault.New(fault.TooLarge, "image_too_large", "The photo is larger than 10 MB; upload a smaller JPEG or PNG photo.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil || (format != "jpeg" && format != "png") {
		return fault.New(fault.Unsupported, "image_format", "The photo is not a readable JPEG or PNG image; upload the document as a JPEG or PNG photo.")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxImagePixels {
		return fault.New(fault.TooLarge, "image_too_many_pixels", "The photo has more than 40 megapixels; upload a smaller photo of the document.")
	}
	return nil
}

// capped keeps the first max bytes written and drops the rest, so a runaway
// child cannot grow our memory; it never fails the write, which would make
// the child die of a broken pipe instead of reporting its own error.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return strings.ToValidUTF8(c.buf.String(), "") }
