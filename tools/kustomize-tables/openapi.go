package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/openapi/kubernetesapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/schema"
)

const (
	gvkExtension      = "x-kubernetes-group-version-kind"
	mapKeysExtension  = "x-kubernetes-list-map-keys"
	mergeKeyExtension = "x-kubernetes-patch-merge-key"
)

// loadKubernetesOpenAPI decodes kyaml's built-in Kubernetes OpenAPI document the way kyaml's
// own parseBuiltinSchema does (protobuf -> gnostic -> swagger), without the kustomization
// definitions kyaml adds beside it.
func loadKubernetesOpenAPI() (*spec.Swagger, string, error) {
	version := kubernetesapi.DefaultOpenAPI
	asset := "kubernetesapi/" + strings.ReplaceAll(version, ".", "_") + "/swagger.pb"
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(kubernetesapi.OpenAPIMustAsset[version](asset), doc); err != nil {
		return nil, "", fmt.Errorf("decoding %s: %w", asset, err)
	}
	var swagger spec.Swagger
	if _, err := swagger.FromGnostic(doc); err != nil {
		return nil, "", fmt.Errorf("converting %s: %w", asset, err)
	}
	return &swagger, version, nil
}

// refName is the definition a property refers to, directly or as the items of an array.
func refName(p *spec.Schema) string {
	ref := p.Ref.String()
	if ref == "" && p.Items != nil && p.Items.Schema != nil {
		ref = p.Items.Schema.Ref.String()
	}
	return strings.TrimPrefix(ref, "#/definitions/")
}

// hasMergeStrategy is kyaml's own test of whether a list merges as an associative list.
func hasMergeStrategy(p *spec.Schema) bool {
	return schema.IsAssociative(&openapi.ResourceSchema{Schema: p}, nil, false)
}

func isArray(p *spec.Schema) bool {
	return len(p.Type) == 1 && p.Type[0] == "array"
}

// listKeys are x-kubernetes-list-map-keys, else x-kubernetes-patch-merge-key (the order of
// kyaml's PatchStrategyAndKeyList, which uses them only when the list merges).
func listKeys(p *spec.Schema) []string {
	if raw, ok := p.Extensions[mapKeysExtension].([]interface{}); ok {
		keys := make([]string, 0, len(raw))
		for _, k := range raw {
			keys = append(keys, fmt.Sprint(k))
		}
		return keys
	}
	if k, ok := p.Extensions[mergeKeyExtension].(string); ok {
		return []string{k}
	}
	return nil
}

// mergeTables derives the strategic-merge tables. A definition is kept when one of its fields
// carries the merge patch strategy, or refers (directly or as array items) to a kept
// definition. Of a kept definition, the rows are the lists that merge and the fields leading
// to a kept definition; every other field and definition behaves the same with or without a
// schema (its lists are replaced), so the engine needs no row for it.
func mergeTables(swagger *spec.Swagger) (fields, resources [][]string) {
	defs := swagger.Definitions
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)

	kept := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, name := range names {
			if kept[name] {
				continue
			}
			for _, p := range defs[name].Properties {
				if hasMergeStrategy(&p) || kept[refName(&p)] {
					kept[name] = true
					changed = true
					break
				}
			}
		}
	}

	for _, name := range names {
		if !kept[name] {
			continue
		}
		def := defs[name]
		fieldNames := make([]string, 0, len(def.Properties))
		for f := range def.Properties {
			fieldNames = append(fieldNames, f)
		}
		sort.Strings(fieldNames)
		for _, f := range fieldNames {
			p := def.Properties[f]
			child := refName(&p)
			if !kept[child] {
				child = ""
			}
			merge := hasMergeStrategy(&p)
			if !(merge && isArray(&p)) && child == "" {
				continue
			}
			fields = append(fields, []string{name, f, child, strconv.FormatBool(isArray(&p)),
				strconv.FormatBool(merge), strings.Join(listKeys(&p), ",")})
		}
		for _, tm := range typeMetas(def.Extensions[gvkExtension]) {
			resources = append(resources, []string{tm.APIVersion, tm.Kind, name})
		}
	}
	sort.Slice(resources, func(i, j int) bool {
		return strings.Join(resources[i], "\t") < strings.Join(resources[j], "\t")
	})
	return fields, resources
}

// typeMetas reads an x-kubernetes-group-version-kind extension (kyaml's toTypeMeta): a list of
// {group, version, kind} on definitions, a single one on paths.
func typeMetas(ext interface{}) []yaml.TypeMeta {
	var gvks []interface{}
	switch e := ext.(type) {
	case []interface{}:
		gvks = e
	case map[string]interface{}:
		gvks = []interface{}{e}
	}
	var out []yaml.TypeMeta
	for _, g := range gvks {
		m, ok := g.(map[string]interface{})
		if !ok {
			continue
		}
		version, _ := m["version"].(string)
		kind, _ := m["kind"].(string)
		if group, _ := m["group"].(string); group != "" {
			version = group + "/" + version
		}
		out = append(out, yaml.TypeMeta{APIVersion: version, Kind: kind})
	}
	return out
}

// clusterScopedKinds are the kinds served by a GET path without a namespace (kyaml's
// findNamespaceability). Each answer is checked against kyaml's own IsNamespaceScoped.
func clusterScopedKinds(swagger *spec.Swagger) ([][]string, error) {
	namespaced := map[yaml.TypeMeta]bool{}
	for path, item := range swagger.Paths.Paths {
		if item.Get == nil {
			continue
		}
		for _, tm := range typeMetas(item.Get.Extensions[gvkExtension]) {
			if strings.Contains(path, "namespaces/{namespace}") {
				namespaced[tm] = true
			} else if _, seen := namespaced[tm]; !seen {
				namespaced[tm] = false
			}
		}
	}
	var rows [][]string
	for tm, ns := range namespaced {
		kyamlNs, found := openapi.IsNamespaceScoped(tm)
		if !found || kyamlNs != ns {
			return nil, fmt.Errorf("%s %s: namespaced=%v here, but kyaml says %v (known: %v)",
				tm.APIVersion, tm.Kind, ns, kyamlNs, found)
		}
		if !ns {
			rows = append(rows, []string{tm.APIVersion, tm.Kind})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		return strings.Join(rows[i], "\t") < strings.Join(rows[j], "\t")
	})
	return rows, nil
}
