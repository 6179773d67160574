package e2e

// Checks of the Kubernetes manifests under deploy/k8s: every kustomization builds, every object
// decodes strictly into its Kubernetes API type, and the wiring matches the programs: ports,
// probes, the environment each service reads, the Services the URLs name, Secrets referenced
// and never inlined, and the infrastructure images compose runs.

import (
	"bytes"
	"encoding/json"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// k8sApps are the Go programs deployed by deploy/k8s/base, with their HTTP port.
var k8sApps = map[string]int{
	"order-service": 8081, "inventory-service": 8082, "payment-service": 8083, "payment-gateway": 8084, "notification-service": 8085,
}

// k8sSecretEnv are the variables that hold credentials: they must come from a Secret.
var k8sSecretEnv = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MYSQL_DSN", "ADMIN_TOKEN", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"}

// k8sBuild is the output of one kustomization, decoded.
type k8sBuild struct {
	deployments  map[string]appsv1.Deployment
	statefulSets map[string]appsv1.StatefulSet
	services     map[string]corev1.Service
	configMaps   map[string]corev1.ConfigMap
	pdbs         map[string]policyv1.PodDisruptionBudget
	pvcs         map[string]corev1.PersistentVolumeClaim
	namespaces   map[string]bool
}

// strict decodes data into v, refusing fields v's type does not have (a misspelt or misplaced
// field would otherwise be dropped by the API server without a word).
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func buildK8s(t *testing.T, dir string) k8sBuild {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "../deploy/k8s/"+dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	b := k8sBuild{deployments: map[string]appsv1.Deployment{}, statefulSets: map[string]appsv1.StatefulSet{}, services: map[string]corev1.Service{},
		configMaps: map[string]corev1.ConfigMap{}, pdbs: map[string]policyv1.PodDisruptionBudget{}, pvcs: map[string]corev1.PersistentVolumeClaim{}, namespaces: map[string]bool{}}
	for _, r := range resources.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		kind, name := r.GetKind(), r.GetName()
		b.namespaces[r.GetNamespace()] = true
		if r.GetLabels()["app.kubernetes.io/part-of"] != "edm-shop" {
			t.Errorf("%s %s lacks the label app.kubernetes.io/part-of=edm-shop", kind, name)
		}
		var target any
		switch kind {
		case "Deployment":
			var o appsv1.Deployment
			err, target = strict(data, &o), &o
			b.deployments[name] = o
		case "StatefulSet":
			var o appsv1.StatefulSet
			err, target = strict(data, &o), &o
			b.statefulSets[name] = o
		case "Service":
			var o corev1.Service
			err, target = strict(data, &o), &o
			b.services[name] = o
		case "ConfigMap":
			var o corev1.ConfigMap
			err, target = strict(data, &o), &o
			b.configMaps[name] = o
		case "PodDisruptionBudget":
			var o policyv1.PodDisruptionBudget
			err, target = strict(data, &o), &o
			b.pdbs[name] = o
		case "PersistentVolumeClaim":
			var o corev1.PersistentVolumeClaim
			err, target = strict(data, &o), &o
			b.pvcs[name] = o
		default:
			t.Errorf("%s %s: a kind this test does not check (Secrets are referenced, never committed)", kind, name)
			continue
		}
		if err != nil {
			t.Errorf("%s %s does not decode strictly as %T: %v", kind, name, target, err)
		}
	}
	return b
}

// env resolves a container's environment: literal values, ConfigMap keys (envFrom and
// configMapKeyRef) and, for Secret references, a placeholder. secret lists the variables that
// come from a Secret.
func (b k8sBuild) env(t *testing.T, c corev1.Container) (env map[string]string, secret map[string]bool) {
	t.Helper()
	env, secret = map[string]string{}, map[string]bool{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("%s: envFrom other than a ConfigMap", c.Name)
			continue
		}
		cm, ok := b.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Errorf("%s: envFrom ConfigMap %s does not exist", c.Name, from.ConfigMapRef.Name)
		}
		maps.Copy(env, cm.Data)
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name], secret[e.Name] = "from-secret-"+e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key, true
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := b.configMaps[ref.Name].Data[ref.Key]
			if !ok {
				t.Errorf("%s: %s from ConfigMap %s key %s, which does not exist", c.Name, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		default:
			t.Errorf("%s: %s has a valueFrom this test does not resolve", c.Name, e.Name)
		}
	}
	return env, secret
}

