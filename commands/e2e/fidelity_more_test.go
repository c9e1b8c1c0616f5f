package e2e

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestFidelityCpMounts: cp into and out of a stopped container reaches
// its volumes and bind mounts, as Docker mounts them for the copy,
// instead of the rootfs beneath them (where a file named /data would
// stop the container from starting). A file bound read-only refuses a
// copy, running or not, and the host's file keeps its contents; so does
// the rootfs of a --read-only container.
func TestFidelityCpMounts(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-cpmnt-" + u.Mode
		vol := "fid-cpvol-" + u.Mode
		t.Cleanup(func() {
			u.Box(t, "rm", "-f", name, name+"-run")
			u.Box(t, "volume", "rm", "-f", vol)
		})
		bind := hostDir(t, u, map[string]string{"on-host.txt": "from the bind\n"}, nil)
		files := hostDir(t, u, map[string]string{"ro.txt": "read-only\n", "rw.txt": "writable\n"}, nil)
		src := hostDir(t, u, map[string]string{"f.txt": "copied in\n"}, nil)

		u.MustBox(t, "create", "--name", name, "-v", vol+":/data", "-v", bind+":/b",
			"-v", files+"/ro.txt:/etc/ro.txt:ro", "busybox", "sh", "-c", "cat /data/f.txt /b/f.txt /etc/ro.txt")
		u.MustBox(t, "cp", src+"/f.txt", name+":/data")
		u.MustBox(t, "cp", src+"/f.txt", name+":/b/")
		wantFile(t, bind+"/f.txt", "copied in\n", 0o644, u.UID)
		r := u.Box(t, "cp", src+"/f.txt", name+":/etc/ro.txt")
		if r.Code == 0 || !strings.Contains(r.Stderr, "read-only") {
			t.Fatalf("cp onto a read-only bound file of a stopped container: %s", r)
		}
		wantFile(t, files+"/ro.txt", "read-only\n", 0o644, u.UID)

		// Out of the stopped container: the bind's and the volume's files.
		r = u.MustBox(t, "cp", name+":/b/on-host.txt", "-")
		if got, _ := tarEntries(t, r.Stdout); got["on-host.txt"] != "from the bind\n" {
			t.Fatalf("cp out of a bind mount of a stopped container: %v", keys(got))
		}
		r = u.MustBox(t, "cp", name+":/data", "-")
		if got, _ := tarEntries(t, r.Stdout); got["data/f.txt"] != "copied in\n" {
			t.Fatalf("cp out of a volume of a stopped container: %v", keys(got))
		}
		// The volume holds the file; the container starts and sees it.
		r = u.MustBox(t, "run", "--rm", "-v", vol+":/v", "busybox", "cat", "/v/f.txt")
		wantOut(t, r, "copied in")
		r = u.MustBox(t, "start", "-a", name)
		if r.Stdout != "copied in\ncopied in\nread-only\n" {
			t.Fatalf("start after cp into its mounts: %s", r)
		}

		// A running container: the read-only file refuses, the writable
		// one takes the copy in place and stays the container's mount.
		run := name + "-run"
		u.MustBox(t, "run", "-d", "--name", run, "-v", files+"/ro.txt:/etc/ro.txt:ro",
			"-v", files+"/rw.txt:/etc/rw.txt", "busybox", "sleep", "600")
		r = u.Box(t, "cp", src+"/f.txt", run+":/etc/ro.txt")
		if r.Code == 0 || !strings.Contains(r.Stderr, "read-only") {
			t.Fatalf("cp onto a read-only bound file of a running container: %s", r)
		}
		u.MustBox(t, "cp", src+"/f.txt", run+":/etc/rw.txt")
		wantFile(t, files+"/rw.txt", "copied in\n", 0o644, u.UID)
		wantOut(t, u.MustBox(t, "exec", run, "cat", "/etc/ro.txt", "/etc/rw.txt"), "read-only\ncopied in")

		// --read-only: as Docker, cp writes the volumes of a stopped
		// container but not its rootfs.
		ro := name + "-ro"
		t.Cleanup(func() { u.Box(t, "rm", "-f", ro) })
		u.MustBox(t, "create", "--name", ro, "--read-only", "-v", bind+":/b", "busybox", "true")
		if r := u.Box(t, "cp", src+"/f.txt", ro+":/"); r.Code == 0 || !strings.Contains(r.Stderr, "read-only") {
			t.Fatalf("cp into the rootfs of a stopped --read-only container: %s", r)
		}
		u.MustBox(t, "cp", src+"/f.txt", ro+":/b/ro-ctr.txt")
		wantFile(t, bind+"/ro-ctr.txt", "copied in\n", 0o644, u.UID)
	})
}

