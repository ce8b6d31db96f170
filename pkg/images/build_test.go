package images

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func stream(lines ...string) *strings.Reader {
	return strings.NewReader(strings.Join(lines, "\n"))
}

func TestFollowShowsStepsAndReturnsTheImageID(t *testing.T) {
	var progress bytes.Buffer
	id, err := followBuild(stream(
		`{"stream":"Step 1/3 : FROM rocker/r-ver:4.6.1\n"}`,
		`{"stream":" ---\u003e 0123456789ab\n"}`,
		`{"stream":"Step 2/3 : RUN Rscript /tmp/rscale/install.R\n"}`,
		`{"stream":"rscale: installing R packages: randomForest\n"}`,
		`{"stream":"Step 3/3 : CMD [\"Rscript\"]\n"}`,
		`{"aux":{"ID":"sha256:feedbeef"}}`,
		`{"stream":"Successfully built feedbeef\n"}`,
	), BuildOptions{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if id != "sha256:feedbeef" {
		t.Errorf("id = %q", id)
	}
	want := "Step 1/3 : FROM rocker/r-ver:4.6.1\nStep 2/3 : RUN Rscript /tmp/rscale/install.R\nStep 3/3 : CMD [\"Rscript\"]\n"
	if progress.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), want)
	}
}

func TestFollowVerboseShowsEveryLine(t *testing.T) {
	var progress bytes.Buffer
	if _, err := followBuild(stream(
		`{"stream":"Step 1/1 : RUN true\n"}`, `{"stream":"hello from R\n"}`, `{"aux":{"ID":"sha256:1"}}`,
	), BuildOptions{Progress: &progress, Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "  hello from R") {
		t.Errorf("verbose progress lacks the step's output:\n%s", progress.String())
	}
}

func TestFollowFailureNamesTheStepAndItsLastLines(t *testing.T) {
	_, err := followBuild(stream(
		`{"stream":"Step 1/2 : FROM r-base\n"}`,
		`{"stream":"Step 2/2 : RUN Rscript /tmp/rscale/install.R\n"}`,
		`{"stream":" ---\u003e Running in 5faeadea40aa\n"}`,
		`{"stream":"\u001b[91mrscale: WARNING: package 'notapkg' is not available for this version of R\n\u001b[0m"}`,
		`{"stream":"\u001b[91mrscale: could not install R package(s): notapkg\n\u001b[0m"}`,
		`{"stream":"Removing intermediate container 5faeadea40aa\n"}`,
		`{"errorDetail":{"code":1,"message":"The command '/bin/sh -c Rscript /tmp/rscale/install.R' returned a non-zero code: 1"},"error":"The command '/bin/sh -c Rscript /tmp/rscale/install.R' returned a non-zero code: 1"}`,
	), BuildOptions{})
	var buildErr *BuildError
	if !errors.As(err, &buildErr) {
		t.Fatalf("err = %v, want an *BuildError", err)
	}
	if buildErr.Step != "Step 2/2 : RUN Rscript /tmp/rscale/install.R" {
		t.Errorf("step = %q", buildErr.Step)
	}
	want := []string{"rscale: WARNING: package 'notapkg' is not available for this version of R", "rscale: could not install R package(s): notapkg"}
	if !reflect.DeepEqual(buildErr.Tail, want) {
		t.Errorf("tail = %q, want the step's own lines without colour codes or the builder's chatter: %q", buildErr.Tail, want)
	}
	msg := err.Error()
	for _, want := range []string{"at Step 2/2", "non-zero code: 1", "could not install R package(s): notapkg", "'notapkg' is not available"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error message lacks %q:\n%s", want, msg)
		}
	}
}

func TestFollowKeepsOnlyTheLastLines(t *testing.T) {
	lines := []string{`{"stream":"Step 1/1 : RUN make\n"}`}
	for i := 0; i < 100; i++ {
		lines = append(lines, `{"stream":"line\n"}`)
	}
	lines = append(lines, `{"error":"boom"}`)
	_, err := followBuild(stream(lines...), BuildOptions{})
	var buildErr *BuildError
	if !errors.As(err, &buildErr) || len(buildErr.Tail) != tailLines {
		t.Fatalf("err = %v, want an *BuildError with %d lines", err, tailLines)
	}
}

func TestFollowWithoutImageID(t *testing.T) {
	if _, err := followBuild(stream(`{"stream":"Step 1/1 : FROM scratch\n"}`), BuildOptions{}); err == nil {
		t.Error("a stream with no image ID gave no error")
	}
}
