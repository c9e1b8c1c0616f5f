package commands

import (
	"testing"
	"time"

	"box/storage"
)

func TestHistoryRows(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	created := time.Date(2024, 9, 6, 0, 0, 0, 0, time.UTC)
	long := "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.20.3-x86_64.tar.gz in / "
	entries := []storage.HistoryEntry{
		{ID: "sha256:" + idA, Created: created, CreatedBy: "/bin/sh -c #(nop)\tCMD [\"/bin/sh\"]"},
		{ID: "<missing>", Created: created, CreatedBy: long, Size: 8_090_969, Comment: "imported"},
		{ID: "<missing>"},
	}
	for _, c := range []struct {
		name         string
		trunc, human bool
		want         []historyRow
	}{
		{"default", true, true, []historyRow{
			{ID: "1efcd73fce9d", CreatedSince: "2 years ago", CreatedBy: "/bin/sh -c #(nop) CMD [\"/bin/sh\"]", Size: "0B"},
			{ID: "<missing>", CreatedSince: "2 years ago", CreatedBy: long[:44] + "…", Size: "8.09MB", Comment: "imported"},
			{ID: "<missing>", CreatedSince: "56 years ago", Size: "0B"},
		}},
		{"no-trunc, not human", false, false, []historyRow{
			{ID: "sha256:" + idA, CreatedSince: "2024-09-06T00:00:00Z", CreatedBy: "/bin/sh -c #(nop) CMD [\"/bin/sh\"]", Size: "0"},
			{ID: "<missing>", CreatedSince: "2024-09-06T00:00:00Z", CreatedBy: long, Size: "8090969", Comment: "imported"},
			{ID: "<missing>", CreatedSince: "1970-01-01T00:00:00Z", Size: "0"},
		}},
	} {
		got := historyRows(entries, c.trunc, c.human, now)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d rows, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			g, w := got[i], c.want[i]
			g.CreatedAt = "" // checked below
			if g != w {
				t.Errorf("%s, row %d:\ngot  %+v\nwant %+v", c.name, i, g, w)
			}
		}
		if got[0].CreatedAt != "2024-09-06T00:00:00Z" {
			t.Errorf("%s: CreatedAt %q, want RFC 3339 in UTC", c.name, got[0].CreatedAt)
		}
	}
}
