package ocr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"signet/domain/fault"
)

// hasChiSim says, independently of Detect, whether this machine can run the
// tesseract tests.
func hasChiSim() bool {
	out, err := exec.Command("tesseract", "--list-langs").CombinedOutput()
	return err == nil && strings.Contains("\n"+string(out)+"\n", "\nchi_sim\n")
}

func logTo(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

// fakeTesseract puts a tesseract on a PATH of its own that runs script.
func fakeTesseract(t *testing.T, script string) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tesseract")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return bin
}

func TestDetect(t *testing.T) {
	t.Run("no tesseract on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		var log bytes.Buffer
		if r := Detect(logTo(&log)); r != (Manual{}) {
			t.Fatalf("Detect = %#v, want Manual", r)
		}
		if !strings.Contains(log.String(), "not found") {
			t.Errorf("log does not say why: %s", log.String())
		}
	})
	t.Run("tesseract without chi_sim", func(t *testing.T) {
		fakeTesseract(t, `echo 'List of available languages in "/x/" (2):'; echo eng; echo osd`)
		var log bytes.Buffer
		if r := Detect(logTo(&log)); r != (Manual{}) {
			t.Fatalf("Detect = %#v, want Manual", r)
		}
		if !strings.Contains(log.String(), "no chi_sim") {
			t.Errorf("log does not say why: %s", log.String())
		}
	})
	t.Run("tesseract that fails", func(t *testing.T) {
		fakeTesseract(t, `echo broken >&2; exit 3`)
		var log bytes.Buffer
		if r := Detect(logTo(&log)); r != (Manual{}) {
			t.Fatalf("Detect = %#v, want Manual", r)
		}
		if !strings.Contains(log.String(), "broken") {
			t.Errorf("log does not carry tesseract's output: %s", log.String())
		}
	})
	t.Run("tesseract with chi_sim", func(t *testing.T) {
		bin := fakeTesseract(t, `echo 'List of available languages in "/x/" (3):'; echo chi_sim; echo eng; echo osd`)
		var log bytes.Buffer
		want := Tesseract{Bin: bin, Langs: "chi_sim"}
		if r := Detect(logTo(&log)); r != want {
			t.Fatalf("Detect = %#v, want %#v", r, want)
		}
		if !strings.Contains(log.String(), "using tesseract") {
			t.Errorf("log does not say which: %s", log.String())
		}
	})
	t.Run("this machine", func(t *testing.T) {
		r := Detect(nil)
		if _, isTess := r.(Tesseract); isTess != hasChiSim() {
			t.Fatalf("Detect = %#v, but tesseract with chi_sim installed = %v", r, hasChiSim())
		}
	})
}

func TestManualRecognisesNothing(t *testing.T) {
	ctx := context.Background()
	img := []byte("anything")
	var m Recognizer = Manual{}
	if l, err := m.License(ctx, img); l != (LicenseFields{}) || err != nil {
		t.Errorf("License = %+v, %v", l, err)
	}
	if p, err := m.Portrait(ctx, img); p != (PortraitFields{}) || err != nil {
		t.Errorf("Portrait = %+v, %v", p, err)
	}
	if e, err := m.Emblem(ctx, img); e != (EmblemFields{}) || err != nil {
		t.Errorf("Emblem = %+v, %v", e, err)
	}
	if m.Name() != "manual" {
		t.Errorf("Name = %q", m.Name())
	}
}

