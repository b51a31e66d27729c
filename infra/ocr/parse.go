package ocr

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Labels printed on a business licence, longest first where one contains
// another; any of them ends the value of the field before it, since OCR reads
// the two columns of a licence into one line.
var licenseLabels = []string{
	"统一社会信用代码", "主要经营场所", "执行事务合伙人", "企业名称", "法定代表人",
	"经营范围", "注册资本", "出资额", "成立日期", "注册日期", "营业期限", "合伙期限",
	"经营场所", "营业场所", "组成形式", "登记机关", "经营者", "负责人", "投资人",
	"名称", "类型", "住所",
}

// Who represents the business, in the order a licence could name them.
var legalRepLabels = []string{"法定代表人", "经营者", "执行事务合伙人", "负责人", "投资人"}

var portraitLabels = []string{"公民身份号码", "身份号码", "姓名", "性别", "民族", "出生", "住址"}

var emblemLabels = []string{"签发机关", "有效期限", "有效期"}

// ParseLicense picks the fields out of tesseract's reading of a business
// licence. Fields it cannot find are empty.
func ParseLicense(text string) LicenseFields {
	lines := normalize(text)
	name := fieldAfter(lines, []string{"企业名称", "名称"}, licenseLabels)
	if strings.Trim(name, "*/") == "" || name == "无" {
		name = "" // sole proprietors without a trade name print "***" or "/"
	}
	var rep string
	for _, l := range legalRepLabels {
		if rep = fieldAfter(lines, []string{l}, licenseLabels); rep != "" {
			break
		}
	}
	// Registered names write brackets and colons full-width; OCR may not.
	fullWidth := strings.NewReplacer("(", "（", ")", "）", ":", "：")
	return LicenseFields{
		Name:     fullWidth.Replace(name),
		USCC:     findCode(lines, []string{"统一社会信用代码", "社会信用代码", "信用代码"}, usccRun, usccShape, validUSCC, usccRepair),
		LegalRep: fullWidth.Replace(rep),
	}
}

// ParsePortrait picks the fields out of tesseract's reading of the portrait
// side of an identity card.
func ParsePortrait(text string) PortraitFields {
	lines := normalize(text)
	return PortraitFields{
		Name:     fieldAfter(lines, []string{"姓名"}, portraitLabels),
		IDNumber: findCode(lines, []string{"公民身份号码", "身份号码", "号码"}, idRun, idShape, validIDNumber, idRepair),
	}
}

// ParseEmblem picks the fields out of tesseract's reading of the emblem side
// of an identity card.
func ParseEmblem(text string) EmblemFields {
	lines := normalize(text)
	f := EmblemFields{Authority: fieldAfter(lines, []string{"签发机关"}, emblemLabels)}
	rest := ""
	if i, end := findLine(lines, []string{"有效期限", "有效期"}); i >= 0 {
		rest = lines[i][end:]
		if i+1 < len(lines) {
			rest += " " + lines[i+1]
		}
	} else {
		rest = strings.Join(lines, " ")
	}
	compact := strings.Map(dropSpace, rest)
	dates := dateRun.FindAllStringSubmatchIndex(compact, -1)
	var found []string
	for _, m := range dates {
		if d, ok := date(compact, m); ok {
			found = append(found, d)
			if len(found) == 1 {
				// 长期 follows the first date when the card never expires.
				if strings.Contains(compact[m[1]:], "长期") {
					f.ValidUntil = "长期"
					break
				}
			}
		}
		if len(found) == 2 {
			break
		}
	}
	if len(found) > 0 {
		f.ValidFrom = found[0]
	}
	if len(found) > 1 {
		f.ValidUntil = found[1]
	}
	return f
}

var dateRun = regexp.MustCompile(`(\d{4})[.\-·,，。、/]?(\d{2})[.\-·,，。、/]?(\d{2})`)

func date(s string, m []int) (string, bool) {
	d := s[m[2]:m[3]] + "-" + s[m[4]:m[5]] + "-" + s[m[6]:m[7]]
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Year() < 1900 || t.Year() > 2199 {
		return "", false
	}
	return d, true
}

// normalize undoes what OCR does to Chinese text: full-width Latin letters
// and digits become ASCII, labels printed with their characters spread out
// are joined, and the spaces OCR puts between Han characters go. A run of
// columnGap or more spaces, which is how tesseract renders the gap between
// the two columns of a licence, becomes a tab. It returns the non-empty
// lines, each with single spaces.
func normalize(text string) []string {
	text = strings.ToValidUTF8(text, "")
	var lines []string
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == '\f' || r == '\v' }) {
		raw = spreadLabel.ReplaceAllStringFunc(strings.Map(fold, raw), func(l string) string {
			return strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Han, r) {
					return r
				}
				return -1
			}, l)
		})
		rs := []rune(raw)
		var b strings.Builder
		for i := 0; i < len(rs); i++ {
			if rs[i] != ' ' {
				b.WriteRune(rs[i])
				continue
			}
			j := i
			for j < len(rs) && rs[j] == ' ' {
				j++
			}
			switch {
			case b.Len() == 0 || j == len(rs):
			case j-i >= columnGap:
				b.WriteByte('\t')
			case !wide(rs[i-1]) && !wide(rs[j]):
				b.WriteByte(' ')
			}
			i = j - 1
		}
		if b.Len() > 0 {
			lines = append(lines, b.String())
		}
	}
	return lines
}