// TestFidelityCpOwners: a tar on stdin keeps its owners, as Docker's
// does; a copy from the host belongs to the container's root, or with -a
// keeps the source's ids. A user without a subordinate range has only
// root to give: the copy still succeeds, owned by root.
func TestFidelityCpOwners(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-cpown-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", "600")

		archive := cpTar(t,
			&tar.Header{Name: "o1", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1234, Gid: 5678, Linkname: "one"},
			&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 42, Gid: 43},
			&tar.Header{Name: "dir/o2", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 7, Gid: 8, Linkname: "two"},
			&tar.Header{Name: "dir/ln", Typeflag: tar.TypeSymlink, Uid: 9, Gid: 10, Linkname: "o2"},
		)
		u.MustBox(t, "exec", name, "mkdir", "/tmp/in")
		r := u.BoxIn(t, archive, "cp", "-", name+":/tmp/in/")
		wantCode(t, r, 0)
		want := "1234:5678 42:43 7:8 9:10"
		if u.Mode == "norange" {
			want = "0:0 0:0 0:0 0:0"
		}
		r = u.MustBox(t, "exec", name, "stat", "-c", "%u:%g", "/tmp/in/o1", "/tmp/in/dir", "/tmp/in/dir/o2", "/tmp/in/dir/ln")
		if got := strings.Join(strings.Fields(r.Stdout), " "); got != want {
			t.Fatalf("owners after cp of a tar on stdin: %q, want %q", got, want)
		}

		// From the host: root's without -a, the source's with it.
		host := hostDir(t, u, map[string]string{"d/a": "a\n"}, nil)
		owner := "0:0"
		if u.Mode != "norange" {
			// An id inside the container: 1234 there is a subordinate id
			// on the host (for root the same number).
			u.MustBox(t, "run", "--rm", "-v", host+":/h", "busybox", "chown", "1234:2345", "/h/d/a")
			owner = "1234:2345"
		}
		u.MustBox(t, "cp", host+"/d", name+":/tmp/plain")
		u.MustBox(t, "cp", "-a", host+"/d", name+":/tmp/kept")
		r = u.MustBox(t, "exec", name, "stat", "-c", "%u:%g", "/tmp/plain/a", "/tmp/kept/a")
		if got := strings.Join(strings.Fields(r.Stdout), " "); got != "0:0 "+owner {
			t.Fatalf("cp and cp -a of a file of %s: %q, want %q", owner, got, "0:0 "+owner)
		}
	})
}

// TestFidelityBuildCopyHardLinks: COPY of a directory keeps its hard
// links as links (one inode, three names), as BuildKit does.
func TestFidelityBuildCopyHardLinks(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		tag := "fid-hardlinks-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rmi", "-f", tag) })
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nCOPY d /d\n",
			"d/a":        "linked\n",
			"d/single":   "alone\n",
		})
		for _, n := range []string{"b", "c"} {
			if err := os.Link(filepath.Join(ctx, "d/a"), filepath.Join(ctx, "d", n)); err != nil {
				t.Fatal(err)
			}
		}
		u.MustBox(t, "build", "-q", "-t", tag, ctx)
		r := u.MustBox(t, "run", "--rm", tag, "stat", "-c", "%h %i", "/d/a", "/d/b", "/d/c", "/d/single")
		lines := outLines(r.Stdout)
		if len(lines) != 4 || lines[0] != lines[1] || lines[0] != lines[2] ||
			!strings.HasPrefix(lines[0], "3 ") || !strings.HasPrefix(lines[3], "1 ") {
			t.Fatalf("COPY of three names of one file and one other: %q", lines)
		}
	})
}