// TestTesseractReadsDocuments is the one that matters: photo-like renderings
// of a licence and both sides of a card, read exactly. Without tesseract it
// checks instead that the machine falls back to typing.
func TestTesseractReadsDocuments(t *testing.T) {
	r := Detect(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	tess, ok := r.(Tesseract)
	if !ok {
		if hasChiSim() {
			t.Fatalf("tesseract with chi_sim is installed but Detect returned %#v", r)
		}
		t.Log("tesseract with chi_sim is not installed: checking the fallback instead (apt-get install tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-zenhei)")
		if r != (Manual{}) {
			t.Fatalf("Detect = %#v, want Manual", r)
		}
		f, err := r.License(context.Background(), []byte("\x89PNG"))
		if f != (LicenseFields{}) || err != nil {
			t.Fatalf("Manual.License = %+v, %v", f, err)
		}
		return
	}
	font := findCJKFont()
	if font == nil {
		t.Fatal("tesseract is installed but no Chinese font was found to draw test documents: install fonts-wqy-zenhei (apt-get install fonts-wqy-zenhei)")
	}
	ctx := context.Background()

	licences := []struct {
		name string
		deg  float64
		seed uint64
		doc  licence
	}{
		{"company", 0.7, 1, licence{LicenseFields{"杭州井然食品贸易有限公司", "91350100M000100Y43", "井然"}, "有限责任公司", "法定代表人"}},
		{"sole proprietor", -0.6, 6, licence{LicenseFields{"福州市鼓楼区林记小吃店", "92350102MA2Y1B2E09", "林小明"}, "个体工商户", "经营者"}},
	}
	for _, c := range licences {
		t.Run("licence "+c.name, func(t *testing.T) {
			img := licenseImage(t, font, c.deg, c.seed, c.doc)
			start := time.Now()
			got, err := tess.License(ctx, img)
			t.Logf("licence %s: %d KB JPEG recognised in %s", c.name, len(img)>>10, time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.doc.LicenseFields {
				t.Errorf("License = %+v\nwant      %+v", got, c.doc.LicenseFields)
			}
		})
	}

	t.Run("card portrait side", func(t *testing.T) {
		want := PortraitFields{Name: "林某某", IDNumber: "35010219900307104X"}
		img := portraitImage(t, font, -0.6, 2, want)
		start := time.Now()
		got, err := tess.Portrait(ctx, img)
		t.Logf("portrait: %d KB JPEG recognised in %s", len(img)>>10, time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Portrait = %+v, want %+v", got, want)
		}
	})

	emblems := []struct {
		validity string
		want     EmblemFields
	}{
		{"2015.03.01-2035.03.01", EmblemFields{"福州市公安局鼓楼分局", "2015-03-01", "2035-03-01"}},
		{"2008.11.20-长期", EmblemFields{"杭州市公安局西湖分局", "2008-11-20", "长期"}},
	}
	for i, c := range emblems {
		t.Run("card emblem side "+c.validity, func(t *testing.T) {
			img := emblemImage(t, font, 0.5, uint64(3+i), c.want.Authority, c.validity)
			start := time.Now()
			got, err := tess.Emblem(ctx, img)
			t.Logf("emblem: %d KB JPEG recognised in %s", len(img)>>10, time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("Emblem = %+v, want %+v", got, c.want)
			}
		})
	}
}

func pngOf(t *testing.T, w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A PNG header claiming a huge canvas, with no pixel data behind it.
func hugePNG(t *testing.T) []byte {
	small := pngOf(t, 1, 1)
	// IHDR's width and height follow the 8-byte signature, length and type.
	copy(small[16:24], []byte{0, 1, 0, 0, 0, 1, 0, 0}) // 65536 x 65536
	binary.BigEndian.PutUint32(small[29:33], crc32.ChecksumIEEE(small[12:29]))
	return small
}

func TestTesseractRefusesWhatIsNotAPhoto(t *testing.T) {
	good := pngOf(t, 64, 32)
	cases := []struct {
		name string
		img  []byte
		kind fault.Kind // 0: a plain error
	}{
		{"empty", nil, fault.Invalid},
		{"text", []byte("营业执照 91350100M000100Y43"), fault.Unsupported},
		{"random bytes", bytes.Repeat([]byte{0x13, 0x37, 0xfe, 0x00}, 5000), fault.Unsupported},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), fault.Unsupported},
		{"PNG claiming 4 gigapixels", hugePNG(t), fault.TooLarge},
		{"over 10 MB", append(append([]byte(nil), good...), make([]byte, MaxImageBytes)...), fault.TooLarge},
	}
	if hasChiSim() {
		// Only the header is checked before tesseract: the rest is
		// leptonica's to find broken.
		cases = append(cases, struct {
			name string
			img  []byte
			kind fault.Kind
		}{"truncated PNG", good[:len(good)-20], fault.Unsupported})
	}
	tess := Tesseract{Timeout: 20 * time.Second}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := tess.License(context.Background(), c.img)
			if err == nil {
				t.Fatal("no error")
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != c.kind {
				t.Fatalf("err = %v, want a fault of kind %d", err, c.kind)
			}
			if c.name == "truncated PNG" && !strings.Contains(err.Error(), "pixReadMem") {
				t.Errorf("err = %v, want tesseract's stderr in it", err)
			}
		})
	}
}