// selects reports whether selector picks pods labelled labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkReachable checks that hostPort names a Service of the build with that port.
func (b k8sBuild) checkReachable(t *testing.T, what, hostPort string) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Errorf("%s %q: %v", what, hostPort, err)
		return
	}
	svc, ok := b.services[host]
	if !ok {
		t.Errorf("%s %q: no Service %s", what, hostPort, host)
		return
	}
	for _, p := range svc.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return
		}
	}
	t.Errorf("%s %q: Service %s has no port %s", what, hostPort, host, port)
}

func TestK8sManifests(t *testing.T) {
	readers := serviceEnvReaders()
	for _, dir := range []string{"base", "infra", "overlays/dev", "overlays/external"} {
		t.Run(strings.ReplaceAll(dir, "/", "-")+"/builds", func(t *testing.T) { buildK8s(t, dir) })
	}
	dev := buildK8s(t, "overlays/dev")
	if !maps.Equal(dev.namespaces, map[string]bool{"edm-shop": true}) {
		t.Errorf("namespaces %v, want edm-shop only", dev.namespaces)
	}

	for name, port := range k8sApps {
		t.Run(name, func(t *testing.T) {
			d, ok := dev.deployments[name]
			if !ok {
				t.Fatal("no Deployment")
			}
			pod := d.Spec.Template
			if !selects(d.Spec.Selector.MatchLabels, pod.Labels) {
				t.Errorf("selector %v does not select the pod labels %v", d.Spec.Selector.MatchLabels, pod.Labels)
			}
			if len(pod.Spec.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
			}
			c := pod.Spec.Containers[0]
			if c.Image != "edm-shop/"+name+":dev" {
				t.Errorf("image %q, want edm-shop/%s:dev (set yours with kustomize edit set image)", c.Image, name)
			}
			if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != int32(port) {
				t.Errorf("ports %+v, want http %d", c.Ports, port)
			}
			for probe, want := range map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
				if want == nil || want.HTTPGet == nil || want.HTTPGet.Path != probe || want.HTTPGet.Port.String() != "http" {
					t.Errorf("probe for %s: %+v", probe, want)
				}
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("resource requests %v", c.Resources.Requests)
			}

			env, secret := dev.env(t, c)
			if env["HTTP_ADDR"] != ":"+strconv.Itoa(port) {
				t.Errorf("HTTP_ADDR=%q, want :%d", env["HTTP_ADDR"], port)
			}
			if env["OTEL_SERVICE_NAME"] != name {
				t.Errorf("OTEL_SERVICE_NAME=%q", env["OTEL_SERVICE_NAME"])
			}
			for _, k := range k8sSecretEnv {
				if _, set := env[k]; set && !secret[k] {
					t.Errorf("%s is a credential but is not from a Secret", k)
				}
			}
			if read, ok := readers[name]; ok {
				checkEnvRead(t, name, env, read, envReadElsewhere)
			} else {
				for k := range env { // payment-gateway: main reads these
					if !slices.Contains([]string{"HTTP_ADDR", "GATEWAY_LEDGER_PATH", "OTEL_SERVICE_NAME"}, k) {
						t.Errorf("%s sets %s, which it does not read", name, k)
					}
				}
			}
			if b := env["KAFKA_BROKERS"]; b != "" {
				for _, hp := range strings.Split(b, ",") {
					dev.checkReachable(t, "KAFKA_BROKERS", hp)
				}
			}
			for _, k := range []string{"DYNAMODB_ENDPOINT", "PAYMENT_GATEWAY_URL", "MAILBOX_URL"} {
				if v := env[k]; v != "" {
					u, err := url.Parse(v)
					if err != nil {
						t.Errorf("%s=%q: %v", k, v, err)
						continue
					}
					dev.checkReachable(t, k, u.Host)
				}
			}
			if v := env["SMTP_ADDR"]; v != "" {
				dev.checkReachable(t, "SMTP_ADDR", v)
			}

			svc, ok := dev.services[name]
			if !ok {
				t.Fatal("no Service")
			}
			if !selects(svc.Spec.Selector, pod.Labels) {
				t.Errorf("Service selector %v does not select the pod labels %v", svc.Spec.Selector, pod.Labels)
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != int32(port) || svc.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("Service ports %+v, want %d -> http", svc.Spec.Ports, port)
			}
			pdb, ok := dev.pdbs[name]
			if !ok || pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, pod.Labels) {
				t.Errorf("no PodDisruptionBudget selecting the pods (%+v)", pdb.Spec)
			}
		})
	}

	t.Run("notification-service keeps its record on a volume", func(t *testing.T) {
		d := dev.deployments["notification-service"]
		env, _ := dev.env(t, d.Spec.Template.Spec.Containers[0])
		mounted := ""
		for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == m.Name && v.PersistentVolumeClaim != nil {
					if _, ok := dev.pvcs[v.PersistentVolumeClaim.ClaimName]; ok {
						mounted = m.MountPath
					}
				}
			}
		}
		if mounted == "" || !strings.HasPrefix(env["NOTIFICATION_DB_PATH"], mounted+"/") {
			t.Errorf("NOTIFICATION_DB_PATH %q is not on a mounted PersistentVolumeClaim (%q)", env["NOTIFICATION_DB_PATH"], mounted)
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Errorf("strategy %q, replicas %v: want one pod at a time on the ReadWriteOnce volume", d.Spec.Strategy.Type, d.Spec.Replicas)
		}
	})

	t.Run("infrastructure", func(t *testing.T) {
		compose := loadCompose(t)
		for name, kind := range map[string]string{"kafka": "StatefulSet", "mysql": "StatefulSet", "localstack": "Deployment", "mailpit": "Deployment"} {
			var spec corev1.PodSpec
			if kind == "StatefulSet" {
				s, ok := dev.statefulSets[name]
				if !ok {
					t.Errorf("no StatefulSet %s", name)
					continue
				}
				if len(s.Spec.VolumeClaimTemplates) == 0 {
					t.Errorf("%s keeps no data on a volume", name)
				}
				spec = s.Spec.Template.Spec
			} else {
				spec = dev.deployments[name].Spec.Template.Spec
			}
			if len(spec.Containers) != 1 {
				t.Errorf("%s: %d containers", name, len(spec.Containers))
				continue
			}
			c := spec.Containers[0]
			if want := service(t, compose, name).Image; c.Image != want {
				t.Errorf("%s image %q, want compose's %q", name, c.Image, want)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s lacks a readiness or liveness probe", name)
			}
			env, secret := dev.env(t, c)
			for _, k := range k8sSecretEnv {
				if _, set := env[k]; set && !secret[k] {
					t.Errorf("%s: %s is a credential but is not from a Secret", name, k)
				}
			}
			if name == "kafka" && env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] != "false" {
				t.Error("kafka auto-creates topics")
			}
			if name == "kafka" && env["KAFKA_ADVERTISED_LISTENERS"] != "PLAINTEXT://kafka:9092" {
				t.Errorf("kafka advertises %q, not the Service the services use", env["KAFKA_ADVERTISED_LISTENERS"])
			}
		}
	})

	t.Run("external", func(t *testing.T) {
		ext := buildK8s(t, "overlays/external")
		if len(ext.statefulSets) != 0 {
			t.Errorf("StatefulSets %v in the overlay for existing servers", slices.Collect(maps.Keys(ext.statefulSets)))
		}
		for _, name := range []string{"kafka", "mysql", "localstack", "mailpit"} {
			if _, ok := ext.services[name]; ok {
				t.Errorf("Service %s in the overlay for existing servers", name)
			}
		}
		if len(ext.deployments) != len(k8sApps) {
			t.Errorf("Deployments %v, want the %d programs only", slices.Collect(maps.Keys(ext.deployments)), len(k8sApps))
		}
		for cm, keys := range map[string][]string{"edm-shop-kafka": {"KAFKA_BROKERS"}, "order-service": {"DYNAMODB_ENDPOINT"}, "notification-service": {"SMTP_ADDR", "MAILBOX_URL"}} {
			for _, k := range keys {
				if got, in := ext.configMaps[cm].Data[k], dev.configMaps[cm].Data[k]; got == in {
					t.Errorf("%s %s is still the in-cluster %q", cm, k, in)
				}
			}
		}
	})
}
