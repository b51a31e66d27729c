package carrier

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
)

var _ Checker = (*Dev)(nil)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestDevRules(t *testing.T) {
	tests := []struct {
		name, id, phone string
		want            Result
		errCode         string
	}{
		{"张三", "110101199003071234", "13800138000", Result{Match: true}, ""},
		{"张三", "110101199003071234", "13800130000", Result{Reason: ReasonPhoneNotOwned}, ""},
		{"张错", "110101199003071234", "13800138000", Result{Reason: ReasonNameMismatch}, ""},
		{"张错", "110101199003071234", "13800130000", Result{Reason: ReasonPhoneNotOwned}, ""},
		{"张三", "110101199003071234", "13800000001", Result{Match: true}, ""},
		{"张三", "110101199003071234", "13800139999", Result{}, "carrier_unavailable"},
		{"", "110101199003071234", "13800138000", Result{}, "required"},
		{"张三", " ", "13800138000", Result{}, "required"},
		{"张三", "110101199003071234", "", Result{}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.phone, func(t *testing.T) {
			d := NewDev(clock.NewFake(t0))
			got, err := d.Check(context.Background(), tt.name, tt.id, tt.phone)
			if tt.errCode != "" {
				f, ok := fault.As(err)
				if !ok || f.Code != tt.errCode {
					t.Fatalf("err %v, want %s", err, tt.errCode)
				}
				if n := len(d.Checks()); n != 0 {
					t.Errorf("refused check recorded (%d)", n)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Check = %+v, %v; want %+v", got, err, tt.want)
			}
			cs := d.Checks()
			want := Check{Name: tt.name, IDNumber: tt.id, Phone: tt.phone, Result: tt.want, At: t0}
			if len(cs) != 1 || cs[0] != want {
				t.Fatalf("Checks = %+v", cs)
			}
		})
	}
}

func TestUnavailableIsRetryable(t *testing.T) {
	_, err := NewDev(nil).Check(context.Background(), "张三", "110101199003071234", "13800139999")
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Unavailable || f.RetryAfter <= 0 {
		t.Fatalf("err %#v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewDev(nil).Check(ctx, "张三", "110101199003071234", "13800138000"); err != context.Canceled {
		t.Fatalf("err %v", err)
	}
}

func TestCheckStringMasks(t *testing.T) {
	c := Check{Name: "张三丰", IDNumber: "110101199003071234", Phone: "13812345678", Result: Result{Reason: ReasonNameMismatch}, At: t0}
	s := c.String()
	for _, secret := range []string{"三丰", "19900307", "1234567", "2345"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q leaks %q", s, secret)
		}
	}
	for _, kept := range []string{"张**", "1101**********1234", "138****5678", ReasonNameMismatch} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q lacks %q", s, kept)
		}
	}
	if fmt.Sprint(c) != s {
		t.Error("fmt does not use String")
	}
	short := Check{Name: "张", IDNumber: "123", Phone: "1"}.String()
	if !strings.HasPrefix(short, "carrier check * *** *:") {
		t.Errorf("short values leak: %q", short)
	}
}

func TestDevConcurrent(t *testing.T) {
	d := NewDev(nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if _, err := d.Check(context.Background(), "李四", "110101199003071234", fmt.Sprintf("1380013%04d", i)); err != nil {
				t.Error(err)
			}
			_ = d.Checks()
		})
	}
	wg.Wait()
	if n := len(d.Checks()); n != 50 {
		t.Fatalf("%d checks recorded", n)
	}
}

func TestDevKeepsLastRecords(t *testing.T) {
	d := NewDev(nil)
	for i := range maxRecords + 5 {
		d.Check(context.Background(), "王五", fmt.Sprint(i), "13800138000")
	}
	cs := d.Checks()
	if len(cs) != maxRecords || cs[0].IDNumber != "5" {
		t.Fatalf("%d records, first %q", len(cs), cs[0].IDNumber)
	}
}