func TestTesseractFailures(t *testing.T) {
	img := pngOf(t, 64, 32)
	ctx := context.Background()

	t.Run("missing binary", func(t *testing.T) {
		_, err := Tesseract{Bin: filepath.Join(t.TempDir(), "tesseract")}.Portrait(ctx, img)
		if err == nil || !strings.Contains(err.Error(), "ocr: tesseract failed") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stderr in the error", func(t *testing.T) {
		bin := fakeTesseract(t, `cat >/dev/null; echo "Error opening data file chi_sim.traineddata" >&2; exit 1`)
		_, err := Tesseract{Bin: bin}.Emblem(ctx, img)
		if err == nil || !strings.Contains(err.Error(), "chi_sim.traineddata") {
			t.Fatalf("err = %v", err)
		}
		if _, isFault := fault.As(err); isFault {
			t.Errorf("a broken installation is not the user's fault: %v", err)
		}
	})
	t.Run("killed at the timeout", func(t *testing.T) {
		bin := fakeTesseract(t, `exec sleep 30`)
		start := time.Now()
		_, err := Tesseract{Bin: bin, Timeout: 200 * time.Millisecond}.License(ctx, img)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish within 200ms") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("returned after %s", d)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		bin := fakeTesseract(t, `exec sleep 30`)
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := Tesseract{Bin: bin}.License(ctx, img)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("runaway output is capped", func(t *testing.T) {
		bin := fakeTesseract(t, `cat >/dev/null; yes 名称 | head -c 5000000; yes x | head -c 100000 >&2`)
		text, err := Tesseract{Bin: bin}.text(ctx, img, 6)
		if err != nil {
			t.Fatal(err)
		}
		if len(text) > maxTextBytes {
			t.Errorf("kept %d bytes", len(text))
		}
	})
	t.Run("a later pass failing keeps the first reading", func(t *testing.T) {
		// The first run reads a name but no code, so a second runs, and fails.
		dir := t.TempDir()
		bin := fakeTesseract(t, `cat >/dev/null
if [ -e `+dir+`/ran ]; then echo gone >&2; exit 1; fi
touch `+dir+`/ran; echo "姓 名 林某某"`)
		got, err := Tesseract{Bin: bin}.Portrait(ctx, img)
		if err != nil || got != (PortraitFields{Name: "林某某"}) {
			t.Fatalf("Portrait = %+v, %v", got, err)
		}
	})
}

// A second reading fills what the first missed and replaces a code whose
// check fails, but never a field the first read well; the dates of a card
// come from one reading.
func TestPassesMerge(t *testing.T) {
	img := pngOf(t, 64, 32)
	twoReadings := func(first, second string) string {
		dir := t.TempDir()
		return fakeTesseract(t, `cat >/dev/null
if [ -e `+dir+`/ran ]; then printf '%s' '`+second+`'; exit 0; fi
touch `+dir+`/ran; printf '%s' '`+first+`'`)
	}
	ctx := context.Background()

	bin := twoReadings("姓名 林某某\n公民身份号码 350102199003071235", "姓名 林某\n公民身份号码 350102199003071234")
	if got, err := (Tesseract{Bin: bin}).Portrait(ctx, img); err != nil || got != (PortraitFields{"林某某", "350102199003071234"}) {
		t.Errorf("Portrait = %+v, %v", got, err)
	}
	bin = twoReadings("名称 杭州井然食品贸易有限公司\n统一社会信用代码 91350100M000100Y44", "名称 杭州井然\n统一社会信用代码 91350100M000100Y45\n法定代表人 井然")
	if got, err := (Tesseract{Bin: bin}).License(ctx, img); err != nil || got != (LicenseFields{"杭州井然食品贸易有限公司", "91350100M000100Y44", "井然"}) {
		t.Errorf("License = %+v, %v", got, err)
	}
	bin = twoReadings("签发机关 福州市公安局\n有效期限 2015.03.01", "签发机关 福州市\n有效期限 2015.08.01-2035.08.01")
	if got, err := (Tesseract{Bin: bin}).Emblem(ctx, img); err != nil || got != (EmblemFields{"福州市公安局", "2015-08-01", "2035-08-01"}) {
		t.Errorf("Emblem = %+v, %v", got, err)
	}
}
