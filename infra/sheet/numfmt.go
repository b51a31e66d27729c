package sheet

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// numKind is what a cell's number format makes of a number.
type numKind uint8

const (
	numGeneral  numKind = iota
	numDate             // a day
	numTime             // a time of day
	numDateTime         // both
	numPadded           // an integer padded with zeros, format "000000"
)

type numFmt struct {
	kind numKind
	pad  int // digits of numPadded
}

// builtinDates are the built-in number format IDs that show dates or times
// (ECMA-376 18.8.30), with the East Asian ones Chinese Excel uses (27-36,
// 50-58, e.g. 31 = yyyy"年"m"月"d"日").
var builtinDates = map[int]numKind{
	14: numDate, 15: numDate, 16: numDate, 17: numDate,
	18: numTime, 19: numTime, 20: numTime, 21: numTime, 22: numDateTime,
	45: numTime, 46: numTime, 47: numTime,
	27: numDate, 28: numDate, 29: numDate, 30: numDate, 31: numDate,
	32: numTime, 33: numTime, 34: numTime, 35: numTime, 36: numDate,
	50: numDate, 51: numDate, 52: numDate, 53: numDate, 54: numDate,
	55: numTime, 56: numTime, 57: numDate, 58: numDate,
}

// classifyFormat reads a format code's first section: quoted text, escaped
// characters, [colour]/[$-804] brackets and _x / *x fillers are skipped;
// y, d, m alone mean a date, h, s, [h] a time (m beside them is minutes).
func classifyFormat(code string) numFmt {
	if sec, _, ok := strings.Cut(code, ";"); ok {
		code = sec
	}
	if strings.EqualFold(strings.TrimSpace(code), "general") {
		return numFmt{}
	}
	var date, month, clock bool
	zeros, other := 0, 0
	rs := []rune(code)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '"':
			for i++; i < len(rs) && rs[i] != '"'; i++ {
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := i + 1
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if in := strings.ToLower(string(rs[i+1 : min(j, len(rs))])); in != "" && strings.Trim(in, "hms") == "" {
				clock = true // elapsed time: [h]:mm
			}
			i = j
		case 'y', 'Y', 'd', 'D':
			date = true
		case 'm', 'M':
			month = true
		case 'h', 'H', 's', 'S':
			clock = true
		case '0':
			zeros++
		default:
			other++
		}
	}
	switch {
	case (date || month && !clock) && clock:
		return numFmt{kind: numDateTime}
	case date || month && !clock:
		return numFmt{kind: numDate}
	case clock:
		return numFmt{kind: numTime}
	case zeros > 1 && other == 0:
		return numFmt{kind: numPadded, pad: zeros}
	}
	return numFmt{}
}

// formatNumber renders the raw value of a numeric cell as its format shows
// it: dates as 2026-12-31 (15:04), other numbers as the shortest decimal
// of the 15 significant digits Excel keeps, never with an exponent.
func formatNumber(raw string, f numFmt, date1904 bool) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return raw
	}
	if f.kind == numDate || f.kind == numTime || f.kind == numDateTime {
		if s, ok := formatSerial(v, f.kind, date1904); ok {
			return s
		}
	}
	s := decimal(v)
	if f.kind == numPadded && v >= 0 && v < 1e15 && v == math.Trunc(v) && len(s) < f.pad {
		s = strings.Repeat("0", f.pad-len(s)) + s
	}
	return s
}

// decimal is v rounded to 15 significant digits, without exponent.
func decimal(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	if r == 0 {
		return "0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

var (
	epoch1900 = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	epoch1904 = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
)

// maxSerial is 9999-12-31, the last day Excel knows.
const maxSerial = 2958465

// formatSerial renders an Excel date serial number (days since the
// workbook's epoch, the fraction being the time of day, to the second).
func formatSerial(v float64, kind numKind, date1904 bool) (string, bool) {
	if v < 0 || v >= maxSerial+1 {
		return "", false
	}
	secs := int64(math.Round(v * 86400))
	days, rem := secs/86400, secs%86400
	clock := time.Duration(rem) * time.Second
	layout := "15:04"
	if rem%60 != 0 {
		layout = "15:04:05"
	}
	if kind == numTime && days == 0 {
		return time.Time{}.Add(clock).Format(layout), true
	}
	var day time.Time
	if date1904 {
		day = epoch1904.AddDate(0, 0, int(days))
	} else {
		if days == 60 {
			// Excel's 1900-02-29, which never was (kept from Lotus 1-2-3).
			return withClock("1900-02-29", kind, clock, layout), true
		}
		if days < 60 {
			days++
		}
		day = epoch1900.AddDate(0, 0, int(days))
	}
	return withClock(day.Format("2006-01-02"), kind, clock, layout), true
}

func withClock(day string, kind numKind, clock time.Duration, layout string) string {
	if kind == numDate {
		return day
	}
	return day + " " + time.Time{}.Add(clock).Format(layout)
}

// formatISODate renders a t="d" cell (an ISO 8601 date written instead of a
// serial number) like a serial one.
func formatISODate(raw string) string {
	s := strings.TrimSpace(raw)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02")
		}
		if t.Second() != 0 {
			return t.Format("2006-01-02 15:04:05")
		}
		return t.Format("2006-01-02 15:04")
	}
	return s
}
