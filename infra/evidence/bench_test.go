package evidence

import (
	"bytes"
	"testing"
)

// BenchmarkVerify: a two-document, two-party bundle.
func BenchmarkVerify(b *testing.B) {
	fx := build(b)
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(fx.zip), int64(len(fx.zip)), VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
