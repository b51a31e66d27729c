package upload

import (
	"bytes"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"

	"signet/domain/fault"
)

func TestSniff(t *testing.T) {
	pngData := encode(t, "png", 40, 30)
	tests := []struct {
		name     string
		data     []byte
		allowed  []string
		wantType string
		w, h     int
		kind     fault.Kind
		code     string
		inMsg    string
	}{
		{name: "png photo", data: pngData, allowed: Photos, wantType: PNG, w: 40, h: 30},
		{name: "jpeg photo", data: encode(t, "jpeg", 33, 21), allowed: Photos, wantType: JPEG, w: 33, h: 21},
		{name: "bmp letter", data: encode(t, "bmp", 17, 9), allowed: Letters, wantType: BMP, w: 17, h: 9},
		{name: "png letter", data: pngData, allowed: Letters, wantType: PNG, w: 40, h: 30},
		{name: "bmp is no photo", data: encode(t, "bmp", 17, 9), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "This file is a BMP image; only JPEG or PNG images are accepted."},
		{name: "pdf", data: []byte(pdfHeader), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "This file is a PDF; only JPEG or PNG images are accepted."},
		{name: "pdf as letter", data: []byte(pdfHeader), allowed: Letters,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "only PNG, JPEG or BMP images"},
		{name: "gif", data: encode(t, "gif", 8, 8), allowed: Letters,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "a GIF image"},
		{name: "webp", data: []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "a WebP image"},
		{name: "heic", data: []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "a HEIC image"},
		{name: "docx", data: []byte("PK\x03\x04\x14\x00\x06\x00"), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "a ZIP archive or Office document"},
		{name: "text", data: []byte("hello"), allowed: Photos,
			kind: fault.Unsupported, code: "unsupported_media_type", inMsg: "of an unknown type"},
		{name: "empty", data: nil, allowed: Photos, kind: fault.Invalid, code: "empty_file"},
		{name: "truncated png", data: pngData[:len(pngData)/2], allowed: Photos,
			kind: fault.Unsupported, code: "corrupt_image", inMsg: "looks like a PNG but cannot be decoded"},
		{name: "png header only", data: pngHeader(10, 10), allowed: Photos,
			kind: fault.Unsupported, code: "corrupt_image", inMsg: "PNG"},
		{name: "png magic only", data: pngData[:8], allowed: Photos, kind: fault.Unsupported, code: "corrupt_image"},
		{name: "truncated jpeg", data: encode(t, "jpeg", 64, 64)[:300], allowed: Photos,
			kind: fault.Unsupported, code: "corrupt_image", inMsg: "looks like a JPEG"},
		{name: "jpeg magic only", data: []byte{0xff, 0xd8, 0xff}, allowed: Photos, kind: fault.Unsupported, code: "corrupt_image"},
		{name: "truncated bmp", data: encode(t, "bmp", 20, 20)[:200], allowed: Letters,
			kind: fault.Unsupported, code: "corrupt_image", inMsg: "looks like a BMP"},
		{name: "png 20000x20000", data: pngBomb(20000, 20000), allowed: Photos,
			kind: fault.TooLarge, code: "image_too_large", inMsg: "20000×20000 pixels"},
		{name: "png 12000x12000 over 80 MP", data: pngBomb(12000, 12000), allowed: Photos,
			kind: fault.TooLarge, code: "image_too_large"},
		{name: "png 1x12001", data: pngBomb(1, 12001), allowed: Photos, kind: fault.TooLarge, code: "image_too_large"},
		{name: "png 2^31 wide", data: pngBomb(1<<31-1, 1), allowed: Photos, kind: fault.TooLarge, code: "image_too_large"},
		{name: "png 0 wide", data: pngBomb(0, 5), allowed: Photos, kind: fault.Unsupported, code: "corrupt_image"},
		{name: "png bomb within limits has no pixels", data: pngBomb(9000, 8000), allowed: Photos,
			kind: fault.Unsupported, code: "corrupt_image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			mt, w, h, err := Sniff(tt.data, tt.allowed)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Sniff: %v", err)
				}
				if mt != tt.wantType || w != tt.w || h != tt.h {
					t.Fatalf("Sniff = %s %d×%d, want %s %d×%d", mt, w, h, tt.wantType, tt.w, tt.h)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok {
				t.Fatalf("Sniff error = %v, want *fault.Error %s", err, tt.code)
			}
			if f.Kind != tt.kind || f.Code != tt.code || !strings.Contains(f.Message, tt.inMsg) {
				t.Fatalf("Sniff error = kind %d %v, want kind %d %s containing %q", f.Kind, f, tt.kind, tt.code, tt.inMsg)
			}
			if mt != "" || w != 0 || h != 0 {
				t.Fatalf("refusal also returned %q %d×%d", mt, w, h)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("refusal took %v", d)
			}
		})
	}
}

// The bomb check must come before the full decode: a 20000×20000 RGBA
// image would need 1.6 GB.
func TestSniffBombAllocatesLittle(t *testing.T) {
	data := pngBomb(20000, 20000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, err := Sniff(data, Photos)
	runtime.ReadMemStats(&after)
	if f, ok := fault.As(err); !ok || f.Code != "image_too_large" {
		t.Fatalf("Sniff = %v, want image_too_large", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("refusing a 20000×20000 PNG allocated %d bytes", grew)
	}
}

func TestExt(t *testing.T) {
	for mt, want := range map[string]string{JPEG: ".jpg", PNG: ".png", BMP: ".bmp", "image/gif": ""} {
		if got := Ext(mt); got != want {
			t.Errorf("Ext(%q) = %q, want %q", mt, got, want)
		}
	}
}

func FuzzSniff(f *testing.F) {
	f.Add(encode(f, "png", 3, 2))
	f.Add(encode(f, "jpeg", 3, 2))
	f.Add(encode(f, "bmp", 3, 2))
	f.Add(encode(f, "gif", 3, 2))
	f.Add([]byte(pdfHeader))
	f.Add(pngHeader(4, 4))
	f.Add(pngBomb(2, 2))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		mt, w, h, err := Sniff(data, Letters)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("Sniff took %v on %d bytes", d, len(data))
		}
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error is no *fault.Error: %v", err)
			}
			return
		}
		img, format, derr := image.Decode(bytes.NewReader(data))
		if derr != nil {
			t.Fatalf("Sniff accepted %s %d×%d that image.Decode refuses: %v", mt, w, h, derr)
		}
		if "image/"+format != mt {
			t.Fatalf("Sniff says %s, image.Decode says %s", mt, format)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h || w <= 0 || h <= 0 || w > MaxSide || h > MaxSide || w*h > MaxPixels {
			t.Fatalf("Sniff says %d×%d, image is %v", w, h, b)
		}
	})
}
