package artwork

import (
	"image"
	"strings"
	"testing"
)

// inkBox is the bounding box of the visibly inked pixels.
func inkBox(img *image.NRGBA) image.Rectangle {
	var box image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.NRGBAAt(x, y).A > 128 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

func TestTextFitsTheBox(t *testing.T) {
	a := withFont(t)
	for _, c := range []struct {
		name, text string
		w, h       float64
		minLines   int
	}{
		{"date", "2026-11-03", 120, 20, 1},
		{"chinese", "合同金额：壹万元整", 150, 24, 1},
		{"long chinese wraps", strings.Repeat("甲方应于签约后十日内付款。", 6), 160, 80, 3},
		{"kept line breaks", "line one\nline two", 200, 60, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := a.Text(c.text, c.w, c.h)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, data, PNG)
			if img.Bounds().Dx() != int(c.w*textScale) || img.Bounds().Dy() != int(c.h*textScale) {
				t.Fatalf("image %v for a %gx%g pt box", img.Bounds(), c.w, c.h)
			}
			ink := inkBox(img)
			if ink.Empty() {
				t.Fatal("nothing drawn")
			}
			if !ink.In(img.Bounds()) || ink.Min.X == 0 || ink.Min.Y == 0 || ink.Max.X == img.Bounds().Dx() || ink.Max.Y == img.Bounds().Dy() {
				t.Fatalf("ink %v touches the edge of %v: text was clipped", ink, img.Bounds())
			}
			// Text fills a good part of the box in one direction at least.
			if float64(ink.Dx()) < 0.5*float64(img.Bounds().Dx()) && float64(ink.Dy()) < 0.5*float64(img.Bounds().Dy()) {
				t.Fatalf("ink %v is small in %v", ink, img.Bounds())
			}
			lines := 0
			inLine := false
			for y := ink.Min.Y; y < ink.Max.Y; y++ {
				row := false
				for x := ink.Min.X; x < ink.Max.X && !row; x++ {
					row = img.NRGBAAt(x, y).A > 128
				}
				if row && !inLine {
					lines++
				}
				inLine = row
			}
			if lines < c.minLines {
				t.Fatalf("%d lines of ink, want at least %d", lines, c.minLines)
			}
		})
	}
}

func TestTextWithoutCJKFont(t *testing.T) {
	a := &Artwork{}
	data, err := a.Text("2026-11-03", 100, 20)
	if err != nil {
		t.Fatalf("Latin text without a CJK font: %v", err)
	}
	if inkBox(decodePNG(t, data, PNG)).Empty() {
		t.Fatal("nothing drawn")
	}
	// Chinese is drawn as the Go font's boxes rather than refused, so a
	// contract still gets its final documents on a machine without fonts.
	data, err = a.Text("壹万元", 100, 20)
	if err != nil {
		t.Fatalf("Chinese without a CJK font: %v", err)
	}
	if inkBox(decodePNG(t, data, PNG)).Empty() {
		t.Fatal("no boxes drawn for Chinese without a CJK font")
	}
}

func TestTextRefusals(t *testing.T) {
	a := withFont(t)
	for _, c := range []struct {
		text string
		w, h float64
	}{
		{"", 10, 10},
		{"   ", 10, 10},
		{"a\x00b", 10, 10},
		{"a\u202eb", 10, 10},
		{"\xff", 10, 10},
		{strings.Repeat("字", textMaxRune+1), 100, 100},
		{"x", 0, 10},
		{"x", 10, -1},
	} {
		if _, err := a.Text(c.text, c.w, c.h); err == nil {
			t.Errorf("Text(%q, %g, %g) accepted", c.text, c.w, c.h)
		}
	}
}
