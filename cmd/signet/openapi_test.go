package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"
)

// Every route of the router that serve --dev mounts is in openapi.yaml, with
// its method; and openapi.yaml documents no route that does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	e := start(t, testConfig(t), roles{true, true, true}, nil)
	r := mux.NewRouter()
	e.app.routes(r)
	served := map[string]bool{}
	err = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil
		}
		path, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s accepts any method: give it one", path)
			return nil
		}
		for _, m := range methods {
			served[m+" "+path] = true
			if !documented[m+" "+path] {
				t.Errorf("route %s %s is missing from openapi.yaml", m, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(served) < 7 {
		t.Fatalf("walked only %d routes: %v", len(served), served)
	}
	for op := range documented {
		if !served[op] && !strings.HasPrefix(op, "PARAMETERS ") {
			t.Errorf("openapi.yaml documents %s, which no router serves", op)
		}
	}
}