// TestFidelitySaveNames: two names of one image save as one image with
// both tags, to a file and to stdout. A save that fails midway leaves no
// file behind with -o, and on stdout nothing a load would take for a
// whole archive of fewer images.
func TestFidelitySaveNames(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		tag := "fid-save-" + u.Mode + ":two"
		broken := "fid-save-broken-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rmi", "-f", tag, broken) })
		u.MustBox(t, "tag", "busybox", tag)
		dir := userDir(t, u)
		want := []string{"busybox:latest", tag}
		repoTags := func(archive string) [][]string {
			t.Helper()
			files, _ := tarEntries(t, archive)
			var items []struct{ RepoTags []string }
			if err := json.Unmarshal([]byte(files["manifest.json"]), &items); err != nil {
				t.Fatalf("manifest.json of the archive: %v (%q)", err, files["manifest.json"])
			}
			var out [][]string
			for _, it := range items {
				var tags []string
				for _, n := range it.RepoTags {
					tags = append(tags, strings.TrimPrefix(n, "docker.io/library/"))
				}
				sort.Strings(tags)
				out = append(out, tags)
			}
			return out
		}
		u.MustBox(t, "save", "-o", dir+"/both.tar", "busybox:latest", tag)
		if got := repoTags(hostRead(t, dir+"/both.tar")); !reflect.DeepEqual(got, [][]string{want}) {
			t.Fatalf("save -o of two names of one image: %v, want one image tagged %v", got, want)
		}
		r := u.MustBox(t, "save", "busybox:latest", tag)
		if got := repoTags(r.Stdout); !reflect.DeepEqual(got, [][]string{want}) {
			t.Fatalf("save to stdout of two names of one image: %v, want one image tagged %v", got, want)
		}

		// An image whose top layer's files are gone from the store: the
		// save fails after busybox went into the archive.
		ctx := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo x > /x\n"})
		u.MustBox(t, "build", "-q", "-t", broken, ctx)
		top := strings.TrimSpace(u.MustBox(t, "image", "inspect", "--format", "{{range .RootFS.Layers}}{{.}} {{end}}", broken).Stdout)
		top = top[strings.LastIndex(top, " ")+1:]
		diff := storeLayerDir(t, u, top) + "/diff"
		u.MustBox(t, "unshare", "mv", diff, diff+".gone")
		t.Cleanup(func() { u.Box(t, "unshare", "mv", diff+".gone", diff) })

		r = u.Box(t, "save", "-o", dir+"/broken.tar", "busybox:latest", broken)
		if r.Code == 0 {
			t.Fatalf("save -o of an image with a missing layer: %s", r)
		}
		if names, _ := filepath.Glob(dir + "/*"); len(names) != 1 {
			t.Fatalf("a failed save -o left %v behind", names)
		}
		r = u.Box(t, "save", "busybox:latest", broken)
		if r.Code == 0 {
			t.Fatalf("save of an image with a missing layer: exit 0")
		}
		tr := tar.NewReader(strings.NewReader(r.Stdout))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if h.Name == "manifest.json" {
				t.Fatalf("a failed save wrote a manifest of the images before the failure")
			}
		}
	})
}

