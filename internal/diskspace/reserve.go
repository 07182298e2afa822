package diskspace

import (
	"fmt"
	"strconv"
	"strings"
)

// Reserve is the free space to keep for deliveries: a number of bytes or
// a percentage of the file system. The zero value is the default, the
// smaller of 1 GiB and 5%, so a small disk is not declared full at once
// and a large one keeps a useful margin.
type Reserve struct {
	Bytes   uint64
	Percent float64 // of the file system's size, 0–100
	set     bool
}

// The default reserve: the smaller of these.
const (
	defaultBytes   = 1 << 30
	defaultPercent = 5
)

// units are the size suffixes ParseReserve accepts, longest first.
var units = []struct {
	suffix string
	mult   uint64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseReserve reads "1GiB", "500MB", "2G", "5%" or "0" (no reserve).
func ParseReserve(s string) (Reserve, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v >= 100 {
			return Reserve{}, fmt.Errorf("reserve %q: want a percentage below 100%%", s)
		}
		return Reserve{Percent: v, set: true}, nil
	}
	mult := uint64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || (mult > 1 && v > ^uint64(0)/mult) {
		return Reserve{}, fmt.Errorf("reserve %q: want a size such as 1GiB or 500MB, or a percentage such as 5%%", s)
	}
	return Reserve{Bytes: v * mult, set: true}, nil
}

// UnmarshalText lets the reserve be written as a string in TOML.
func (r *Reserve) UnmarshalText(b []byte) error {
	v, err := ParseReserve(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// bytesOf is the reserve on a file system of total bytes.
func (r Reserve) bytesOf(total uint64) uint64 {
	switch {
	case !r.set:
		return min(defaultBytes, uint64(float64(total)*defaultPercent/100))
	case r.Percent > 0:
		return uint64(float64(total) * r.Percent / 100)
	}
	return r.Bytes
}

func (r Reserve) String() string {
	switch {
	case !r.set:
		return "min(1GiB, 5%)"
	case r.Percent > 0:
		return strconv.FormatFloat(r.Percent, 'g', -1, 64) + "%"
	}
	return strconv.FormatUint(r.Bytes, 10) + "B"
}
