package evidence

import (
	"archive/zip"
	"bytes"
	"slices"
	"testing"
)

// FuzzVerify feeds Verify arbitrary bytes, seeded with a genuine bundle and
// small broken zips: it must not panic, and a mangled bundle must not pass.
func FuzzVerify(f *testing.F) {
	f.Add(build(f).zip)
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{ManifestName, EventsName, "documents/x.pdf", "../x"} {
		w, _ := zw.Create(name)
		w.Write([]byte("{}"))
	}
	zw.Close()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, z []byte) {
		rep, err := Verify(bytes.NewReader(z), int64(len(z)), VerifyOptions{})
		if rep.OK != (err == nil) || len(rep.Checks) == 0 {
			t.Fatalf("OK %v, error %v, %d checks", rep.OK, err, len(rep.Checks))
		}
		if !rep.OK {
			return
		}
		// A bundle that holds (the seed, or one whose zip metadata changed)
		// must break when any file changes.
		files := entries(t, z)
		for k, f := range files {
			changed := slices.Clone(files)
			changed[k] = File{f.Name, flip(f.Data, len(f.Data)/2)}
			if rep, _ := Verify(bytes.NewReader(rezip(t, changed)), int64(len(rezip(t, changed))), VerifyOptions{}); rep.OK {
				t.Fatalf("%s changed and the bundle still holds:\n%s", f.Name, rep)
			}
		}
	})
}