// hostRead reads a file the test made or box wrote.
func hostRead(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// storeLayerDir is the overlay directory of the layer of u's store whose
// uncompressed digest is diffID.
func storeLayerDir(t *testing.T, u *User, diffID string) string {
	t.Helper()
	root := strings.TrimSpace(u.MustBox(t, "unshare", "sh", "-c", `echo "$BOX_STORAGE_ROOT"`).Stdout)
	data, err := os.ReadFile(filepath.Join(root, "overlay-layers", "layers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var layers []struct {
		ID         string `json:"id"`
		DiffDigest string `json:"diff-digest"`
	}
	if err := json.Unmarshal(data, &layers); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		if l.DiffDigest == diffID {
			return filepath.Join(root, "overlay", l.ID)
		}
	}
	t.Fatalf("no layer %s in %s", diffID, root)
	return ""
}

// TestFidelityInspectAddress: inspect shows a running container's
// address, prefix, gateway and MAC as the container has them, at the top
// of NetworkSettings and under Networks' "bridge" (the private network,
// pasta's or netstack's), as scripts read them from Docker's.
func TestFidelityInspectAddress(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		bridgeID := strings.TrimSpace(u.MustBox(t, "network", "inspect", "--format", "{{.Id}}", "bridge").Stdout)
		for _, mode := range []string{"", "netstack"} {
			name := "fid-addr-" + u.Mode + mode
			t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
			args := []string{"run", "-d", "--name", name}
			if mode != "" {
				args = append(args, "--network", mode)
			}
			u.MustBox(t, append(args, "busybox", "sleep", "600")...)
			r := u.MustBox(t, "exec", name, "sh", "-c",
				`ip -4 -o addr show eth0 | awk '{print $4}'; ip route | awk '/^default/ {print $3}'; cat /sys/class/net/eth0/address`)
			have := outLines(r.Stdout)
			if len(have) != 3 || !strings.Contains(have[0], "/") {
				t.Fatalf("the container's own address: %s", r)
			}
			want := strings.Replace(have[0], "/", " ", 1) + " " + have[1] + " " + have[2]
			r = u.MustBox(t, "inspect", "--format",
				"{{.NetworkSettings.IPAddress}} {{.NetworkSettings.IPPrefixLen}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}", name)
			if got := strings.TrimSpace(r.Stdout); got != want {
				t.Fatalf("%s: NetworkSettings shows %q, the container has %q", name, got, want)
			}
			r = u.MustBox(t, "inspect", "--format",
				`{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}} {{$e.IPPrefixLen}} {{$e.Gateway}} {{$e.MacAddress}} {{$e.NetworkID}}{{end}}`, name)
			if got := strings.TrimSpace(r.Stdout); got != "bridge "+want+" "+bridgeID {
				t.Fatalf("%s: NetworkSettings.Networks shows %q, want %q", name, got, "bridge "+want+" "+bridgeID)
			}
			// Stopped, it has no address; the network stays listed.
			u.MustBox(t, "stop", "-t0", name)
			r = u.MustBox(t, "inspect", "--format", `{{.NetworkSettings.IPAddress}}|{{range $n, $e := .NetworkSettings.Networks}}{{$n}}:{{$e.IPAddress}}{{end}}`, name)
			wantOut(t, r, "|bridge:")
		}
	})
}

