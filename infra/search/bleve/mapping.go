package bleve

import (
	"encoding/json"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/mapping"

	"signet/infra/search"
)

// One bleve index holds both kinds of document, so that a batch of contracts,
// audit records and the checkpoint is one atomic write. Bleve IDs are the
// kind's prefix and the document's ID; every query filters on fieldKind.
const (
	kindContract = "c"
	kindAudit    = "a"
	fieldKind    = "k"
	fieldDoc     = "doc" // the whole document as JSON, stored, not indexed
	fieldVersion = "v"   // stored decimal version, read before writing
	unigram      = "signet_unigram"
	uniSuffix    = "_uni"
	sentKey      = "sent_key"
	deadlineKey  = "deadline_us"
	sentField    = "sent_us"
	atField      = "at_us"
	positionKey  = "position"
)

func bleveID(kind, id string) string { return kind + "/" + id }

// textFields are analysed with cjk (bigrams) and again, under name+"_uni",
// with one token per letter or digit, for one-character queries.
var textFields = []string{"title", "sender_name", "sender_person", "receivers", "summary"}

var keywordFields = []string{
	fieldKind, "number", "status", "sender_account", "sender_enterprise", "receiver_keys",
	"tags", "folders", "visible", "actor", "enterprise", "type", "stream",
}

var numericFields = []string{sentKey, deadlineKey, sentField, atField, positionKey}

func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	im.DefaultAnalyzer = keyword.Name
	if err := im.AddCustomTokenizer("signet_char", map[string]any{
		"type":   regexp.Name,
		"regexp": `[\p{L}\p{N}]`,
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(unigram, map[string]any{
		"type":          custom.Name,
		"tokenizer":     "signet_char",
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range textFields {
		bi := bleve.NewTextFieldMapping()
		bi.Analyzer = cjk.AnalyzerName
		uni := bleve.NewTextFieldMapping()
		uni.Name = f + uniSuffix
		uni.Analyzer = unigram
		for _, fm := range []*mapping.FieldMapping{bi, uni} {
			fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, false, false, false
		}
		dm.AddFieldMappingsAt(f, bi, uni)
	}
	for _, f := range keywordFields {
		fm := bleve.NewKeywordFieldMapping()
		fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, false, false, false
		dm.AddFieldMappingsAt(f, fm)
	}
	for _, f := range numericFields {
		fm := bleve.NewNumericFieldMapping()
		fm.Store, fm.IncludeInAll = false, false
		fm.DocValues = true // sorting
		dm.AddFieldMappingsAt(f, fm)
	}
	for _, f := range []string{fieldDoc, fieldVersion} {
		fm := bleve.NewKeywordFieldMapping()
		fm.Index, fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, true, false, false, false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	return im, im.Validate()
}

func contractFields(d search.ContractDoc) (map[string]any, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		fieldKind:           kindContract,
		fieldDoc:            string(raw),
		fieldVersion:        strconv.FormatUint(d.Version, 10),
		"number":            d.Number,
		"title":             d.Title,
		"status":            d.Status,
		"sender_name":       d.SenderName,
		"sender_person":     d.SenderPerson,
		"sender_account":    d.SenderAccount,
		"sender_enterprise": d.SenderEnterprise,
		"receivers":         d.Receivers,
		"receiver_keys":     d.ReceiverKeys,
		"tags":              d.Tags,
		"folders":           d.Folders,
		"visible":           d.Visible,
		sentKey:             float64(search.SentKey(d)),
		deadlineKey:         float64(search.Micros(d.Deadline)),
	}
	if d.SentAt != nil {
		m[sentField] = float64(search.Micros(*d.SentAt))
	}
	return m, nil
}

func auditFields(r search.AuditRecord) (map[string]any, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		fieldKind:    kindAudit,
		fieldDoc:     string(raw),
		"actor":      r.Actor,
		"enterprise": r.Enterprise,
		"type":       r.Type,
		"stream":     r.Stream,
		"summary":    r.Summary,
		"visible":    r.Visible,
		atField:      float64(search.Micros(r.At)),
		positionKey:  float64(r.Position),
	}, nil
}
