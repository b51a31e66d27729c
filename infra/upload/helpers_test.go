package upload

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
)

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	return img
}

func encode(t testing.TB, kind string, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch kind {
	case "png":
		err = png.Encode(&buf, picture(w, h))
	case "jpeg":
		err = jpeg.Encode(&buf, picture(w, h), &jpeg.Options{Quality: 80})
	case "bmp":
		err = bmp.Encode(&buf, picture(w, h))
	case "gif":
		err = gif.Encode(&buf, picture(w, h), nil)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is a PNG signature and a hand-made IHDR chunk (8-bit RGBA)
// declaring w×h, with a valid CRC, and nothing after it.
func pngHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // bit depth, colour type RGBA
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr[:]...)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

// pngBomb is pngHeader followed by a real but tiny IDAT and IEND, so that
// only the dimension check can refuse it.
func pngBomb(w, h uint32) []byte {
	out := pngHeader(w, h)
	idat := []byte("IDAT\x78\x9c\x03\x00\x00\x00\x00\x01")
	out = binary.BigEndian.AppendUint32(out, uint32(len(idat)-4))
	out = append(out, idat...)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(idat))
	out = binary.BigEndian.AppendUint32(out, 0)
	out = append(out, "IEND"...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE([]byte("IEND")))
}

const pdfHeader = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
