// Command gobench renders the benchmark inputs with Go's text/template and measures them with
// testing.Benchmark, so Pitrix's engine can be compared on the same machine in the same run.
// Usage: gobench DIR — DIR holds zk.tmpl, zk.json, haproxy.cfg.tmpl and kv.json (written by the
// .NET benchmark); it writes zk.out and haproxy.out beside them and prints one line per benchmark.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/template"
)

func main() {
	dir := os.Args[1]
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		return b
	}

	var values map[string]interface{}
	if err := json.Unmarshal(read("zk.json"), &values); err != nil {
		panic(err)
	}
	cluster := template.Must(template.New("zk").Funcs(template.FuncMap{
		"pitrixJson": func(v interface{}) string {
			b, _ := json.Marshal(v)
			return string(b)
		},
		"pitrixJsonEscape": func(v interface{}) string {
			b, _ := json.Marshal(fmt.Sprint(v))
			return string(b[1 : len(b)-1])
		},
	}).Parse(string(read("zk.tmpl"))))

	var kv map[string]string
	if err := json.Unmarshal(read("kv.json"), &kv); err != nil {
		panic(err)
	}
	confd := template.Must(template.New("haproxy").Funcs(template.FuncMap{
		"getv": func(key string, def ...string) string {
			if v, ok := kv[key]; ok {
				return v
			}
			if len(def) > 0 {
				return def[0]
			}
			panic("key not found: " + key)
		},
		"exists": func(key string) bool { _, ok := kv[key]; return ok },
		"lsdir": func(path string) []string {
			seen := map[string]bool{}
			for k := range kv {
				if strings.HasPrefix(k, path) {
					rest := strings.TrimPrefix(k, path)
					if i := strings.Index(rest, "/"); i > 0 {
						seen[rest[:i]] = true
					}
				}
			}
			out := make([]string, 0, len(seen))
			for k := range seen {
				out = append(out, k)
			}
			sort.Strings(out)
			return out
		},
		"split": strings.Split,
		"join":  strings.Join,
	}).Parse(string(read("haproxy.cfg.tmpl"))))

	run := func(name string, t *template.Template, data interface{}, outFile string) {
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, outFile), buf.Bytes(), 0o644); err != nil {
			panic(err)
		}
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var out bytes.Buffer
				if err := t.Execute(&out, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		fmt.Printf("%s\t%d ns/op\t%d B/op\t%d allocs/op\t%.0f renders/s\n", name, r.NsPerOp(), r.AllocedBytesPerOp(), r.AllocsPerOp(), 1e9/float64(r.NsPerOp()))
	}
	run("go:cluster.json.tmpl (zookeeper)", cluster, values, "zk.out")
	run("go:confd haproxy.cfg.tmpl (202 lines)", confd, nil, "haproxy.out")
}