// dockerInspectFields are the fields of Docker's container inspect
// (moby's container.InspectResponse, API 1.50) that it always prints,
// with their JSON kinds; "?" marks a pointer Docker prints as null when
// unset. Arrays and objects may be null, as Docker's nil ones are.
const dockerInspectFields = `AppArmorProfile string;Args array;Config object;Config.AttachStderr bool;
Config.AttachStdin bool;Config.AttachStdout bool;Config.Cmd array;Config.Domainname string;
Config.Entrypoint array;Config.Env array;Config.Hostname string;Config.Image string;Config.Labels object;
Config.OnBuild array;Config.OpenStdin bool;Config.StdinOnce bool;Config.Tty bool;Config.User string;
Config.Volumes object;Config.WorkingDir string;Created string;Driver string;ExecIDs array;GraphDriver object;
GraphDriver.Data object;GraphDriver.Name string;HostConfig object;HostConfig.AutoRemove bool;
HostConfig.Binds array;HostConfig.BlkioDeviceReadBps array;HostConfig.BlkioDeviceReadIOps array;
HostConfig.BlkioDeviceWriteBps array;HostConfig.BlkioDeviceWriteIOps array;HostConfig.BlkioWeight number;
HostConfig.BlkioWeightDevice array;HostConfig.CapAdd array;HostConfig.CapDrop array;HostConfig.Cgroup string;
HostConfig.CgroupParent string;HostConfig.CgroupnsMode string;HostConfig.ConsoleSize array;
HostConfig.ContainerIDFile string;HostConfig.CpuCount number;HostConfig.CpuPercent number;
HostConfig.CpuPeriod number;HostConfig.CpuQuota number;HostConfig.CpuRealtimePeriod number;
HostConfig.CpuRealtimeRuntime number;HostConfig.CpuShares number;HostConfig.CpusetCpus string;
HostConfig.CpusetMems string;HostConfig.DeviceCgroupRules array;HostConfig.DeviceRequests array;
HostConfig.Devices array;HostConfig.Dns array;HostConfig.DnsOptions array;HostConfig.DnsSearch array;
HostConfig.ExtraHosts array;HostConfig.GroupAdd array;HostConfig.IOMaximumBandwidth number;
HostConfig.IOMaximumIOps number;HostConfig.IpcMode string;HostConfig.Isolation string;HostConfig.Links array;
HostConfig.LogConfig object;HostConfig.LogConfig.Config object;HostConfig.LogConfig.Type string;
HostConfig.MaskedPaths array;HostConfig.Memory number;HostConfig.MemoryReservation number;
HostConfig.MemorySwap number;HostConfig.MemorySwappiness number?;HostConfig.NanoCpus number;
HostConfig.NetworkMode string;HostConfig.OomKillDisable bool?;HostConfig.OomScoreAdj number;
HostConfig.PidMode string;HostConfig.PidsLimit number?;HostConfig.PortBindings object;HostConfig.Privileged bool;
HostConfig.PublishAllPorts bool;HostConfig.ReadonlyPaths array;HostConfig.ReadonlyRootfs bool;
HostConfig.RestartPolicy object;HostConfig.RestartPolicy.MaximumRetryCount number;
HostConfig.RestartPolicy.Name string;HostConfig.SecurityOpt array;HostConfig.ShmSize number;
HostConfig.UTSMode string;HostConfig.Ulimits array;HostConfig.UsernsMode string;HostConfig.VolumeDriver string;
HostConfig.VolumesFrom array;HostnamePath string;HostsPath string;Id string;Image string;LogPath string;
MountLabel string;Mounts array;Name string;NetworkSettings object;NetworkSettings.Bridge string;
NetworkSettings.EndpointID string;NetworkSettings.Gateway string;NetworkSettings.GlobalIPv6Address string;
NetworkSettings.GlobalIPv6PrefixLen number;NetworkSettings.HairpinMode bool;NetworkSettings.IPAddress string;
NetworkSettings.IPPrefixLen number;NetworkSettings.IPv6Gateway string;NetworkSettings.LinkLocalIPv6Address string;
NetworkSettings.LinkLocalIPv6PrefixLen number;NetworkSettings.MacAddress string;NetworkSettings.Networks object;
NetworkSettings.Ports object;NetworkSettings.SandboxID string;NetworkSettings.SandboxKey string;
NetworkSettings.SecondaryIPAddresses array;NetworkSettings.SecondaryIPv6Addresses array;
NetworkSettings.Networks.bridge object;NetworkSettings.Networks.bridge.IPAMConfig object;
NetworkSettings.Networks.bridge.Links array;NetworkSettings.Networks.bridge.Aliases array;
NetworkSettings.Networks.bridge.MacAddress string;NetworkSettings.Networks.bridge.DriverOpts object;
NetworkSettings.Networks.bridge.GwPriority number;NetworkSettings.Networks.bridge.NetworkID string;
NetworkSettings.Networks.bridge.EndpointID string;NetworkSettings.Networks.bridge.Gateway string;
NetworkSettings.Networks.bridge.IPAddress string;NetworkSettings.Networks.bridge.IPPrefixLen number;
NetworkSettings.Networks.bridge.IPv6Gateway string;NetworkSettings.Networks.bridge.GlobalIPv6Address string;
NetworkSettings.Networks.bridge.GlobalIPv6PrefixLen number;NetworkSettings.Networks.bridge.DNSNames array;
Path string;Platform string;ProcessLabel string;ResolvConfPath string;RestartCount number;State object;
State.Dead bool;State.Error string;State.ExitCode number;State.FinishedAt string;State.OOMKilled bool;
State.Paused bool;State.Pid number;State.Restarting bool;State.Running bool;State.StartedAt string;
State.Status string`

