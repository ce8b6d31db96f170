package bench

// The benchmark's history: each full run appends its figures to history.jsonl beside the
// report, and the report compares them with the run before.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// benchFigures are the figures of the run going on, by name; record adds one.
var benchFigures = map[string]float64{}

func record(name string, value float64) {
	if !math.IsNaN(value) && !math.IsInf(value, 0) {
		benchFigures[name] = value
	}
}

// benchRun is one line of history.jsonl.
type benchRun struct {
	Date    time.Time          `json:"date"`
	Version string             `json:"version"`
	Load    string             `json:"load"` // load average when the run began
	Figures map[string]float64 `json:"figures"`
}

// readHistory reads the runs recorded so far, oldest first; none when there is no file.
func readHistory(path string) ([]benchRun, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var runs []benchRun
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r benchRun
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		runs = append(runs, r)
	}
	return runs, sc.Err()
}

func appendHistory(path string, run benchRun) error {
	line, err := json.Marshal(run)
	if err != nil {
		return err
	}
	// The first full run on a machine makes the folder.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// compareRuns is the report's section on what changed since the previous run.
func compareRuns(previous *benchRun, now benchRun) string {
	var b strings.Builder
	b.WriteString("## Change since the last run\n\n")
	if previous == nil {
		b.WriteString("No earlier full run is recorded here: this one is the first the next will compare with.\n\n")
		b.WriteString("| figure | now |\n|---|---|\n")
		for _, name := range sortedNames(now.Figures) {
			fmt.Fprintf(&b, "| %s | %s |\n", name, figure(now.Figures[name]))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "Previous full run: %s (rscale %s, load average %s when it began); this one: load average %s.\n\n",
		previous.Date.UTC().Format("2006-01-02 15:04 UTC"), previous.Version, previous.Load, now.Load)
	b.WriteString("| figure | previous | now | change |\n|---|---|---|---|\n")
	for _, name := range sortedNames(now.Figures) {
		v := now.Figures[name]
		before, ok := previous.Figures[name]
		switch {
		case !ok:
			fmt.Fprintf(&b, "| %s | none | %s | new |\n", name, figure(v))
		case before == 0:
			fmt.Fprintf(&b, "| %s | %s | %s | %+.3g |\n", name, figure(before), figure(v), v-before)
		default:
			fmt.Fprintf(&b, "| %s | %s | %s | %+.1f %% |\n", name, figure(before), figure(v), 100*(v-before)/before)
		}
	}
	for _, name := range sortedNames(previous.Figures) {
		if _, ok := now.Figures[name]; !ok {
			fmt.Fprintf(&b, "| %s | %s | none | gone |\n", name, figure(previous.Figures[name]))
		}
	}
	return b.String()
}

func figure(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func sortedNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// loadAverage is /proc/loadavg's three averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// benchHistory records this run in historyPath (full runs only) and returns the comparison
// with the last full run recorded there.
func benchHistory(t *testing.T, p benchParams, historyPath string, now benchRun) string {
	t.Helper()
	runs, err := readHistory(historyPath)
	if err != nil {
		t.Fatal(err)
	}
	var previous *benchRun
	if len(runs) > 0 {
		previous = &runs[len(runs)-1]
	}
	if !p.quick {
		if err := appendHistory(historyPath, now); err != nil {
			t.Fatal(err)
		}
	}
	return compareRuns(previous, now)
}

func TestCompareRuns(t *testing.T) {
	before := benchRun{Date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Version: "v1", Load: "0.10 0.20 0.30",
		Figures: map[string]float64{"S4 scale up until all healthy (s)": 200, "S3 speed-up": 1.5, "S4 replicas restarted on the way": 0, "old": 1}}
	now := benchRun{Load: "1.00 1.00 1.00", Figures: map[string]float64{"S4 scale up until all healthy (s)": 40, "S3 speed-up": 1.65, "S4 replicas restarted on the way": 2, "S1 new": 0.99}}
	got := compareRuns(&before, now)
	for _, want := range []string{
		"Previous full run: 2026-11-25 12:00 UTC (rscale v1, load average 0.10 0.20 0.30 when it began); this one: load average 1.00 1.00 1.00.",
		"| S4 scale up until all healthy (s) | 200 | 40 | -80.0 % |",
		"| S3 speed-up | 1.5 | 1.65 | +10.0 % |",
		"| S4 replicas restarted on the way | 0 | 2 | +2 |",
		"| S1 new | none | 0.99 | new |",
		"| old | 1 | none | gone |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, got)
		}
	}
	if first := compareRuns(nil, now); !strings.Contains(first, "| S1 new | 0.99 |") {
		t.Errorf("a first run:\n%s", first)
	}

	path := t.TempDir() + "/history.jsonl"
	for _, r := range []benchRun{before, now} {
		if err := appendHistory(path, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := readHistory(path)
	if err != nil || len(runs) != 2 || runs[1].Figures["S1 new"] != 0.99 || !runs[0].Date.Equal(before.Date) {
		t.Errorf("read back %+v, %v", runs, err)
	}
}

// The first full run on a machine has no bin/bench yet: it starts the history there.
func TestHistoryStartsInAFolderNotYetMade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bin", "bench", "history.jsonl")
	if runs, err := readHistory(path); err != nil || len(runs) != 0 {
		t.Fatalf("no history yet: %v, %v; want none and no error", runs, err)
	}
	run := benchRun{Version: "test", Figures: map[string]float64{"S4 scale up until all healthy (s)": 72.5}}
	if err := appendHistory(path, run); err != nil {
		t.Fatal(err)
	}
	runs, err := readHistory(path)
	if err != nil || len(runs) != 1 || runs[0].Figures["S4 scale up until all healthy (s)"] != 72.5 {
		t.Errorf("history after one run: %+v, %v; want that run", runs, err)
	}
}
