package swarm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// What the stack file says about where replicas go reaches Swarm: constraints, spread
// preferences, max_replicas_per_node and resources, as docker stack deploy sends them.
func TestConvertKeepsPlacementAndResources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rscale.yml")
	if err := os.WriteFile(file, []byte(`services:
  model_server:
    image: api:1
    deploy:
      replicas: 6
      placement:
        max_replicas_per_node: 2
        constraints: ["node.labels.r == yes", "node.role != manager"]
        preferences:
          - spread: node.labels.zone
      resources:
        limits: {cpus: "1.5", memory: 512M}
        reservations: {cpus: "0.5", memory: 256M}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	api := service(t, load(t, file), "echo-api_model_server")
	want := &swarm.Placement{
		Constraints: []string{"node.labels.r == yes", "node.role != manager"},
		Preferences: []swarm.PlacementPreference{{Spread: &swarm.SpreadOver{SpreadDescriptor: "node.labels.zone"}}},
		MaxReplicas: 2,
	}
	if got := api.TaskTemplate.Placement; !reflect.DeepEqual(got, want) {
		t.Errorf("placement %+v, want %+v", got, want)
	}
	r := api.TaskTemplate.Resources
	if r == nil || r.Limits.NanoCPUs != 1.5e9 || r.Limits.MemoryBytes != 512<<20 || r.Reservations.NanoCPUs != 0.5e9 || r.Reservations.MemoryBytes != 256<<20 {
		t.Errorf("resources %+v", r)
	}
}
