package build

import (
	"reflect"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	var cfg v1.ImageConfig
	changes, err := ParseChanges([]string{
		`CMD ["/bin/sh", "-c", "echo hi"]`,
		`ENTRYPOINT /init --flag`,
		`ENV A=1 B="two words"`,
		`ENV LEGACY some value`,
		`LABEL org.x=y`,
		`EXPOSE 80 53/udp`,
		`VOLUME ["/data"]`,
		`USER app`,
		`WORKDIR /srv`,
		`STOPSIGNAL SIGINT`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := changes.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	want := v1.ImageConfig{
		Cmd:          []string{"/bin/sh", "-c", "echo hi"},
		Entrypoint:   []string{"/bin/sh", "-c", "/init --flag"},
		Env:          []string{"A=1", "B=two words", "LEGACY=some value"},
		Labels:       map[string]string{"org.x": "y"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		User:         "app", WorkingDir: "/srv", StopSignal: "SIGINT",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	// `CMD [not json` is the shell form, as Docker reads it.
	for _, bad := range []string{`RUN make`, `FROM x`, `ENV`, `ENV A="unterminated`, `USER`, `FOO bar`} {
		if _, err := ParseChanges([]string{bad}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
