package progress

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

var events = []Event{
	{Kind: Building, Service: "model_server", Image: "api/model_server:latest"},
	{Kind: Built, Service: "model_server", Image: "api/model_server:rscale-0123456789ab"},
	{Kind: Pushing, Service: "model_server", Image: "registry:5000/api/model_server:rscale-0123456789ab"},
	{Kind: Applied, Service: "model_server", Action: "updated"},
	{Kind: Waiting, Message: "Waiting for every replica to run and be healthy..."},
	{Kind: ServiceProgress, Service: "model_server", Ready: 7, Desired: 8, Running: 8, Target: 10, Pacing: "2 starting at a time"},
	{Kind: ServiceProgress, Service: "proxy", Ready: 0, Desired: 1, Running: 1, Detail: "updating, one replica at a time"},
	{Kind: RollingBack, Service: "model_server"},
	{Kind: Done, Message: "Stack api is running."},
}

func render(mode Mode) string {
	var out bytes.Buffer
	r := NewRenderer(&out, mode)
	for _, e := range events {
		r.Event(e)
	}
	return out.String()
}

func TestTextIsOneLinePerEventForAPerson(t *testing.T) {
	want := `Building api/model_server:latest for service model_server
Built api/model_server:rscale-0123456789ab for service model_server
Pushing registry:5000/api/model_server:rscale-0123456789ab
Waiting for every replica to run and be healthy...
model_server         7/8 ready (1 starting), on the way to 10, 2 starting at a time
proxy                0/1 ready (updating, one replica at a time)
model_server: the new version never became ready: rolling back to the previous one
Stack api is running.
`
	if got := render(Text); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestQuietSaysOnlyWhatWasDone(t *testing.T) {
	if got := render(Quiet); got != "Stack api is running.\n" {
		t.Errorf("got %q", got)
	}
}

func TestJSONIsOneObjectPerEvent(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(render(JSON), "\n"), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	if want := `{"kind":"service_progress","service":"model_server","ready":7,"desired":8,"running":8,"target":10,"pacing":"2 starting at a time"}`; lines[5] != want {
		t.Errorf("got %s\nwant %s", lines[5], want)
	}
}

func TestLinesMakesALogEventOfEachWholeLine(t *testing.T) {
	var r Recorder
	w := Lines(&r)
	for _, part := range []string{"Step 1/2 : FROM r-base\r\nStep 2", "/2 : COPY . /app\n", "no newline yet"} {
		fmt.Fprint(w, part)
	}
	if got := strings.Join(r.Lines(), "|"); got != "Step 1/2 : FROM r-base|Step 2/2 : COPY . /app" {
		t.Errorf("lines %q", got)
	}
}
