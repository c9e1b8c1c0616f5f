package k8s

import "testing"

func TestQuantity(t *testing.T) {
	for _, c := range []struct {
		q           Quantity
		value, mill int64
	}{
		{"128Mi", 128 << 20, 128 << 20 * 1000},
		{"500m", 1, 500},
		{"1.5", 2, 1500},
		{"2", 2, 2000},
		{"1G", 1e9, 1e12},
		{"2e3", 2000, 2e6},
		{"0.5Gi", 512 << 20, 512 << 20 * 1000},
		{"100u", 1, 1},
	} {
		v, err := c.q.Value()
		m, err2 := c.q.MilliValue()
		if err != nil || err2 != nil || v != c.value || m != c.mill {
			t.Errorf("%s: Value %d %v, MilliValue %d %v; want %d, %d", c.q, v, err, m, err2, c.value, c.mill)
		}
	}
	for _, q := range []Quantity{"", "Mi", "12X", "1e99", "--1"} {
		if _, err := q.Value(); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
	if BinaryQuantity(128<<20) != "128Mi" || BinaryQuantity(1000) != "1000" || BinaryQuantity(3<<30) != "3Gi" {
		t.Error("BinaryQuantity")
	}
	if MilliQuantity(500) != "500m" || MilliQuantity(2000) != "2" {
		t.Error("MilliQuantity")
	}
}
