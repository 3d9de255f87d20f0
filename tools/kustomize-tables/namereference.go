package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	k8syaml "sigs.k8s.io/yaml"
)

const (
	apiModule = "sigs.k8s.io/kustomize/api"
	// The default configuration lives in an internal package that no other module may
	// import, so its source is read from the module (as Go keeps it in the module cache).
	nameReferenceFile  = "internal/konfig/builtinpluginconsts/namereference.go"
	nameReferenceConst = "nameReferenceFieldSpecs"
)

// nameBackReferences mirrors kustomize's builtinconfig.NameBackReferences with the api
// module's public types: a referral kind and the referrer fields that hold its name.
type nameBackReferences struct {
	resid.Gvk `json:",inline,omitempty"`
	Referrers types.FsSlice `json:"fieldSpecs,omitempty"`
}

// nameReferences lists kustomize's builtin name references in the order of the source, one row
// per referrer field. Versions are not kept: the engine matches by kind and group.
func nameReferences() ([][]string, error) {
	src, err := nameReferenceSource()
	if err != nil {
		return nil, err
	}
	var config struct {
		NameReference []nameBackReferences `json:"nameReference"`
	}
	if err := k8syaml.UnmarshalStrict([]byte(src), &config); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", nameReferenceConst, err)
	}
	var rows [][]string
	for _, ref := range config.NameReference {
		for _, fs := range ref.Referrers {
			if fs.CreateIfNotPresent {
				return nil, fmt.Errorf("%s %s: 'create' is not supported by the engine", ref.Kind, fs.Path)
			}
			rows = append(rows, []string{ref.Kind, ref.Group, fs.Kind, fs.Group, fs.Path})
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s holds no name references", nameReferenceConst)
	}
	return rows, nil
}

// nameReferenceSource is the YAML text of the constant nameReferenceFieldSpecs.
func nameReferenceSource() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", apiModule).Output()
	if err != nil {
		return "", fmt.Errorf("locating %s (run from tools/kustomize-tables): %w", apiModule, err)
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if built := moduleVersion(apiModule); version != built || dir == "" {
		return "", fmt.Errorf("%s: go list says %q at %q, the program was built with %s",
			apiModule, version, dir, built)
	}
	path := filepath.Join(dir, nameReferenceFile)
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return "", err
	}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if name.Name != nameReferenceConst || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", fmt.Errorf("%s: %s is not a string literal", path, nameReferenceConst)
				}
				return strconv.Unquote(lit.Value)
			}
		}
	}
	return "", fmt.Errorf("%s: no constant %s", path, nameReferenceConst)
}
