// Package images builds the stack's images and pushes them: it builds an image through the Docker Engine API and turns the engine's
// JSON stream into progress a person can follow: one line per Dockerfile step and, when a
// step fails, that step and the last lines it printed (an R error stays readable).
package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/docker/docker/api/types/build"

	"github.com/rscale/rscale/pkg/buildctx"
)

// Builder is the part of the Docker client a build needs.
type Builder interface {
	ImageBuild(ctx context.Context, context io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
}

// BuildOptions says what to build.
type BuildOptions struct {
	Dir        string // the build context
	Dockerfile string // relative to Dir
	Tag        string
	Progress   io.Writer // step lines; nil for none
	Verbose    bool      // also every line the steps print
}

// Error is a failed build: the step that failed and the last lines it printed.
type BuildError struct {
	Step    string
	Tail    []string
	Message string
}

func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the image build failed")
	if e.Step != "" {
		fmt.Fprintf(&b, " at %s", e.Step)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	if len(e.Tail) > 0 {
		fmt.Fprintf(&b, "\nlast lines of that step:\n  %s", strings.Join(e.Tail, "\n  "))
	}
	return b.String()
}

// tailLines is how much of a failed step's output the error keeps.
const tailLines = 25

var (
	stepLine = regexp.MustCompile(`^Step \d+/\d+ : `)
	// The classic builder colours what a step writes to stderr.
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	// The builder's own lines between steps say nothing about the step's work.
	builderChatter = regexp.MustCompile(`^( ---> |Removing intermediate container |Successfully built |Successfully tagged )`)
)

// BuildImage builds one image and returns its ID.
func BuildImage(ctx context.Context, api Builder, o BuildOptions) (string, error) {
	context, err := buildctx.Tar(o.Dir, o.Dockerfile)
	if err != nil {
		return "", err
	}
	defer context.Close()
	resp, err := api.ImageBuild(ctx, context, build.ImageBuildOptions{
		Tags:        []string{o.Tag},
		Dockerfile:  o.Dockerfile,
		Remove:      true,
		ForceRemove: true,
		// The classic builder: BuildKit over the API needs a session rscale does not open.
		Version: build.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("starting the image build: %w", err)
	}
	defer resp.Body.Close()
	return followBuild(resp.Body, o)
}

// message is one line of the engine's build stream: the fields a build sends.
type buildMessage struct {
	Stream      string           `json:"stream"`
	Aux         *json.RawMessage `json:"aux"`
	Error       string           `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// follow reads the engine's stream until the build ends.
func followBuild(stream io.Reader, o BuildOptions) (string, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	var (
		step string
		tail []string
		id   string
	)
	dec := json.NewDecoder(stream)
	for {
		var msg buildMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", fmt.Errorf("reading the build output: %w", err)
		}
		if msg.Error != "" || msg.ErrorDetail != nil {
			text := msg.Error
			if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
				text = msg.ErrorDetail.Message
			}
			return "", &BuildError{Step: step, Tail: tail, Message: strings.TrimSpace(text)}
		}
		if msg.Aux != nil {
			var aux struct{ ID string }
			if json.Unmarshal(*msg.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
		for _, line := range strings.Split(strings.TrimRight(msg.Stream, "\n"), "\n") {
			line = strings.TrimRight(ansiEscape.ReplaceAllString(line, ""), "\r ")
			switch {
			case line == "" || builderChatter.MatchString(line):
			case stepLine.MatchString(line):
				step, tail = line, nil
				fmt.Fprintln(progress, line)
			default:
				tail = append(tail, line)
				if len(tail) > tailLines {
					tail = tail[1:]
				}
				if o.Verbose {
					fmt.Fprintln(progress, "  "+line)
				}
			}
		}
	}
	if id == "" {
		return "", errors.New("the image build ended without giving an image ID: run it again with --verbose to see its output")
	}
	return id, nil
}
