package writeapi

import (
	"bytes"
	"io"
	"mime/multipart"
	"testing"

	"signet/domain/fault"
)

// FuzzBatchForm: whatever the body, reading the batch form up to its file
// neither panics nor keeps a field over its bound, and refuses only with
// a fault.
func FuzzBatchForm(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"template_id\"\r\n\r\nt1\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\nPK\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"enterprise_id\"\r\n\r\ne1\r\n--b--\r\n"))
	f.Add([]byte("no boundary at all"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"template_id\"\r\n\r\n"))
	tooLarge := fault.New(fault.TooLarge, "sheet_too_large", "too large")
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, ent, part, err := batchForm(multipart.NewReader(bytes.NewReader(data), "b"), tooLarge)
		if err != nil {
			if _, ok := fault.As(err); !ok || part != nil || tpl != "" || ent != "" {
				t.Fatalf("refusal %v with %q %q %v", err, tpl, ent, part)
			}
			return
		}
		if len(tpl) > batchFieldBytes || len(ent) > batchFieldBytes {
			t.Fatalf("fields of %d and %d bytes", len(tpl), len(ent))
		}
		if part == nil || part.FormName() != "file" {
			t.Fatalf("part %v", part)
		}
		io.Copy(io.Discard, part)
	})
}
