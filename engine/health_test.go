package engine

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"box/storage"
)

func TestHealthOptionsConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts HealthOptions
		want *storage.HealthConfig
		err  string
	}{
		{name: "none given", opts: HealthOptions{}, want: nil},
		{name: "cmd", opts: HealthOptions{Cmd: "test -f /ok", Interval: time.Second, Retries: 2},
			want: &storage.HealthConfig{Test: []string{"CMD-SHELL", "test -f /ok"}, Interval: time.Second, Retries: 2}},
		{name: "exec form", opts: HealthOptions{Exec: []string{"wget", "-q", "http://x/a b"}},
			want: &storage.HealthConfig{Test: []string{"CMD", "wget", "-q", "http://x/a b"}}},
		{name: "cmd and exec", opts: HealthOptions{Cmd: "true", Exec: []string{"true"}}, err: "a healthcheck is either a shell command or an exec form, not both"},
		{name: "settings without cmd", opts: HealthOptions{Timeout: time.Second},
			want: &storage.HealthConfig{Timeout: time.Second}},
		{name: "disable", opts: HealthOptions{Disable: true}, want: &storage.HealthConfig{Test: []string{"NONE"}}},
		{name: "disable with cmd", opts: HealthOptions{Disable: true, Cmd: "true"}, err: "--no-healthcheck conflicts with --health-* options"},
		{name: "disable with start interval", opts: HealthOptions{Disable: true, StartInterval: time.Second}, err: "--no-healthcheck conflicts with --health-* options"},
		{name: "negative interval", opts: HealthOptions{Interval: -time.Second}, err: "--health-interval cannot be negative"},
		{name: "negative retries", opts: HealthOptions{Retries: -1}, err: "--health-retries cannot be negative"},
		{name: "negative start interval", opts: HealthOptions{StartInterval: -1}, err: "--health-start-interval cannot be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.config()
			if tc.err != "" {
				var u *UsageError
				if err == nil || err.Error() != tc.err || !errors.As(err, &u) {
					t.Fatalf("err = %v, want usage error %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("config() = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
