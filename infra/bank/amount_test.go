package bank

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"signet/domain/fault"
)

func TestFormatFen(t *testing.T) {
	tests := []struct {
		fen  int64
		want string
	}{
		{0, "0.00"}, {1, "0.01"}, {9, "0.09"}, {10, "0.10"}, {37, "0.37"}, {99, "0.99"},
		{100, "1.00"}, {123456, "1234.56"}, {-1, "-0.01"}, {-12345, "-123.45"},
		{math.MaxInt64, "92233720368547758.07"}, {math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := FormatFen(tt.fen); got != tt.want {
			t.Errorf("FormatFen(%d) = %q, want %q", tt.fen, got, tt.want)
		}
	}
}

func TestParseYuan(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		code string
	}{
		{"0.37", 37, ""},
		{"0.1", 10, ""},
		{".37", 37, ""},
		{"0.370", 37, ""},
		{"0.3700000", 37, ""},
		{"0.01", 1, ""},
		{"1", 100, ""},
		{"12.5", 1250, ""},
		{"007.05", 705, ""},
		{" 0.37 ", 37, ""},
		{"0", 0, ""},
		{"0.00", 0, ""},
		{"92233720368547758.07", math.MaxInt64, ""},
		{"0.371", 0, "amount_too_precise"},
		{"0.3701", 0, "amount_too_precise"},
		{"0.001", 0, "amount_too_precise"},
		{"92233720368547758.08", 0, "amount_too_large"},
		{"92233720368547759", 0, "amount_too_large"},
		{"99999999999999999999999", 0, "amount_too_large"},
		{"", 0, "invalid_amount"},
		{" ", 0, "invalid_amount"},
		{".", 0, "invalid_amount"},
		{"1.", 0, "invalid_amount"},
		{"-0.37", 0, "invalid_amount"},
		{"+0.37", 0, "invalid_amount"},
		{"0,37", 0, "invalid_amount"},
		{"1,000.00", 0, "invalid_amount"},
		{"0.3.7", 0, "invalid_amount"},
		{"1e2", 0, "invalid_amount"},
		{"¥0.37", 0, "invalid_amount"},
		{"０.３７", 0, "invalid_amount"},
		{"0x10", 0, "invalid_amount"},
		{"0. 37", 0, "invalid_amount"},
		{"0.37元", 0, "invalid_amount"},
		{"0." + strings.Repeat("0", 70), 0, "invalid_amount"},
	}
	for _, tt := range tests {
		got, err := ParseYuan(tt.in)
		if tt.code == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseYuan(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid || f.Field != "amount" || f.Code != tt.code {
			t.Errorf("ParseYuan(%q) = %d, %v; want %s on amount", tt.in, got, err, tt.code)
		}
	}
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"0.37", ".1", "0.370", "1.", "92233720368547758.07", "-1", " 12 ", "0.0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseYuan(s)
		if err != nil {
			if f, ok := fault.As(err); !ok || f.Field != "amount" {
				t.Fatalf("ParseYuan(%q): %v", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseYuan(%q) = %d", s, n)
		}
		if back, err := ParseYuan(FormatFen(n)); err != nil || back != n {
			t.Fatalf("ParseYuan(%q) = %d, but FormatFen gives %q -> %d, %v", s, n, FormatFen(n), back, err)
		}
		// Agrees with a float parse up to float precision.
		if x, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil || math.Abs(x*100-float64(n)) > 1+math.Abs(x)*1e-12 {
			t.Fatalf("ParseYuan(%q) = %d, ParseFloat %v, %v", s, n, x, err)
		}
	})
}

func FuzzFormatFen(f *testing.F) {
	for _, n := range []int64{0, 1, -1, 99, 100, math.MaxInt64, math.MinInt64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		s := FormatFen(n)
		if n < 0 {
			if !strings.HasPrefix(s, "-") {
				t.Fatalf("FormatFen(%d) = %q", n, s)
			}
			if n == math.MinInt64 {
				return
			}
			s, n = s[1:], -n
		}
		if back, err := ParseYuan(s); err != nil || back != n {
			t.Fatalf("FormatFen(%d) = %q -> %d, %v", n, s, back, err)
		}
	})
}
