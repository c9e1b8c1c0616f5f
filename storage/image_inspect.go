package storage

import (
	"time"
)

// ImageInspect is an image as `docker image inspect` shows it. Field
// names and JSON keys are Docker's, so --format templates written for
// Docker (`{{.Config.Cmd}}`, `{{json .RootFS.Layers}}`) work unchanged.
type ImageInspect struct {
	ID            string `json:"Id"`
	RepoTags      []string
	RepoDigests   []string
	Parent        string
	Comment       string
	Created       string `json:",omitempty"`
	DockerVersion string
	Author        string
	Config        *ContainerConfig
	Architecture  string
	Variant       string `json:",omitempty"`
	Os            string
	OsVersion     string `json:",omitempty"`
	Size          int64
	GraphDriver   GraphDriverData
	RootFS        RootFS
	Metadata      ImageMetadata
}

// ContainerConfig is Docker's container configuration, the shape image
// inspect gives an image's config in.
type ContainerConfig struct {
	Hostname        string
	Domainname      string
	User            string
	AttachStdin     bool
	AttachStdout    bool
	AttachStderr    bool
	ExposedPorts    map[string]struct{} `json:",omitempty"`
	Tty             bool
	OpenStdin       bool
	StdinOnce       bool
	Env             []string
	Cmd             []string
	Healthcheck     *HealthConfig `json:",omitempty"`
	ArgsEscaped     bool          `json:",omitempty"`
	Image           string
	Volumes         map[string]struct{}
	WorkingDir      string
	Entrypoint      []string
	NetworkDisabled bool `json:",omitempty"`
	OnBuild         []string
	Labels          map[string]string
	StopSignal      string   `json:",omitempty"`
	StopTimeout     *int     `json:",omitempty"`
	Shell           []string `json:",omitempty"`
}

// GraphDriverData names the storage driver holding the image.
type GraphDriverData struct {
	Data map[string]string
	Name string
}

// RootFS lists the image's layers by diff id ("sha256:..."), bottom first.
type RootFS struct {
	Type   string
	Layers []string `json:",omitempty"`
}

// ImageMetadata is what box knows about the image beyond its config.
type ImageMetadata struct {
	// LastTagTime is when the image was last tagged locally; zero for an
	// image only pulled.
	LastTagTime time.Time
}

// InspectImage describes the image named by nameOrID as Docker does. It
// returns a *NotFoundError when nothing matches.
func (s *Store) InspectImage(nameOrID string) (*ImageInspect, error) {
	img, err := s.LookupImage(nameOrID)
	if err != nil {
		return nil, err
	}
	size, err := img.Size()
	if err != nil {
		return nil, err
	}
	cfg := img.Config
	out := &ImageInspect{
		ID:            "sha256:" + img.ID,
		RepoTags:      nonNil(img.RepoTags()),
		RepoDigests:   nonNil(img.RepoDigests()),
		Comment:       img.Docker.Comment,
		DockerVersion: img.Docker.DockerVersion,
		Author:        cfg.Author,
		Config: &ContainerConfig{
			User:         cfg.Config.User,
			ExposedPorts: cfg.Config.ExposedPorts,
			Env:          cfg.Config.Env,
			Cmd:          cfg.Config.Cmd,
			Healthcheck:  img.Docker.Healthcheck,
			ArgsEscaped:  cfg.Config.ArgsEscaped,
			Volumes:      cfg.Config.Volumes,
			WorkingDir:   cfg.Config.WorkingDir,
			Entrypoint:   cfg.Config.Entrypoint,
			OnBuild:      img.Docker.OnBuild,
			Labels:       cfg.Config.Labels,
			StopSignal:   cfg.Config.StopSignal,
			Shell:        img.Docker.Shell,
		},
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		OsVersion:    cfg.OSVersion,
		Size:         size,
		GraphDriver:  GraphDriverData{Name: s.Driver()},
		RootFS:       RootFS{Type: cfg.RootFS.Type},
		Metadata:     ImageMetadata{LastTagTime: s.LastTagTime(img.ID)},
	}
	if !img.Created.IsZero() {
		out.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	for _, d := range cfg.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, d.String())
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
