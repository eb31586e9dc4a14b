package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// CI has no Docker engine, so it cannot build the image or start the compose file. What it
// can check, it does here: compose.yaml has the fleet's shape, and each service's settings
// (with the Dockerfile's ENV beneath them) are declared settings that load; .ci/run builds
// the static binary the Dockerfile's build stage builds.
func TestComposeFleet(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Deploy      struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	var published []string
	for _, s := range compose.Services {
		published = append(published, s.Ports...)
	}
	if len(published) != 1 {
		t.Errorf("published ports: got %v, want the fleet behind exactly one", published)
	}
	if r := compose.Services["facade"].Deploy.Replicas; r != 3 {
		t.Errorf("facade replicas: got %d, want 3", r)
	}
	if !strings.HasPrefix(compose.Services["redis"].Image, "redis:") {
		t.Errorf("redis service image: %q", compose.Services["redis"].Image)
	}

	dockerEnv := dockerfileEnv(t)
	declared := map[string]bool{}
	for _, s := range (&config{}).settings() {
		declared[s.env] = true
	}
	for _, name := range []string{"facade", "sandbox"} {
		svc, ok := compose.Services[name]
		if !ok || svc.Build == nil {
			t.Errorf("service %s: missing, or not built from the Dockerfile", name)
			continue
		}
		env := map[string]string{}
		for k, v := range dockerEnv {
			env[k] = v
		}
		for k, v := range svc.Environment {
			if !declared[k] {
				t.Errorf("service %s sets %s, which is no setting of the service", name, k)
			}
			env[k] = expandDefault(v)
		}
		if _, err := loadConfig(nil, func(k string) string { return env[k] }); err != nil {
			t.Errorf("service %s would not start: %v", name, err)
		}
	}
	if compose.Services["facade"].Environment["REDIS_URL"] == "" {
		t.Error("the facade replicas share nothing: no REDIS_URL")
	}
}

// dockerfileEnv reads the final stage's ENV line, and checks the build stage builds the
// service statically.
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if !regexp.MustCompile(`CGO_ENABLED=0 go build [^\n]* \.\n`).MatchString(text) {
		t.Error("Dockerfile: no static build of the service (CGO_ENABLED=0 go build ... .)")
	}
	env := map[string]string{}
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "ENV "); ok {
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
	}
	return env
}

// expandDefault resolves compose's ${NAME:-default} to its default.
func expandDefault(v string) string {
	return regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(v, "$1")
}
