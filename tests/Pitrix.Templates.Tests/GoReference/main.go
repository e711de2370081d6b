// Command gotmplref renders the Pitrix template corpus with Go's own text/template
// (plus Sprig, Helm's extra functions and confd's functions) and prints the results as JSON,
// so that the C# engine can be compared with the reference byte for byte.
//
// Usage: gotmplref <corpus-dir>
//
// Every *.json file in the directory holds {"datasets": {"name": <json>}, "kvsets": {"name": {...}},
// "cases": [...]} where a case is
//
//	{"name": "...", "template": "...", "templates": {"other": "..."}, "entry": "t",
//	 "data": <json> or "dataset": "name", "funcs": "builtin"|"sprig"|"confd",
//	 "kv": {"/key": "value"} or "kvset": "name", "options": ["missingkey=error"]}
//
// Cases with "expected" are hand-verified for Go features newer than this binary; it still runs them.
//
// JSON integers in data are decoded as Go int and other numbers as float64, unless the case sets
// "float64": true, which decodes every number as float64 the way Helm's values are.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

type testCase struct {
	Name      string            `json:"name"`
	Template  string            `json:"template"`
	Templates map[string]string `json:"templates"`
	Entry     string            `json:"entry"`
	Data      json.RawMessage   `json:"data"`
	Dataset   string            `json:"dataset"`
	Funcs     string            `json:"funcs"`
	KV        map[string]string `json:"kv"`
	KVSet     string            `json:"kvset"`
	Options   []string          `json:"options"`
	Float64   bool              `json:"float64"`
}

type corpusFile struct {
	Datasets map[string]json.RawMessage   `json:"datasets"`
	KVSets   map[string]map[string]string `json:"kvsets"`
	Cases    []testCase                   `json:"cases"`
}

