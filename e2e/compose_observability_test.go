package e2e

// Static checks of the observability services in docker-compose.yml and the files they load:
// Prometheus's scrape targets, Grafana's provisioned datasources and dashboard, and the metric
// names the dashboard's queries use. Like compose_test.go, nothing here needs a Docker engine.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// metricContract is issue #8's list of metric names, with their types, and the delivery delay
// and the in-flight limit in force added with issue #7. The Go runtime and process collectors
// add go_* and process_* (see contractMetric).
var metricContract = map[string]string{
	"http_server_request_duration_seconds":         "histogram",
	"edm_events_consumed_total":                    "counter",
	"edm_event_handle_duration_seconds":            "histogram",
	"edm_event_delivery_delay_seconds":             "histogram",
	"edm_events_published_total":                   "counter",
	"edm_outbox_pending":                           "gauge",
	"edm_outbox_oldest_pending_age_seconds":        "gauge",
	"edm_consumer_lag":                             "gauge",
	"edm_saga_duration_seconds":                    "histogram",
	"edm_orders_in_flight":                         "gauge",
	"edm_orders_in_flight_limit":                   "gauge",
	"edm_payment_gateway_requests_total":           "counter",
	"edm_payment_gateway_request_duration_seconds": "histogram",
}

// contractMetric reports whether a series name a query selects is exported by the services:
// a contract name, a histogram's _bucket/_sum/_count series, a Go runtime or process collector
// series, or `up`, which Prometheus itself writes for every scrape target.
func contractMetric(name string) bool {
	if _, ok := metricContract[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && metricContract[base] == "histogram" {
			return true
		}
	}
	return name == "up" || strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// promqlWords are PromQL's keywords and aggregation operators: identifiers that are never
// metric names. Function names are told apart by the "(" that follows them.
var promqlWords = map[string]bool{
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true,
	"limitk": true, "limit_ratio": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
}

// promqlLabelLists are the keywords followed by a parenthesised list of label names.
var promqlLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// grafanaVariable matches $__rate_interval, ${var} and $var.
var grafanaVariable = regexp.MustCompile(`\$\{?\w+\}?`)

// promqlMetricNames lists, in order, the metric names a PromQL expression selects. It is a
// lexer, not a full parser: it skips strings, label matchers ({...}), ranges ([...]), numbers
// and durations, keywords, function names and the label lists of by/without/on/ignoring/
// group_left/group_right; what is left is a metric name. Unbalanced brackets are an error.
func promqlMetricNames(expr string) ([]string, error) {
	s := grafanaVariable.ReplaceAllString(expr, "5m")
	var stack []byte
	var out []string
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	nextNonSpace := func(i int) int {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		return i
	}
	for i := 0; i < len(s); {
		c := s[i]
		inMatcher := len(stack) > 0 && (stack[len(stack)-1] == '{' || stack[len(stack)-1] == '[')
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := i + 1
			for end < len(s) && s[end] != c {
				if s[end] == '\\' && c != '`' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			i = end + 1
		case c == '(' || c == '{' || c == '[':
			stack = append(stack, c)
			i++
		case c == ')' || c == '}' || c == ']':
			open := map[byte]byte{')': '(', '}': '{', ']': '['}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
			i++
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdent(s[i]) {
				i++
			}
			word := s[start:i]
			if inMatcher { // a label name, or a unit inside [5m]
				continue
			}
			next := nextNonSpace(i)
			switch {
			case promqlLabelLists[word]:
				if next < len(s) && s[next] == '(' {
					end := strings.IndexByte(s[next:], ')')
					if end < 0 {
						return nil, fmt.Errorf("unclosed label list after %s", word)
					}
					i = next + end + 1
				}
			case promqlWords[strings.ToLower(word)]:
			case next < len(s) && s[next] == '(': // a function call
			default:
				out = append(out, word)
			}
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %q", stack)
	}
	return out, nil
}

func TestPromQLMetricNames(t *testing.T) {
	tests := []struct {
		expr    string
		want    []string
		wantErr bool
	}{
		{expr: "edm_orders_in_flight", want: []string{"edm_orders_in_flight"}},
		{expr: `sum by (job, topic) (edm_consumer_lag{topic!~"x.*"})`, want: []string{"edm_consumer_lag"}},
		{
			expr: "histogram_quantile(0.99, sum by (le) (rate(edm_saga_duration_seconds_bucket[$__rate_interval])))",
			want: []string{"edm_saga_duration_seconds_bucket"},
		},
		{
			expr: `sum by (job) (rate(a_count{status=~"5..", route="/orders/:id"}[5m])) / ignoring(status) group_left (route) sum without (instance) (b)`,
			want: []string{"a_count", "b"},
		},
		{expr: `sum(rate(c_total[${interval}] offset 1h)) or on() vector(0)`, want: []string{"c_total"}},
		{expr: "up == bool 1 and topk(3, process_resident_memory_bytes)", want: []string{"up", "process_resident_memory_bytes"}},
		{expr: `x{label="it's (tricky]"}`, want: []string{"x"}},
		{expr: "sum(rate(x[5m])", wantErr: true},
		{expr: `x{a="b}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := promqlMetricNames(tt.expr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContractMetric(t *testing.T) {
	tests := map[string]bool{
		"edm_consumer_lag":                           true,
		"edm_saga_duration_seconds_bucket":           true,
		"http_server_request_duration_seconds_count": true,
		"go_goroutines":                              true,
		"process_resident_memory_bytes":              true,
		"up":                                         true,
		"edm_consumer_lag_bucket":                    false, // a gauge has no buckets
		"edm_events_consumed_total_count":            false,
		"edm_saga_duration":                          false,
		"edm_orders_inflight":                        false,
	}
	for name, want := range tests {
		if got := contractMetric(name); got != want {
			t.Errorf("contractMetric(%q) = %v, want %v", name, got, want)
		}
	}
}

// flagValue is the value of --name=value in args.
func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// prometheusConfig is the part of prometheus.yml the tests read.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// loadPrometheusConfig reads the file compose mounts where the prometheus service's
// --config.file points.
func loadPrometheusConfig(t *testing.T) prometheusConfig {
	t.Helper()
	p := loadCompose(t)
	target := flagValue(service(t, p, "prometheus").Command, "config.file")
	if target == "" {
		t.Fatal("prometheus has no --config.file")
	}
	var cfg prometheusConfig
	readYAML(t, hostPath(t, p, "prometheus", target), &cfg)
	return cfg
}

func TestComposePrometheusScrapesEveryService(t *testing.T) {
	cfg := loadPrometheusConfig(t)
	jobOf := map[string]string{} // target -> job
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" || sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("job %s scrapes %s://…%s, want http and /metrics", sc.JobName, sc.Scheme, sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				jobOf[target] = sc.JobName
			}
		}
	}
	for name, port := range appServices {
		t.Run(name, func(t *testing.T) {
			target := name + ":" + strconv.Itoa(port)
			job, ok := jobOf[target]
			if !ok {
				t.Fatalf("no scrape target %s in %v", target, jobOf)
			}
			// Dashboards group by job, so the job names the service.
			if job != name {
				t.Errorf("target %s is in job %q, want %q", target, job, name)
			}
		})
	}
	for target := range jobOf {
		host, port, _ := strings.Cut(target, ":")
		if want, ok := appServices[host]; !ok || strconv.Itoa(want) != port {
			t.Errorf("scrape target %s is not a Go service's HTTP port", target)
		}
	}
}

// grafanaDatasources is the part of a Grafana datasource provisioning file the tests read.
type grafanaDatasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name     string         `yaml:"name"`
		UID      string         `yaml:"uid"`
		Type     string         `yaml:"type"`
		URL      string         `yaml:"url"`
		JSONData map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

// grafanaDashboardProviders is the part of a dashboard provisioning file the tests read.
type grafanaDashboardProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

const grafanaProvisioning = "/etc/grafana/provisioning" // the image's GF_PATHS_PROVISIONING

// grafanaDashboardFiles are the dashboard JSON files on the host that Grafana's file providers
// load, found through the provider paths and the bind mounts behind them.
func grafanaDashboardFiles(t *testing.T) []string {
	t.Helper()
	p := loadCompose(t)
	dir := hostPath(t, p, "grafana", grafanaProvisioning)
	files, _ := filepath.Glob(filepath.Join(dir, "dashboards", "*.yml"))
	if len(files) == 0 {
		t.Fatalf("no dashboard providers in %s/dashboards", dir)
	}
	var dashboards []string
	for _, f := range files {
		var prov grafanaDashboardProviders
		readYAML(t, f, &prov)
		if prov.APIVersion != 1 || len(prov.Providers) == 0 {
			t.Errorf("%s: apiVersion %d, %d providers", f, prov.APIVersion, len(prov.Providers))
		}
		for _, pr := range prov.Providers {
			if pr.Type != "file" {
				t.Errorf("provider %s has type %q, want file", pr.Name, pr.Type)
				continue
			}
			jsons, _ := filepath.Glob(filepath.Join(hostPath(t, p, "grafana", pr.Options.Path), "*.json"))
			if len(jsons) == 0 {
				t.Errorf("provider %s: no dashboard JSON behind %s", pr.Name, pr.Options.Path)
			}
			dashboards = append(dashboards, jsons...)
		}
	}
	return dashboards
}

func TestComposeGrafanaProvisioning(t *testing.T) {
	p := loadCompose(t)
	grafana := service(t, p, "grafana")
	for _, v := range grafana.Volumes {
		if v.Type == types.VolumeTypeBind && !v.ReadOnly {
			t.Errorf("bind mount %s is writable; provisioning files are read-only", v.Target)
		}
	}
	// Anonymous visitors may look, not edit.
	if env(grafana, "GF_AUTH_ANONYMOUS_ENABLED") != "true" || env(grafana, "GF_AUTH_ANONYMOUS_ORG_ROLE") != "Viewer" {
		t.Errorf("anonymous access %q as %q, want true as Viewer",
			env(grafana, "GF_AUTH_ANONYMOUS_ENABLED"), env(grafana, "GF_AUTH_ANONYMOUS_ORG_ROLE"))
	}
	// The home dashboard is one of the provisioned files.
	home := env(grafana, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
	if _, err := os.Stat(filepath.Join(hostPath(t, p, "grafana", path.Dir(home)), path.Base(home))); home == "" || err != nil {
		t.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH %q is not a mounted file (%v)", home, err)
	}

	dir := hostPath(t, p, "grafana", grafanaProvisioning)
	files, _ := filepath.Glob(filepath.Join(dir, "datasources", "*.yml"))
	byType := map[string]string{} // type -> url
	for _, f := range files {
		var ds grafanaDatasources
		readYAML(t, f, &ds)
		if ds.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", f, ds.APIVersion)
		}
		for _, d := range ds.Datasources {
			byType[d.Type] = d.URL
			if d.Type == "prometheus" {
				// $__rate_interval is four scrape intervals only if Grafana knows the interval.
				if got, want := d.JSONData["timeInterval"], loadPrometheusConfig(t).Global.ScrapeInterval; got != want {
					t.Errorf("prometheus datasource timeInterval %v, want the scrape_interval %q", got, want)
				}
			}
		}
	}
	// Each datasource reaches its compose service on the port that service serves.
	for typ, want := range map[string]struct {
		service string
		port    uint32
	}{"prometheus": {"prometheus", 9090}, "jaeger": {"jaeger", 16686}} {
		u, err := url.Parse(byType[typ])
		if err != nil || u.Scheme != "http" || u.Hostname() != want.service || u.Port() != strconv.Itoa(int(want.port)) {
			t.Errorf("%s datasource url %q, want http://%s:%d", typ, byType[typ], want.service, want.port)
			continue
		}
		if !slices.ContainsFunc(service(t, p, want.service).Ports, func(pc types.ServicePortConfig) bool { return pc.Target == want.port }) {
			t.Errorf("service %s does not serve port %d", want.service, want.port)
		}
	}
}

// dashboard is the part of a Grafana dashboard JSON the tests read; rows nest panels.
type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func TestComposeGrafanaDashboard(t *testing.T) {
	// Each panel the issue asks for, by a series its query must select.
	required := map[string]string{
		"orders settled/s by outcome": "edm_saga_duration_seconds_count",
		"saga p50/p99":                "edm_saga_duration_seconds_bucket",
		"consumer lag":                "edm_consumer_lag",
		"outbox backlog":              "edm_outbox_pending",
		"dead letters":                "edm_events_consumed_total",
		"HTTP error rate":             "http_server_request_duration_seconds_count",
		"gateway latency":             "edm_payment_gateway_request_duration_seconds_bucket",
	}
	files := grafanaDashboardFiles(t)
	used := map[string]bool{}
	exprs := map[string]bool{}
	uids := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard
			if err := json.Unmarshal(body, &d); err != nil {
				t.Fatalf("not a dashboard: %v", err)
			}
			if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
				t.Fatalf("uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also in %s", d.UID, other)
			}
			uids[d.UID] = f
			ids := map[int]bool{}
			for _, p := range allPanels(d.Panels) {
				if ids[p.ID] {
					t.Errorf("panel id %d used twice", p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, ref := range append([]*datasourceRef{p.Datasource}, targetRefs(p)...) {
					// The provisioned Prometheus datasource (datasources.yml) has uid prometheus.
					if ref == nil || ref.UID != "prometheus" {
						t.Errorf("panel %q: datasource %+v, want uid prometheus", p.Title, ref)
					}
				}
				for _, tg := range p.Targets {
					names, err := promqlMetricNames(tg.Expr)
					if err != nil || len(names) == 0 {
						t.Errorf("panel %q: %q: %d metrics, %v", p.Title, tg.Expr, len(names), err)
					}
					for _, n := range names {
						used[n] = true
						if !contractMetric(n) {
							t.Errorf("panel %q selects %s, which no service exports", p.Title, n)
						}
					}
					exprs[tg.Expr] = true
				}
			}
		})
	}
	for purpose, metric := range required {
		if !used[metric] {
			t.Errorf("no panel for %s: no query selects %s", purpose, metric)
		}
	}
	// What some query must read besides a metric: the dead letters among the events consumed,
	// and the buckets of issue #7's latency objectives, 50 ms and 1 s (1 s is "1.0" once
	// Prometheus 3 has scraped it), whose share of the sagas a panel shows.
	queries := slices.Collect(maps.Keys(exprs))
	for _, want := range []struct{ fragment, what string }{
		{`outcome="dead_lettered"`, "counts dead letters"},
		{`edm_saga_duration_seconds_bucket{le="0.05"}`, "reads the sagas within 50 ms"},
		{`edm_saga_duration_seconds_bucket{le=~"1|1.0"}`, "reads the sagas within 1 s"},
	} {
		if !slices.ContainsFunc(queries, func(e string) bool { return strings.Contains(e, want.fragment) }) {
			t.Errorf("no query %s (%s)", want.what, want.fragment)
		}
	}
}

// TestComposeOTLPEndpoint: the endpoint every Go service exports to is Jaeger's OTLP/HTTP
// receiver (4318; 4317 is gRPC, which the services' otlptracehttp exporter does not speak).
func TestComposeOTLPEndpoint(t *testing.T) {
	p := loadCompose(t)
	for name := range appServices {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			raw := env(s, "OTEL_EXPORTER_OTLP_ENDPOINT")
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "http" || u.Port() != "4318" {
				t.Fatalf("OTEL_EXPORTER_OTLP_ENDPOINT %q, want http://<jaeger>:4318", raw)
			}
			collector := service(t, p, u.Hostname())
			if !strings.HasPrefix(collector.Image, "jaegertracing/jaeger:") {
				t.Errorf("%s runs %q, not Jaeger", u.Hostname(), collector.Image)
			}
			if !slices.ContainsFunc(collector.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == 4318 }) {
				t.Errorf("%s does not declare port 4318", u.Hostname())
			}
			// A signal-specific endpoint would override the shared one and bypass this check.
			if v := env(s, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v != "" {
				t.Errorf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=%q overrides the endpoint", v)
			}
			if got := env(s, "OTEL_SERVICE_NAME"); got != name {
				t.Errorf("OTEL_SERVICE_NAME=%q, want %q", got, name)
			}
		})
	}
}

func targetRefs(p panel) []*datasourceRef {
	var refs []*datasourceRef
	for _, tg := range p.Targets {
		refs = append(refs, tg.Datasource)
	}
	return refs
}

// TestComposePrometheusConfigForStack: scripts/prometheus.sh (make stack-prometheus) gives
// Debian's Prometheus the compose scrape config with every target on 127.0.0.1 at the same
// port and in the same job, so the dashboard's queries work against either.
func TestComposePrometheusConfigForStack(t *testing.T) {
	out, err := exec.Command("../scripts/prometheus.sh", "config").Output()
	if err != nil {
		t.Fatalf("scripts/prometheus.sh config: %v", err)
	}
	var local prometheusConfig
	if err := yaml.Unmarshal(out, &local); err != nil {
		t.Fatalf("generated config: %v", err)
	}
	compose := loadPrometheusConfig(t)
	if local.Global != compose.Global || len(local.ScrapeConfigs) != len(compose.ScrapeConfigs) {
		t.Fatalf("generated config differs beyond the targets:\n%+v\nwant\n%+v", local, compose)
	}
	for i, sc := range local.ScrapeConfigs {
		var got []string
		for _, st := range sc.StaticConfigs {
			got = append(got, st.Targets...)
		}
		port, ok := appServices[sc.JobName]
		if want := []string{"127.0.0.1:" + strconv.Itoa(port)}; !ok || !slices.Equal(got, want) ||
			sc.JobName != compose.ScrapeConfigs[i].JobName {
			t.Errorf("job %s scrapes %v, want %v", sc.JobName, got, want)
		}
	}
	// Prometheus's own check, where it is installed (Debian: apt-get install prometheus).
	if _, err := exec.LookPath("promtool"); err == nil {
		file := filepath.Join(t.TempDir(), "prometheus.yml")
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{file, "../observability/prometheus/prometheus.yml"} {
			if msg, err := exec.Command("promtool", "check", "config", f).CombinedOutput(); err != nil {
				t.Errorf("promtool check config %s: %v\n%s", f, err, msg)
			}
		}
	}
}

// TestComposeReadmePromQL: the example queries in observability/README.md parse and select
// only exported metrics. An indented line continues the query above it.
func TestComposeReadmePromQL(t *testing.T) {
	body, err := os.ReadFile("../observability/README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(body), -1)
	var queries []string
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			switch {
			case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, " ") && len(queries) > 0:
				queries[len(queries)-1] += line
			default:
				queries = append(queries, line)
			}
		}
	}
	if len(queries) == 0 {
		t.Fatal("no ```promql examples")
	}
	for _, q := range queries {
		names, err := promqlMetricNames(q)
		if err != nil || len(names) == 0 {
			t.Errorf("%q: %d metrics, %v", q, len(names), err)
		}
		for _, n := range names {
			if !contractMetric(n) {
				t.Errorf("%q selects %s, which no service exports", q, n)
			}
		}
	}
}
