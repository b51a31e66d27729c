package evidence

import (
	"encoding/json"
	"slices"
	"strings"

	"signet/domain/contract"
	"signet/domain/event"
)

// sealedJSON is what Verify reads of the ContractSealed event's data; other
// fields are ignored.
type sealedJSON struct {
	Documents []struct {
		DocumentID string `json:"document_id"`
		Name       string `json:"name"`
		SHA256     string `json:"sha256"`
		Signatures int    `json:"signatures"`
	} `json:"documents"`
	CertificateSHA256 string `json:"certificate_sha256"`
	Certificates      []struct {
		SHA256 string `json:"sha256"` // of a signing certificate's DER
	} `json:"certificates"`
	Timestamps []string `json:"timestamps"` // SHA-256 of each token file
}

// checkSealed binds the files to the events: the contract's last
// ContractSealed event names every final document, the certificate of
// completion and every timestamp token by SHA-256, and a ContractCompleted
// event follows it.
func (v *verifier) checkSealed() {
	if len(v.events) == 0 {
		v.fail("sealed", EventsName, "no events to find the contract's sealing in")
		return
	}
	at := -1
	for i, e := range v.events {
		if e.Type == contract.TypeContractSealed {
			at = i
		}
	}
	if at < 0 {
		v.fail("sealed", EventsName, "the contract has no %s event: its final documents were never recorded", contract.TypeContractSealed)
		return
	}
	env := v.events[at]
	if !slices.ContainsFunc(v.events[at+1:], func(e event.Envelope) bool { return e.Type == contract.TypeContractCompleted }) {
		v.fail("sealed", EventsName, "no %s event follows %s (version %d): the contract is not completed", contract.TypeContractCompleted, env.Type, env.Version)
	}
	var s sealedJSON
	if err := json.Unmarshal(env.Data, &s); err != nil {
		v.fail("sealed", EventsName, "the data of %s (version %d) does not read: %v", env.Type, env.Version, err)
		return
	}
	v.sealed = &s
	where := func() string { return "event " + env.ID + " (" + env.Type + ", version " + itoa(env.Version) + ")" }
	ok := true
	named := map[string]bool{}
	for _, d := range s.Documents {
		name := DocumentName(d.DocumentID)
		named[name] = true
		if !safeSegment(d.DocumentID) {
			v.fail("sealed", EventsName, "%s names a document with the ID %q, which cannot be a file name", where(), d.DocumentID)
			ok = false
			continue
		}
		data, present := v.files[name]
		switch {
		case !present:
			v.fail("sealed", name, "%s records document %s (%s), but the bundle does not hold %s", where(), d.DocumentID, d.Name, name)
			ok = false
		case sha256Hex(data) != d.SHA256:
			v.fail("sealed", name, "the file's SHA-256 is %s, but %s recorded %s for it: the signed PDF is not the one the contract produced",
				sha256Hex(data), where(), d.SHA256)
			ok = false
		}
	}
	var tokens []string
	for _, n := range v.names {
		switch {
		case strings.HasPrefix(n, DocumentsDir) && !named[n]:
			v.fail("sealed", n, "%s does not record this document", where())
			ok = false
		case strings.HasPrefix(n, TimestampsDir):
			tokens = append(tokens, sha256Hex(v.files[n]))
			if !slices.Contains(s.Timestamps, sha256Hex(v.files[n])) {
				v.fail("sealed", n, "the token's SHA-256 %s is not among those %s recorded", sha256Hex(v.files[n]), where())
				ok = false
			}
		}
	}
	for _, h := range s.Timestamps {
		if !slices.Contains(tokens, h) {
			v.fail("sealed", TimestampsDir, "%s records a timestamp token with SHA-256 %s that the bundle does not hold", where(), h)
			ok = false
		}
	}
	if cert, present := v.files[CertificateName]; present {
		if got := sha256Hex(cert); got != s.CertificateSHA256 {
			v.fail("sealed", CertificateName, "the file's SHA-256 is %s, but %s recorded %s for the certificate of completion", got, where(), s.CertificateSHA256)
			ok = false
		}
	} else {
		v.fail("sealed", CertificateName, "the file is missing from the bundle")
		ok = false
	}
	if ok {
		v.pass("sealed", "", "%s records the SHA-256 of the %d signed documents, the certificate of completion and %d timestamp tokens, and every file in the bundle has it",
			where(), len(s.Documents), len(s.Timestamps))
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
