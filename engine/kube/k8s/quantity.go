package k8s

import (
	"fmt"
	"math/big"
	"strings"
)

// Quantity is a resource quantity as Kubernetes writes it: "128Mi",
// "500m", "1.5", "2e3".
type Quantity string

var suffixes = map[string]*big.Rat{
	"n": big.NewRat(1, 1_000_000_000), "u": big.NewRat(1, 1_000_000), "m": big.NewRat(1, 1000), "": big.NewRat(1, 1),
	"k": big.NewRat(1e3, 1), "M": big.NewRat(1e6, 1), "G": big.NewRat(1e9, 1), "T": big.NewRat(1e12, 1),
	"P": big.NewRat(1e15, 1), "E": big.NewRat(1e18, 1),
	"Ki": big.NewRat(1<<10, 1), "Mi": big.NewRat(1<<20, 1), "Gi": big.NewRat(1<<30, 1), "Ti": big.NewRat(1<<40, 1),
	"Pi": big.NewRat(1<<50, 1), "Ei": big.NewRat(1<<60, 1),
}

// rat is q's exact value.
func (q Quantity) rat() (*big.Rat, error) {
	s := string(q)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '+' && r != '-' })
	num, suffix := s, ""
	if i >= 0 {
		num, suffix = s[:i], s[i:]
	}
	v, ok := new(big.Rat).SetString(num)
	if num == "" || !ok {
		return nil, fmt.Errorf("quantity %q is not a number", s)
	}
	if m, ok := suffixes[suffix]; ok {
		return v.Mul(v, m), nil
	}
	if len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E') {
		var exp int
		if _, err := fmt.Sscanf(suffix[1:], "%d", &exp); err == nil && exp >= -18 && exp <= 18 {
			p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil))
			if exp < 0 {
				p.Inv(p)
			}
			return v.Mul(v, p), nil
		}
	}
	return nil, fmt.Errorf("quantity %q: unknown suffix %q", s, suffix)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// ceil is r rounded up to an integer, as Kubernetes rounds Value.
func ceil(r *big.Rat) (int64, error) {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("quantity out of range")
	}
	return q.Int64(), nil
}

// Value is q in units (bytes for memory), rounded up.
func (q Quantity) Value() (int64, error) {
	r, err := q.rat()
	if err != nil {
		return 0, err
	}
	return ceil(r)
}

// MilliValue is q in thousandths (millicores for CPU), rounded up.
func (q Quantity) MilliValue() (int64, error) {
	r, err := q.rat()
	if err != nil {
		return 0, err
	}
	return ceil(r.Mul(r, big.NewRat(1000, 1)))
}

// BinaryQuantity is n (bytes) in the largest binary unit that holds it
// whole: "128Mi".
func BinaryQuantity(n int64) Quantity {
	for _, u := range []string{"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"} {
		if d := suffixes[u].Num().Int64(); n != 0 && n%d == 0 {
			return Quantity(fmt.Sprintf("%d%s", n/d, u))
		}
	}
	return Quantity(fmt.Sprint(n))
}

// MilliQuantity is n thousandths: "500m", or "2" for 2000.
func MilliQuantity(n int64) Quantity {
	if n%1000 == 0 {
		return Quantity(fmt.Sprint(n / 1000))
	}
	return Quantity(fmt.Sprintf("%dm", n))
}
