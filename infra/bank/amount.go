package bank

import (
	"math"
	"strconv"
	"strings"

	"signet/domain/fault"
)

// FormatFen writes an amount of fen as yuan with two decimals: 1 -> "0.01".
func FormatFen(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen) // two's complement: right for MinInt64 too
	}
	cents := u % 100
	s := strconv.FormatUint(u/100, 10) + "."
	if cents < 10 {
		s += "0"
	}
	return sign + s + strconv.FormatUint(cents, 10)
}

// maxYuanInput bounds what ParseYuan reads; no amount needs more.
const maxYuanInput = 64

// ParseYuan reads an amount of yuan typed by a person ("0.37", "0.1",
// ".37", "0.370", "12") into fen. Surrounding spaces are ignored; signs,
// separators and more than two significant decimals are refused with
// fault.Invalid on field "amount".
func ParseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxYuanInput {
		return 0, badAmount()
	}
	whole, frac, dot := strings.Cut(s, ".")
	if (whole == "" && frac == "") || (dot && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, badAmount()
	}
	if len(strings.TrimRight(frac, "0")) > 2 {
		return 0, fault.Invalidf("amount", "amount_too_precise", "Enter the amount with at most two decimals (fen), like 0.37.")
	}
	var cents int64
	for i := range 2 {
		cents *= 10
		if i < len(frac) {
			cents += int64(frac[i] - '0')
		}
	}
	var yuan int64
	for i := 0; i < len(whole); i++ {
		if yuan > math.MaxInt64/100/10 {
			return 0, tooLarge()
		}
		yuan = yuan*10 + int64(whole[i]-'0')
	}
	if yuan > (math.MaxInt64-cents)/100 {
		return 0, tooLarge()
	}
	return yuan*100 + cents, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func badAmount() error {
	return fault.Invalidf("amount", "invalid_amount", "Enter the amount in yuan with digits and at most one decimal point, like 0.37.")
}

func tooLarge() error {
	return fault.Invalidf("amount", "amount_too_large", "The amount is too large.")
}