type result struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
	Phase  string `json:"phase,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gotmplref <corpus-dir>")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.json"))
	if err != nil {
		fail(err)
	}
	sort.Strings(files)
	results := map[string]result{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		var corpus corpusFile
		if err := json.Unmarshal(raw, &corpus); err != nil {
			fail(fmt.Errorf("%s: %w", file, err))
		}
		for _, c := range corpus.Cases {
			if c.Dataset != "" {
				ds, ok := corpus.Datasets[c.Dataset]
				if !ok {
					fail(fmt.Errorf("%s: case %q: unknown dataset %q", file, c.Name, c.Dataset))
				}
				c.Data = ds
			}
			if c.KVSet != "" {
				kv, ok := corpus.KVSets[c.KVSet]
				if !ok {
					fail(fmt.Errorf("%s: case %q: unknown kvset %q", file, c.Name, c.KVSet))
				}
				c.KV = kv
			}
			if _, dup := results[c.Name]; dup {
				fail(fmt.Errorf("duplicate case name %q", c.Name))
			}
			results[c.Name] = run(c)
		}
	}
	out, err := json.MarshalIndent(results, "", " ")
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
	os.Stdout.WriteString("\n")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func decodeData(raw json.RawMessage, float64Numbers bool) (interface{}, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if float64Numbers {
		// Plain json.Unmarshal, as Helm decodes values: every number is a float64.
		var v interface{}
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return convertNumbers(v), nil
}

func convertNumbers(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
		return x
	}
	return v
}

func run(c testCase) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = result{Error: fmt.Sprint("panic: ", r), Phase: "panic"}
		}
	}()
	data, err := decodeData(c.Data, c.Float64)
	if err != nil {
		return result{Error: err.Error(), Phase: "data"}
	}
	entry := c.Entry
	if entry == "" {
		entry = "t"
	}
	root := template.New(entry)
	if len(c.Options) > 0 {
		root.Option(c.Options...)
	}
	switch c.Funcs {
	case "", "builtin":
	case "sprig":
		root.Funcs(helmFuncs(root))
	case "confd":
		root.Funcs(confdFuncs(c.KV))
	default:
		return result{Error: "unknown funcs " + c.Funcs, Phase: "data"}
	}
	if _, err := root.Parse(c.Template); err != nil {
		return result{Error: err.Error(), Phase: "parse"}
	}
	names := make([]string, 0, len(c.Templates))
	for n := range c.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := root.New(n).Parse(c.Templates[n]); err != nil {
			return result{Error: err.Error(), Phase: "parse"}
		}
	}
	var buf bytes.Buffer
	if err := root.ExecuteTemplate(&buf, entry, data); err != nil {
		return result{Output: buf.String(), Error: err.Error(), Phase: "exec"}
	}
	return result{Output: buf.String()}
}

// helmFuncs is Sprig's text function map with Helm's changes: no env access,
// and Helm's own toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray, include, tpl and required.
func helmFuncs(t *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	includedNames := map[string]int{}
	extra := template.FuncMap{
		"toYaml": func(v interface{}) string {
			data, err := yaml.Marshal(v)
			if err != nil {
				return ""
			}
			return strings.TrimSuffix(string(data), "\n")
		},
		"fromYaml": func(str string) map[string]interface{} {
			m := map[string]interface{}{}
			if err := yaml.Unmarshal([]byte(str), &m); err != nil {
				m["Error"] = err.Error()
			}
			return m
		},
		"fromYamlArray": func(str string) []interface{} {
			a := []interface{}{}
			if err := yaml.Unmarshal([]byte(str), &a); err != nil {
				a = []interface{}{err.Error()}
			}
			return a
		},
		"fromJsonArray": func(str string) []interface{} {
			a := []interface{}{}
			if err := json.Unmarshal([]byte(str), &a); err != nil {
				a = []interface{}{err.Error()}
			}
			return a
		},
		"toJson": func(v interface{}) string {
			data, err := json.Marshal(v)
			if err != nil {
				return ""
			}
			return string(data)
		},
		"fromJson": func(str string) map[string]interface{} {
			m := make(map[string]interface{})
			if err := json.Unmarshal([]byte(str), &m); err != nil {
				m["Error"] = err.Error()
			}
			return m
		},
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warn)
			} else if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warn)
			}
			return val, nil
		},
		"include": func(name string, data interface{}) (string, error) {
			var buf strings.Builder
			if v, ok := includedNames[name]; ok {
				if v > 1000 {
					return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
				}
				includedNames[name]++
			} else {
				includedNames[name] = 1
			}
			err := t.ExecuteTemplate(&buf, name, data)
			includedNames[name]--
			return buf.String(), err
		},
		"tpl": func(text string, data interface{}) (string, error) {
			clone, err := t.Clone()
			if err != nil {
				return "", err
			}
			nt, err := clone.New("tpl").Parse(text)
			if err != nil {
				return "", fmt.Errorf("cannot parse template %q: %w", text, err)
			}
			var buf strings.Builder
			if err := nt.Execute(&buf, data); err != nil {
				return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
			}
			return buf.String(), nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// The confd functions below follow kelseyhightower/confd (resource/template/template_funcs.go)
// and its memkv store; the time, DNS, file and environment functions are left out.

type kvPair struct {
	Key   string
	Value string
}

type kvStore map[string]string

func (s kvStore) get(key string) (kvPair, error) {
	v, ok := s[key]
	if !ok {
		return kvPair{Key: key}, fmt.Errorf("key does not exist: %s", key)
	}
	return kvPair{Key: key, Value: v}, nil
}

func (s kvStore) getValue(key string, def ...string) (string, error) {
	kv, err := s.get(key)
	if err != nil {
		if len(def) > 0 {
			return def[0], nil
		}
		return "", err
	}
	return kv.Value, nil
}

func (s kvStore) getAll(pattern string) ([]kvPair, error) {
	ks := make([]kvPair, 0)
	for k, v := range s {
		m, err := path.Match(pattern, k)
		if err != nil {
			return nil, err
		}
		if m {
			ks = append(ks, kvPair{Key: k, Value: v})
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].Key < ks[j].Key })
	return ks, nil
}

func (s kvStore) getAllValues(pattern string) ([]string, error) {
	vs := make([]string, 0)
	for k, v := range s {
		m, err := path.Match(pattern, k)
		if err != nil {
			return nil, err
		}
		if m {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	return vs, nil
}

func pathToTerms(p string) []string { return strings.Split(path.Clean(p), "/") }

func samePrefixTerms(prefix, test []string) bool {
	if len(test) < len(prefix) {
		return false
	}
	for i := range prefix {
		if prefix[i] != test[i] {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	vs := make([]string, 0, len(m))
	for k := range m {
		vs = append(vs, k)
	}
	sort.Strings(vs)
	return vs
}

func (s kvStore) list(filePath string) []string {
	m := map[string]bool{}
	prefix := pathToTerms(filePath)
	for k := range s {
		if k == filePath {
			m[path.Base(k)] = true
			continue
		}
		target := pathToTerms(path.Dir(k))
		if samePrefixTerms(prefix, target) {
			stripped := strings.TrimPrefix(strings.TrimPrefix(k, filePath), "/")
			m[strings.Split(stripped, "/")[0]] = true
		}
	}
	return sortedKeys(m)
}

func (s kvStore) listDir(filePath string) []string {
	m := map[string]bool{}
	prefix := pathToTerms(filePath)
	for k := range s {
		if strings.HasPrefix(k, filePath) {
			items := pathToTerms(path.Dir(k))
			if samePrefixTerms(prefix, items) && len(items)-len(prefix) >= 1 {
				m[items[len(prefix):][0]] = true
			}
		}
	}
	return sortedKeys(m)
}

func confdFuncs(kv map[string]string) template.FuncMap {
	s := kvStore(kv)
	if s == nil {
		s = kvStore{}
	}
	return template.FuncMap{
		"exists": func(key string) bool { _, err := s.get(key); return err == nil },
		"ls":     s.list,
		"lsdir":  s.listDir,
		"get":    s.get,
		"gets":   s.getAll,
		"getv":   s.getValue,
		"getvs":  s.getAllValues,
		"base":   path.Base,
		"dir":    path.Dir,
		"split":  strings.Split,
		"join":   strings.Join,
		"json": func(data string) (map[string]interface{}, error) {
			var ret map[string]interface{}
			err := json.Unmarshal([]byte(data), &ret)
			return ret, err
		},
		"jsonArray": func(data string) ([]interface{}, error) {
			var ret []interface{}
			err := json.Unmarshal([]byte(data), &ret)
			return ret, err
		},
		"map": func(values ...interface{}) (map[string]interface{}, error) {
			if len(values)%2 != 0 {
				return nil, errors.New("invalid map call")
			}
			dict := make(map[string]interface{}, len(values)/2)
			for i := 0; i < len(values); i += 2 {
				key, ok := values[i].(string)
				if !ok {
					return nil, errors.New("map keys must be strings")
				}
				dict[key] = values[i+1]
			}
			return dict, nil
		},
		"toUpper":    strings.ToUpper,
		"toLower":    strings.ToLower,
		"contains":   strings.Contains,
		"replace":    strings.Replace,
		"trimSuffix": strings.TrimSuffix,
		"parseBool":  strconv.ParseBool,
		"add":        func(a, b int) int { return a + b },
		"sub":        func(a, b int) int { return a - b },
		"div":        func(a, b int) int { return a / b },
		"mod":        func(a, b int) int { return a % b },
		"mul":        func(a, b int) int { return a * b },
		"seq": func(first, last int) []int {
			var arr []int
			for i := first; i <= last; i++ {
				arr = append(arr, i)
			}
			return arr
		},
		"atoi": strconv.Atoi,
		"toJson": func(v interface{}) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"toYaml": func(v interface{}) (string, error) {
			b, err := yaml.Marshal(v)
			return string(b), err
		},
	}
}
