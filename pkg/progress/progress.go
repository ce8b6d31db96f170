// Package progress is what a deploy, a build or a scale reports while it works, as typed
// events (Event), and the one renderer that prints them: one line format for every engine,
// a quiet mode and a JSON-lines mode, all from the same events.
package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Kind is what an Event reports.
type Kind string

const (
	Building        Kind = "building"         // an image build starts (Service, Image)
	Built           Kind = "built"            // an image was built (Service, Image: the reference deployed)
	Pushing         Kind = "pushing"          // an image push starts (Service, Image: where to)
	Pushed          Kind = "pushed"           // an image was pushed (Service, Image: pinned by digest)
	Applied         Kind = "applied"          // the engine created, updated or removed a service (Service, Action)
	Waiting         Kind = "waiting"          // waiting for the replicas starts (Message)
	ServiceProgress Kind = "service_progress" // a service's counts changed (Service, Ready, Desired, Running, Target, Detail)
	RollingBack     Kind = "rolling_back"     // the new version failed: putting the previous one back (Service, Detail)
	Done            Kind = "done"             // the work is done (Message)
	Log             Kind = "log"              // a line of what an engine or a build printed (Message)
)

// Event is one thing that happened.
type Event struct {
	Kind    Kind   `json:"kind"`
	Service string `json:"service,omitempty"`
	Image   string `json:"image,omitempty"`
	Action  string `json:"action,omitempty"`
	Ready   int    `json:"ready"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
	Target  uint64 `json:"target,omitempty"` // the replicas a paced service is on the way to
	Pacing  string `json:"pacing,omitempty"` // how replicas are added on the way to Target
	Detail  string `json:"detail,omitempty"`
	Message string `json:"message,omitempty"`
}

// Sink receives events.
type Sink interface {
	Event(Event)
}

// Discard is a Sink that drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Event(Event) {}

// Mode is how a Renderer prints.
type Mode int

const (
	Text  Mode = iota // one line per event, for a person
	Quiet             // only what was done, and no progress lines
	JSON              // one JSON object per event, per line
)

// Renderer prints events to Out as Mode says. It is safe for concurrent use.
type Renderer struct {
	Out  io.Writer
	Mode Mode
	mu   sync.Mutex
}

// NewRenderer prints events to out.
func NewRenderer(out io.Writer, mode Mode) *Renderer {
	return &Renderer{Out: out, Mode: mode}
}

// Event prints one event.
func (r *Renderer) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.Mode {
	case JSON:
		data, err := json.Marshal(e)
		if err == nil {
			fmt.Fprintf(r.Out, "%s\n", data)
		}
	case Quiet:
		if e.Kind == Done {
			fmt.Fprintln(r.Out, Line(e))
		}
	default:
		if line := Line(e); line != "" {
			fmt.Fprintln(r.Out, line)
		}
	}
}

// Line is the line Text mode prints for e, such as "model_server         7/10 ready (3 starting)".
func Line(e Event) string {
	switch e.Kind {
	case Building:
		return fmt.Sprintf("Building %s for service %s", e.Image, e.Service)
	case Built:
		return fmt.Sprintf("Built %s for service %s", e.Image, e.Service)
	case Pushing:
		return fmt.Sprintf("Pushing %s", e.Image)
	case Pushed:
		return fmt.Sprintf("Pushed %s", e.Image)
	case Applied:
		return "" // the engine prints each object it changed, as a Log line
	case ServiceProgress:
		line := fmt.Sprintf("%-20s %d/%d ready", e.Service, e.Ready, e.Desired)
		switch {
		case e.Detail != "":
			line += " (" + e.Detail + ")"
		case e.Running > e.Ready:
			line += fmt.Sprintf(" (%d starting)", e.Running-e.Ready)
		}
		if e.Target > uint64(e.Desired) {
			line += fmt.Sprintf(", on the way to %d", e.Target)
			if e.Pacing != "" {
				line += ", " + e.Pacing
			}
		}
		return line
	case RollingBack:
		line := fmt.Sprintf("%s: the new version never became ready: rolling back to the previous one", e.Service)
		if e.Detail != "" {
			line += " (" + e.Detail + ")"
		}
		return line
	default: // Waiting, Done, Log
		return e.Message
	}
}

// Lines is an io.Writer that turns each line written to it into a Log event on sink: for
// what engines and image builds print as text.
func Lines(sink Sink) io.Writer {
	return &lineWriter{sink: sink}
}

type lineWriter struct {
	sink Sink
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		data := w.buf.Bytes()
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimRight(string(data[:i]), "\r")
		w.buf.Next(i + 1)
		w.sink.Event(Event{Kind: Log, Message: line})
	}
}

// Recorder is a Sink that keeps every event, for tests.
type Recorder struct {
	mu     sync.Mutex
	Events []Event
}

// Event keeps e.
func (r *Recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, e)
}

// Lines are the Text lines of the events kept so far.
func (r *Recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.Events {
		out = append(out, Line(e))
	}
	return out
}
