// Package upload reads uploaded files from HTTP requests and checks them by
// their content, never by their name or declared type: an image is accepted
// only when its magic bytes name an allowed format and it decodes whole.
package upload

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"

	"signet/domain/fault"
)

// Media types this package can accept.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	BMP  = "image/bmp"
)

// Allowed sets for the enterprise verification uploads. Read-only.
var (
	// Photos: business licence and ID card photos (jpeg, jpg, png).
	Photos = []string{JPEG, PNG}
	// Letters: the stamped authorization letter (png, jpeg, jpg, bmp).
	Letters = []string{PNG, JPEG, BMP}
)

// MaxSize is the upload limit of every verification file.
const MaxSize = 10 << 20

// Decompression-bomb limits, checked on the header before the full decode.
const (
	MaxSide   = 12000
	MaxPixels = 80_000_000
)

// decodeSlots bounds how many full decodes run at once: an 80-megapixel
// image costs hundreds of MB while it is being decoded.
var decodeSlots = make(chan struct{}, 2)

type format struct {
	mediaType string
	name      string // for people
	ext       string
	config    func(io.Reader) (image.Config, error)
	decode    func(io.Reader) (image.Image, error)
}

var formats = []format{
	{JPEG, "JPEG", ".jpg", jpeg.DecodeConfig, jpeg.Decode},
	{PNG, "PNG", ".png", png.DecodeConfig, png.Decode},
	{BMP, "BMP", ".bmp", bmp.DecodeConfig, bmp.Decode},
}

func formatOf(mediaType string) (format, bool) {
	for _, f := range formats {
		if f.mediaType == mediaType {
			return f, true
		}
	}
	return format{}, false
}

// Ext is the usual file extension (".jpg", ".png", ".bmp") of an accepted
// media type, or "" for any other.
func Ext(mediaType string) string {
	f, _ := formatOf(mediaType)
	return f.ext
}

// Sniff decides what data is by its content and accepts it only if it is one
// of the allowed media types, its dimensions are within MaxSide and MaxPixels,
// and it decodes completely. Refusals are *fault.Error.
func Sniff(data []byte, allowed []string) (mediaType string, w, h int, err error) {
	if len(data) == 0 {
		return "", 0, 0, fault.New(fault.Invalid, "empty_file", "The file is empty; choose the image again and upload it.")
	}
	mediaType, what := detect(data)
	f, known := formatOf(mediaType)
	if !known || !contains(allowed, mediaType) {
		return "", 0, 0, fault.New(fault.Unsupported, "unsupported_media_type",
			fmt.Sprintf("This file is %s; only %s images are accepted.", what, names(allowed)))
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return "", 0, 0, corrupt(f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, corrupt(f, fmt.Errorf("it declares %d×%d pixels", cfg.Width, cfg.Height))
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return "", 0, 0, fault.New(fault.TooLarge, "image_too_large", fmt.Sprintf(
			"The image is %d×%d pixels; the limit is %d pixels a side and %d megapixels in all. Scale it down and upload it again.",
			cfg.Width, cfg.Height, MaxSide, MaxPixels/1_000_000))
	}
	decodeSlots <- struct{}{}
	img, err := f.decode(bytes.NewReader(data))
	<-decodeSlots
	if err != nil {
		return "", 0, 0, corrupt(f, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return "", 0, 0, corrupt(f, fmt.Errorf("its header says %d×%d pixels but it holds %d×%d", cfg.Width, cfg.Height, b.Dx(), b.Dy()))
	}
	return mediaType, cfg.Width, cfg.Height, nil
}

func corrupt(f format, err error) error {
	return fault.New(fault.Unsupported, "corrupt_image", fmt.Sprintf(
		"The file looks like a %s but cannot be decoded: %v. Save or export it again and upload the new file.", f.name, err))
}

// detect names data's format from its magic bytes: the media type when it is
// one this package decodes, and always a phrase for messages.
func detect(data []byte) (mediaType, what string) {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return JPEG, "a JPEG image"
	case has(0, "\x89PNG\r\n\x1a\n"):
		return PNG, "a PNG image"
	// The reserved header bytes must be zero, as image.Decode also requires.
	case has(0, "BM") && has(6, "\x00\x00\x00\x00"):
		return BMP, "a BMP image"
	case has(0, "%PDF-"):
		return "", "a PDF"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "", "a GIF image"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "", "a WebP image"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "", "a TIFF image"
	case has(4, "ftyp"):
		if len(data) >= 12 {
			switch string(data[8:12]) {
			case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
				return "", "a HEIC image"
			case "avif", "avis":
				return "", "an AVIF image"
			}
		}
		return "", "a video or other ISO media file"
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"):
		return "", "a ZIP archive or Office document"
	case has(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
		return "", "an Office document"
	}
	return "", "of an unknown type"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// names renders allowed media types as "JPEG or PNG" / "PNG, JPEG or BMP".
func names(allowed []string) string {
	var ns []string
	for _, mt := range allowed {
		if f, ok := formatOf(mt); ok {
			ns = append(ns, f.name)
		}
	}
	switch len(ns) {
	case 0:
		return "no"
	case 1:
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " or " + ns[len(ns)-1]
}