const columnGap = 4

// spreadLabel matches the labels printed with spaced-out characters, and
// the specks OCR finds in the spaces.
var spreadLabel = func() *regexp.Regexp {
	var alts []string
	for _, l := range slices.Concat(licenseLabels, portraitLabels, emblemLabels) {
		if utf8.RuneCountInString(l) > 1 {
			alts = append(alts, strings.Join(strings.Split(l, ""), `[ \pP]{0,10}`))
		}
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}()

func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E && r != '（' && r != '）' && r != '：':
		// full-width ASCII, but for the brackets and colon Chinese text
		// writes full-width
		return r - 0xFEE0
	case r == 0x3000 || r == '\t' || r == 0xA0 || r == 0x2002 || r == 0x2003:
		return ' '
	case r == 0x2022 || r == 0x30FB || r == 0x2027: // dots OCR reads for the · in minority names
		return 0xB7
	}
	return r
}

// wide is a character after or before which OCR's spaces mean nothing.
func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF) || r == 0xB7 || r == ':'
}

func dropSpace(r rune) rune {
	if r == ' ' {
		return -1
	}
	return r
}

// findLine returns the first line holding one of labels (earlier labels win)
// and the byte offset just past it, or -1.
func findLine(lines []string, labels []string) (int, int) {
	for _, l := range labels {
		for i, line := range lines {
			if k := strings.Index(line, l); k >= 0 {
				return i, k + len(l)
			}
		}
	}
	return -1, 0
}

// fieldAfter returns the text after the first of labels, up to the next of
// stops or the next column; when nothing follows the label on its line, the
// value is on the next line.
func fieldAfter(lines []string, labels, stops []string) string {
	i, end := findLine(lines, labels)
	if i < 0 {
		return ""
	}
	for _, cell := range strings.Split(lines[i][end:], "\t") {
		if v := clean(cutAt(cell, stops)); v != "" {
			return v
		}
		if cutAt(cell, stops) != cell {
			return "" // the next label came first: this field is empty
		}
	}
	if i+1 < len(lines) {
		next, _, _ := strings.Cut(lines[i+1], "\t")
		if cutAt(next, stops) == next {
			return clean(next)
		}
	}
	return ""
}

func cutAt(s string, stops []string) string {
	for _, st := range stops {
		if k := strings.Index(s, st); k >= 0 {
			s = s[:k]
		}
	}
	return s
}

// clean trims the separators and specks OCR leaves around a value.
func clean(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("()（）*/", r)
	})
}

var (
	usccRun = regexp.MustCompile(`[0-9A-Z]{18,}`)
	idRun   = regexp.MustCompile(`[0-9]{17,}[0-9X]?`)
	// A code's characters 3 to 8 are the digits of a region.
	usccShape = regexp.MustCompile(`^[0-9A-Z]{2}[0-9]{6}[0-9A-Z]{10}$`)
	idShape   = regexp.MustCompile(`^[0-9]{17}[0-9X]$`)
)

var (
	usccRepair = strings.NewReplacer("O", "0", "I", "1", "Z", "2", "S", "5")
	idRepair   = strings.NewReplacer("O", "0", "D", "0", "I", "1", "L", "1", "|", "1", "B", "8")
)

// findCode finds an 18-character code: first on the line of one of labels
// and the line after it, then anywhere. A candidate whose check character
// holds wins; failing that, one that holds after undoing the usual OCR
// confusions (repair); failing that, the first candidate of the right shape
// as read, since a user correcting one character is better off than one
// typing eighteen.
func findCode(lines, labels []string, run, shape *regexp.Regexp, valid func(string) bool, repair *strings.Replacer) string {
	var near string
	if i, end := findLine(lines, labels); i >= 0 {
		near = lines[i][end:]
		if i+1 < len(lines) {
			near += "\n" + lines[i+1]
		}
	}
	compact := func(s string) string { return strings.ToUpper(strings.Map(dropSpace, s)) }
	var first string
	for _, s := range []string{compact(near), repair.Replace(compact(near))} {
		for _, c := range windows(run, s) {
			if valid(c) {
				return c
			}
			if first == "" && shape.MatchString(c) {
				first = c
			}
		}
	}
	// Elsewhere on the page only a code that checks out is believable, unless
	// no label was read at all.
	for _, line := range lines {
		for _, c := range windows(run, compact(line)) {
			if valid(c) {
				return c
			}
			if first == "" && near == "" && shape.MatchString(c) {
				first = c
			}
		}
	}
	return first
}

// windows returns every 18-character stretch of each match of run in s, so
// a code OCR glued to a neighbouring character is still found. Dropping a
// character OCR read too many is not tried: of nineteen ways to drop one, a
// wrong one passes the check too often.
func windows(run *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range run.FindAllString(s, 20) {
		for k := 0; k+18 <= len(m) && k < 8; k++ {
			out = append(out, m[k:k+18])
		}
	}
	return out
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// validUSCC checks the GB 32100-2015 check character.
func validUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccChars, s[i])
		if v < 0 {
			return false
		}
		sum += v * usccWeights[i]
	}
	return s[17] == usccChars[(31-sum%31)%31]
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// validIDNumber checks the GB 11643-1999 check character.
func validIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	return s[17] == "10X98765432"[sum%11]
}
