package backend

import (
	"strings"
	"testing"
)

func TestCheckMaxReplicas(t *testing.T) {
	limits := map[string]uint64{"model_server": 100}
	for _, ok := range [][]ScaleTarget{{{"model_server", 100}}, {{"demo_model_server", 5}}, {{"proxy", 500}}} {
		if err := CheckMaxReplicas(ok, "demo", limits); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	err := CheckMaxReplicas([]ScaleTarget{{"demo_model_server", 150}}, "demo", limits)
	if err == nil || !strings.Contains(err.Error(), "room for 100 replicas") || !strings.Contains(err.Error(), "--max-replicas 150") {
		t.Errorf("150 replicas: %v", err)
	}
}

func TestParseScaleArgs(t *testing.T) {
	got, err := ParseScaleArgs([]string{"model_server=5", "demo_proxy=0"})
	if err != nil || len(got) != 2 || got[0] != (ScaleTarget{"model_server", 5}) || got[1] != (ScaleTarget{"demo_proxy", 0}) {
		t.Errorf("got %v, %v", got, err)
	}
	for arg, want := range map[string]string{
		"model_server=-1":  "whole number of 0 or more",
		"model_server=abc": "for example model_server=10",
		"model_server":     "write SERVICE=REPLICAS",
		"=3":               "write SERVICE=REPLICAS",
	} {
		if _, err := ParseScaleArgs([]string{"model_server=1", arg}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", arg, err, want)
		}
	}
}