// jsonKind is the kind of a decoded JSON value as dockerInspectFields
// names it.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	}
	return "object"
}

// TestFidelityFormatFields: every field Docker's ps and images formatters
// (docker/cli cli/command/formatter) and its container inspect print is
// in box's, of the same JSON kind, so templates and scripts that read
// them work unchanged.
func TestFidelityFormatFields(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "pull", "-q", "busybox")
		name := "fid-fields-" + u.Mode
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", "600")

		var inspected []map[string]any
		if err := json.Unmarshal([]byte(u.MustBox(t, "inspect", name).Stdout), &inspected); err != nil || len(inspected) != 1 {
			t.Fatalf("inspect: %v", err)
		}
		for _, f := range strings.Split(dockerInspectFields, ";") {
			path, kind, _ := strings.Cut(strings.TrimSpace(f), " ")
			var v any = inspected[0]
			found := true
			for _, k := range strings.Split(path, ".") {
				m, ok := v.(map[string]any)
				if !ok {
					found = false
					break
				}
				if v, ok = m[k]; !ok {
					found = false
					break
				}
			}
			got := jsonKind(v)
			nullable := strings.HasSuffix(kind, "?") || kind == "array" || kind == "object"
			kind = strings.TrimSuffix(kind, "?")
			switch {
			case !found:
				t.Errorf("inspect has no %s (Docker's is a %s)", path, kind)
			case got != kind && !(got == "null" && nullable):
				t.Errorf("inspect's %s is a %s, Docker's a %s", path, got, kind)
			}
		}

		lists := []struct {
			args   []string
			fields string
		}{
			{[]string{"ps", "--filter", "name=^" + name + "$", "--format", "json"},
				"Command CreatedAt ID Image Labels LocalVolumes Mounts Names Networks Ports RunningFor Size State Status"},
			{[]string{"images", "--format", "json", "busybox"},
				"Containers CreatedAt CreatedSince Digest ID Repository SharedSize Size Tag UniqueSize VirtualSize"},
		}
		for _, l := range lists {
			r := u.MustBox(t, l.args...)
			var row map[string]any
			if err := json.Unmarshal([]byte(outLines(r.Stdout)[0]), &row); err != nil {
				t.Fatalf("box %s: %v", strings.Join(l.args, " "), err)
			}
			for _, f := range strings.Fields(l.fields) {
				if k := jsonKind(row[f]); k != "string" {
					t.Errorf("%s --format json: %s is a %s, Docker's a string", l.args[0], f, k)
				}
			}
			if l.args[0] == "ps" {
				if p, ok := row["Platform"].(map[string]any); !ok || p["os"] != "linux" {
					t.Errorf("ps --format json: Platform is %v, Docker's an OCI platform object", row["Platform"])
				}
				if row["Size"] == "" {
					t.Errorf("ps --format json: Size is empty; Docker's json computes it")
				}
			}
		}
	})
}
