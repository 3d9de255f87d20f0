//! The overlay a component declares, built with the native kustomize engine.
//!
//! A component lists base files of `deploy/<dir>/`, generated Secrets, patches rendered from
//! `templates/` and image overrides — the original's `restricted_kustom_list`, `secretLiteral`,
//! `patchTemplate` and `image` helpers — on the engine's in-memory [`Kustomization`] builder.
//! Nothing is written to disk.
//!
//! The patches every component needs (resources, scheduling, volume claim, pod security) and the
//! setup Job are typed methods here, built from typed settings and checked against the objects
//! added so far: a patch that names a workload or container the component does not have is a
//! render error naming both, never a silently appended object or container.

use serde::Serialize;
use serde_json::{Value, json};

use super::RenderError;
use crate::apply::Object;
use crate::config::image::split_image;
use crate::config::{Resources, Scheduling};
use crate::crd::ComponentId;
use crate::kustomize::Kustomization;
use crate::setup::{JobCommand, SetupEnv};
use crate::{assets, render};

/// A workload of the component's base, as the target of a typed patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    pub kind: &'static str,
    pub name: &'static str,
}

impl Workload {
    pub const fn stateful_set(name: &'static str) -> Workload {
        Workload {
            kind: "StatefulSet",
            name,
        }
    }

    pub const fn deployment(name: &'static str) -> Workload {
        Workload {
            kind: "Deployment",
            name,
        }
    }

    /// One container of this workload.
    pub const fn container(self, name: &'static str) -> Container {
        Container {
            workload: self,
            name,
        }
    }
}

/// A container of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    pub workload: Workload,
    pub name: &'static str,
}

/// A persistent volume claim template of a StatefulSet, mounted into one of its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeClaim {
    /// The claim is `<name>-pvc` (the original's names), mounted by `container` at `mount_path`.
    pub name: &'static str,
    pub container: Container,
    pub mount_path: &'static str,
    pub size_gi: u32,
    /// `None`: the cluster's default storage class.
    pub storage_class: Option<String>,
}

/// A PersistentVolumeClaim of its own that a workload of the base already mounts by name, see
/// [`Overlay::persistent_volume_claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedClaim {
    pub name: &'static str,
    pub size_gi: u32,
    /// `None`: the cluster's default storage class.
    pub storage_class: Option<String>,
}

/// A standalone PersistentVolumeClaim mounted into one container of a Deployment or a
/// StatefulSet (for StatefulSets with one claim per replica, see [`VolumeClaim`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The PersistentVolumeClaim's name (the original's, e.g. `minio-pv-claim`).
    pub name: &'static str,
    /// The pod volume that holds it.
    pub volume: &'static str,
    pub container: Container,
    pub mount_path: &'static str,
    pub size_gi: u32,
    /// `None`: the cluster's default storage class.
    pub storage_class: Option<String>,
}

/// The node label the affinity and toleration patches read (`nuvolaris-role=core|invoker`).
pub const NODE_ROLE_LABEL: &str = "nuvolaris-role";

/// Which nodes a workload belongs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeRole {
    /// Everything but the invoker: preferably on core nodes, never required.
    Core,
    /// The invoker: only on invoker nodes (its action pods follow it there).
    Invoker,
}

impl NodeRole {
    fn value(self) -> &'static str {
        match self {
            NodeRole::Core => "core",
            NodeRole::Invoker => "invoker",
        }
    }

    /// Core: prefer core nodes, avoid invoker nodes (preferences only: single-node clusters
    /// exist). Invoker: only invoker nodes (its action pods follow it there).
    fn node_affinity(self) -> Value {
        let role_is = |operator: &str, value: &str| {
            json!({"matchExpressions": [
                {"key": NODE_ROLE_LABEL, "operator": operator, "values": [value]}
            ]})
        };
        match self {
            NodeRole::Core => json!({"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "preference": role_is("NotIn", "invoker")},
                {"weight": 80, "preference": role_is("In", "core")},
            ]}),
            NodeRole::Invoker => json!({"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [role_is("In", "invoker")],
            }}),
        }
    }

    /// The toleration of the `nuvolaris-role=<role>:NoSchedule` taint.
    fn tolerations(self) -> Value {
        json!([{"key": NODE_ROLE_LABEL, "operator": "Equal", "value": self.value(), "effect": "NoSchedule"}])
    }
}

/// One component's kustomization.
pub struct Overlay {
    component: ComponentId,
    kustomization: Kustomization,
    /// Names of the resource files added so far, so that each gets a unique one.
    count: usize,
    /// The objects added so far (bases, templates, objects), as written: what patches may target.
    targets: Vec<Object>,
    /// The setup Jobs added with [`Overlay::setup_job`].
    setup_jobs: Vec<String>,
}

/// What an overlay builds to.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub objects: Vec<Object>,
    /// Names of the setup Jobs among `objects`: their completion means the component is set up.
    pub setup_jobs: Vec<String>,
}

impl Overlay {
    /// An overlay for `component`, putting every object into `namespace`.
    pub fn new(component: ComponentId, namespace: &str) -> Overlay {
        Overlay {
            component,
            kustomization: Kustomization::new().namespace(namespace),
            count: 0,
            targets: Vec::new(),
            setup_jobs: Vec::new(),
        }
    }

    /// Adds base manifests `deploy/<dir>/<file>` (the original's `restricted_kustom_list`).
    pub fn base(mut self, dir: &str, files: &[&str]) -> Result<Overlay, RenderError> {
        for file in files {
            let path = format!("deploy/{dir}/{file}");
            let text = assets::file(&path)
                .ok_or_else(|| self.defect(format!("missing embedded file {path}")))?;
            self.remember(text, &path)?;
            self.kustomization = self.kustomization.resource_file(&path, text);
        }
        Ok(self)
    }

    /// Adds a whole object rendered from `templates/<template>`.
    pub fn resource_template<C: Serialize>(
        mut self,
        template: &str,
        context: C,
    ) -> Result<Overlay, RenderError> {
        let text = self.render(template, context)?;
        self.remember(&text, template)?;
        let name = self.next_name(template);
        self.kustomization = self.kustomization.resource_file(&name, text);
        Ok(self)
    }

    /// Adds an object built in code.
    pub fn object(mut self, object: &Object) -> Overlay {
        self.targets.push(object.clone());
        let name = self.next_name("object");
        self.kustomization = self.kustomization.resource_object(&name, object);
        self
    }

    /// A generated Secret with a content-hash name suffix; references to `name` in the overlay's
    /// workloads are rewritten to the hashed name, so a changed value rolls the pods that use it.
    pub fn secret<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        name: &str,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Overlay {
        for (key, value) in entries {
            self.kustomization =
                self.kustomization
                    .secret_literal(name, key.as_ref(), value.as_ref());
        }
        self
    }

    /// A generated ConfigMap with a content-hash name suffix; like [`Overlay::secret`],
    /// references in the overlay's workloads follow the hashed name, so a change rolls the pods.
    pub fn config_map<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        name: &str,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Overlay {
        for (key, value) in entries {
            self.kustomization = self.kustomization.config_map_file(
                name,
                key.as_ref(),
                value.as_ref().as_bytes().to_vec(),
            );
        }
        self
    }

    /// A strategic-merge patch rendered from `templates/<template>`.
    pub fn patch<C: Serialize>(
        mut self,
        template: &str,
        context: C,
    ) -> Result<Overlay, RenderError> {
        let text = self.render(template, context)?;
        self.kustomization = self.kustomization.patch_strategic(text);
        Ok(self)
    }

    /// Replaces image `name` (any tag) with `new_image` (a full reference, tag included).
    pub fn image(mut self, name: &str, new_image: &str) -> Overlay {
        let (new_name, new_tag) = split_image(new_image);
        self.kustomization = self.kustomization.image(name, Some(new_name), new_tag);
        self
    }

    /// CPU and memory requests and limits of one container (an empty value is left out).
    pub fn resources(
        self,
        target: Container,
        resources: &Resources,
    ) -> Result<Overlay, RenderError> {
        self.check_container(target)?;
        let quantities = |cpu: &str, memory: &str| {
            let mut map = serde_json::Map::new();
            for (key, value) in [("cpu", cpu), ("memory", memory)] {
                if !value.is_empty() {
                    map.insert(key.into(), json!(value));
                }
            }
            Value::Object(map)
        };
        let patch = workload_patch(
            target.workload,
            json!({"containers": [{
                "name": target.name,
                "resources": {
                    "requests": quantities(&resources.cpu_request, &resources.memory_request),
                    "limits": quantities(&resources.cpu_limit, &resources.memory_limit),
                },
            }]}),
        );
        Ok(self.strategic(patch))
    }

    /// Size and storage class of a PersistentVolumeClaim of the base (a claim of its own, not
    /// a StatefulSet's template).
    pub fn claim_size(
        self,
        name: &str,
        size_gi: u32,
        storage_class: Option<&str>,
    ) -> Result<Overlay, RenderError> {
        let found = self.targets.iter().any(|o| {
            o.get("kind").and_then(Value::as_str) == Some("PersistentVolumeClaim")
                && o.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        });
        if !found {
            return Err(self.defect(format!(
                "a patch targets PersistentVolumeClaim {name}, which the component does not deploy"
            )));
        }
        let mut spec = json!({"resources": {"requests": {"storage": format!("{size_gi}Gi")}}});
        if let Some(class) = storage_class {
            spec["storageClassName"] = json!(class);
        }
        Ok(self.strategic(json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name},
            "spec": spec,
        })))
    }

    /// The number of pods of a workload.
    pub fn replicas(self, target: Workload, replicas: u32) -> Result<Overlay, RenderError> {
        self.check_workload(target)?;
        let patch = json!({
            "apiVersion": "apps/v1",
            "kind": target.kind,
            "metadata": {"name": target.name},
            "spec": {"replicas": replicas},
        });
        Ok(self.strategic(patch))
    }

    /// Plain environment values of one container (merged by name with the base's).
    pub fn env(self, target: Container, values: &[(&str, &str)]) -> Result<Overlay, RenderError> {
        self.check_container(target)?;
        let env: Vec<Value> = values
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let patch = workload_patch(
            target.workload,
            json!({"containers": [{"name": target.name, "env": env}]}),
        );
        Ok(self.strategic(patch))
    }

    /// Scheduling of a core workload: prefer core nodes and avoid invoker nodes, at most one pod
    /// with the `name` label `anti_affinity_name` per node (affinity); tolerate the core taint
    /// (tolerations). Nothing when neither is asked for.
    pub fn scheduling(
        self,
        target: Workload,
        scheduling: Scheduling,
        anti_affinity_name: &str,
    ) -> Result<Overlay, RenderError> {
        self.place(target, scheduling, anti_affinity_name, NodeRole::Core)
    }

    /// Scheduling of a workload of the invoker nodes (the invoker): only on
    /// `nuvolaris-role=invoker` nodes, at most one pod named `anti_affinity_name` per node
    /// (affinity); tolerate the invoker taint (tolerations). Nothing when neither is asked for.
    pub fn invoker_scheduling(
        self,
        target: Workload,
        scheduling: Scheduling,
        anti_affinity_name: &str,
    ) -> Result<Overlay, RenderError> {
        self.place(target, scheduling, anti_affinity_name, NodeRole::Invoker)
    }

    fn place(
        self,
        target: Workload,
        scheduling: Scheduling,
        anti_affinity_name: &str,
        role: NodeRole,
    ) -> Result<Overlay, RenderError> {
        if !scheduling.any() {
            return Ok(self);
        }
        self.check_workload(target)?;
        let mut pod = serde_json::Map::new();
        if scheduling.affinity {
            pod.insert(
                "affinity".into(),
                json!({
                    "nodeAffinity": role.node_affinity(),
                    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                        "labelSelector": {"matchExpressions": [
                            {"key": "name", "operator": "In", "values": [anti_affinity_name]}
                        ]},
                        "topologyKey": "kubernetes.io/hostname",
                    }]},
                }),
            );
        }
        if scheduling.tolerations {
            pod.insert("tolerations".into(), role.tolerations());
        }
        Ok(self.strategic(workload_patch(target, Value::Object(pod))))
    }

    /// Marks a workload whose data lives only in its pods' memory: a takeover keeps its live
    /// pod template until the user consents to a restart (see `apply::hold`).
    pub fn in_memory(self, target: Workload) -> Result<Overlay, RenderError> {
        self.check_workload(target)?;
        let patch = json!({
            "apiVersion": "apps/v1",
            "kind": target.kind,
            "metadata": {"name": target.name, "annotations": {
                crate::apply::hold::IN_MEMORY_ANNOTATION: crate::apply::hold::IN_MEMORY,
            }},
        });
        Ok(self.strategic(patch))
    }

    /// Non-root pod security for images that support it (bitnami: uid 1001).
    pub fn pod_security(self, target: Workload) -> Result<Overlay, RenderError> {
        self.pod_security_as(target, 1001)
    }

    /// Non-root pod security with the image's own user (e.g. 65534, `nobody`, for the
    /// Prometheus images): runs as `uid`, volumes writable by its group.
    pub fn pod_security_as(self, target: Workload, uid: u32) -> Result<Overlay, RenderError> {
        self.check_workload(target)?;
        let patch = workload_patch(
            target,
            json!({"securityContext": {"fsGroup": uid, "runAsUser": uid}}),
        );
        Ok(self.strategic(patch))
    }

    /// Drops every Linux capability of one container (OpenShift's restricted policy expects it).
    pub fn drop_capabilities(self, target: Container) -> Result<Overlay, RenderError> {
        self.check_container(target)?;
        let patch = workload_patch(
            target.workload,
            json!({"containers": [{
                "name": target.name,
                "securityContext": {"capabilities": {"drop": ["ALL"]}},
            }]}),
        );
        Ok(self.strategic(patch))
    }

    /// A volume claim template of a StatefulSet with its size and storage class, mounted into
    /// one container. `volumeClaimTemplates` has no merge key, so the whole template is stated.
    pub fn volume_claim(self, claim: &VolumeClaim) -> Result<Overlay, RenderError> {
        let pvc = format!("{}-pvc", claim.name);
        self.volume_claim_named(claim, &pvc)
    }

    /// [`Overlay::volume_claim`] with the template named `pvc` exactly (a name the original
    /// gave without the `-pvc` suffix: existing claims keep their data only under their name).
    pub fn volume_claim_named(
        self,
        claim: &VolumeClaim,
        pvc: &str,
    ) -> Result<Overlay, RenderError> {
        self.check_container(claim.container)?;
        if claim.container.workload.kind != "StatefulSet" {
            return Err(self.defect(format!(
                "volume claim {}: {} {} is not a StatefulSet",
                claim.name, claim.container.workload.kind, claim.container.workload.name
            )));
        }
        let mut spec = json!({
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": format!("{}Gi", claim.size_gi)}},
        });
        if let Some(class) = &claim.storage_class {
            spec["storageClassName"] = json!(class);
        }
        let mut patch = workload_patch(
            claim.container.workload,
            json!({"containers": [{
                "name": claim.container.name,
                "volumeMounts": [{"name": pvc, "mountPath": claim.mount_path}],
            }]}),
        );
        patch["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": pvc}, "spec": spec}]);
        Ok(self.strategic(patch))
    }

    /// A PersistentVolumeClaim of its own (not a StatefulSet template: the original's fixed
    /// names, e.g. `kafka-pvc-data`, so the data of an installation it made is found again),
    /// which a workload of the overlay must mount. Never pruned or owned by the Whisk (see
    /// `apply`): the data outlives the component.
    pub fn persistent_volume_claim(self, claim: &MountedClaim) -> Result<Overlay, RenderError> {
        let mounted = self.targets.iter().any(|o| {
            o.pointer("/spec/template/spec/volumes")
                .and_then(Value::as_array)
                .is_some_and(|volumes| {
                    volumes.iter().any(|v| {
                        v.pointer("/persistentVolumeClaim/claimName")
                            .and_then(Value::as_str)
                            == Some(claim.name)
                    })
                })
        });
        if !mounted {
            return Err(self.defect(format!(
                "volume claim {} is mounted by no workload of the component",
                claim.name
            )));
        }
        let object = standalone_claim(claim.name, claim.size_gi, claim.storage_class.as_deref());
        Ok(self.object(&object))
    }

    /// A standalone volume claim, with the pod volume and mount that use it. The claim is
    /// applied like any object but never pruned nor owned by the Whisk (see `apply`): its
    /// data outlives the component.
    pub fn claim(self, claim: &Claim) -> Result<Overlay, RenderError> {
        self.check_container(claim.container)?;
        let pvc = standalone_claim(claim.name, claim.size_gi, claim.storage_class.as_deref());
        let patch = workload_patch(
            claim.container.workload,
            json!({
                "volumes": [{"name": claim.volume, "persistentVolumeClaim": {"claimName": claim.name}}],
                "containers": [{
                    "name": claim.container.name,
                    "volumeMounts": [{"name": claim.volume, "mountPath": claim.mount_path}],
                }],
            }),
        );
        Ok(self.object(&pvc).strategic(patch))
    }

    /// The Job that runs `nuvolaris-operator setup <step>` with `env`: plain values in the Job,
    /// secret ones in the generated Secret `<job>-auth-<hash>` it loads with `envFrom`. A new
    /// value changes the Secret's name, hence the Job, which is then re-created and re-run.
    pub fn setup_job<C: JobCommand>(self, env: &SetupEnv<C>, image: &str) -> Overlay {
        let job = env.step.job();
        let object = setup_job_object(job, &format!("{job}-auth"), env, image);
        let mut overlay = self.command_secret(env).object(&object);
        overlay.setup_jobs.push(job.to_owned());
        overlay
    }

    /// The CronJob that runs `nuvolaris-operator <command>` on `schedule` (UTC), with `env` as
    /// [`Overlay::setup_job`] writes it. One run at a time (`Forbid`), bounded by
    /// `deadline_seconds`; a run missed by more than a minute is skipped, the next one catches
    /// up. `service_account`: the pod talks to the API server with it (else it gets no token).
    pub fn cron_job<C: JobCommand>(
        self,
        env: &SetupEnv<C>,
        schedule: &str,
        deadline_seconds: u64,
        image: &str,
        service_account: Option<&str>,
    ) -> Overlay {
        let job = env.step.job();
        let object = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": job, "labels": {"name": job}},
            "spec": {
                "schedule": schedule,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 60,
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": deadline_seconds,
                    "template": command_pod(job, &format!("{job}-auth"), env, image, service_account, "OnFailure"),
                }},
            },
        });
        self.command_secret(env).object(&object)
    }

    /// The generated Secret `<job>-auth` with the secret values of `env`.
    fn command_secret<C: JobCommand>(self, env: &SetupEnv<C>) -> Overlay {
        let secrets: Vec<(String, String)> = env
            .secret
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_owned()))
            .collect();
        self.secret(&format!("{}-auth", env.step.job()), secrets)
    }

    /// The kustomization as assembled (for conformance tests against `kubectl kustomize`).
    pub fn kustomization(&self) -> &Kustomization {
        &self.kustomization
    }

    /// Builds the objects.
    pub fn build(self) -> Result<Built, RenderError> {
        let objects = self
            .kustomization
            .build()
            .map_err(|e| self.defect(e.to_string()))?;
        Ok(Built {
            objects,
            setup_jobs: self.setup_jobs,
        })
    }

    fn strategic(mut self, patch: Value) -> Overlay {
        // JSON is YAML: the engine parses the patch as it would a patch file.
        self.kustomization = self.kustomization.patch_strategic(patch.to_string());
        self
    }

    fn remember(&mut self, text: &str, what: &str) -> Result<(), RenderError> {
        for document in serde_yaml_ng::Deserializer::from_str(text) {
            let object: Value = serde::Deserialize::deserialize(document)
                .map_err(|e| self.defect(format!("{what} is not valid YAML: {e}")))?;
            if object.is_object() {
                self.targets.push(object);
            }
        }
        Ok(())
    }

    fn find(&self, target: Workload) -> Result<&Object, RenderError> {
        self.targets
            .iter()
            .find(|o| {
                o.get("kind").and_then(Value::as_str) == Some(target.kind)
                    && o.pointer("/metadata/name").and_then(Value::as_str) == Some(target.name)
            })
            .ok_or_else(|| {
                self.defect(format!(
                    "a patch targets {} {}, which the component does not deploy",
                    target.kind, target.name
                ))
            })
    }

    fn check_workload(&self, target: Workload) -> Result<(), RenderError> {
        self.find(target).map(|_| ())
    }

    fn check_container(&self, target: Container) -> Result<(), RenderError> {
        let workload = self.find(target.workload)?;
        let has_container = workload
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .is_some_and(|containers| {
                containers
                    .iter()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(target.name))
            });
        if has_container {
            Ok(())
        } else {
            Err(self.defect(format!(
                "a patch targets container {} of {} {}, which has no such container",
                target.name, target.workload.kind, target.workload.name
            )))
        }
    }

    fn next_name(&mut self, what: &str) -> String {
        self.count += 1;
        format!(
            "{}/{}-{}.yaml",
            self.component.key(),
            what.replace('/', "-"),
            self.count
        )
    }

    fn render<C: Serialize>(&self, template: &str, context: C) -> Result<String, RenderError> {
        render::render(template, context).map_err(|e| self.defect(e.to_string()))
    }

    fn defect(&self, message: String) -> RenderError {
        RenderError::Defect {
            component: self.component,
            message,
        }
    }
}

/// The affinity of core workloads: prefer `nuvolaris-role=core` nodes, avoid invoker nodes
/// (preferences only: single-node clusters exist).
pub fn core_node_affinity() -> Value {
    json!({"nodeAffinity": NodeRole::Core.node_affinity()})
}

/// The tolerations of core workloads: the `nuvolaris-role=core:NoSchedule` taint.
pub fn core_tolerations() -> Value {
    NodeRole::Core.tolerations()
}

/// `text` percent-encoded for the user or password part of a URL (`postgresql://u:p@h/db`):
/// everything but letters, digits and `-._~`, so `@`, `:`, `#`, `/`, quotes and newlines in a
/// password cannot break the URL.
pub fn url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Turns every NodePort Service into a ClusterIP Service (`nuvolaris.nodeports: false`): the
/// same ports inside the cluster, none on the nodes.
pub fn without_node_ports(objects: &mut [Object]) {
    for object in objects {
        let is_node_port = object.get("kind").and_then(Value::as_str) == Some("Service")
            && object.pointer("/spec/type").and_then(Value::as_str) == Some("NodePort");
        if !is_node_port {
            continue;
        }
        object["spec"]["type"] = json!("ClusterIP");
        if let Some(ports) = object
            .pointer_mut("/spec/ports")
            .and_then(Value::as_array_mut)
        {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.remove("nodePort");
            }
        }
    }
}

/// The PersistentVolumeClaim of a standalone claim ([`Claim`], [`MountedClaim`]): one node's
/// ReadWriteOnce volume of `size_gi`, in `storage_class` or the cluster's default.
fn standalone_claim(name: &str, size_gi: u32, storage_class: Option<&str>) -> Object {
    let mut spec = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": format!("{size_gi}Gi")}},
    });
    if let Some(class) = storage_class {
        spec["storageClassName"] = json!(class);
    }
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// The Job `job` that runs `nuvolaris-operator <args>` of `env` with `image`: the plain values in
/// its environment, the secret ones from the Secret `secret` (`envFrom`), never in the Job
/// itself. Shared by [`Overlay::setup_job`] and the WhiskUser controller (one Job per user).
pub fn setup_job_object<C: JobCommand>(
    job: &str,
    secret: &str,
    env: &SetupEnv<C>,
    image: &str,
) -> Object {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job, "labels": {"name": job}},
        "spec": {
            "backoffLimit": 3,
            "template": command_pod(job, secret, env, image, None, "Never"),
        },
    })
}

/// The pod template of a Job running `nuvolaris-operator <args>` of `env`: the operator's own
/// image, restricted, the secret values from `<job>-auth` (`envFrom`), the plain ones in `env`.
/// Without a service account the pod gets no API token: it talks to the data services only.
fn command_pod<C: JobCommand>(
    job: &str,
    secret: &str,
    env: &SetupEnv<C>,
    image: &str,
    service_account: Option<&str>,
    restart_policy: &str,
) -> Value {
    let step = env.step;
    let plain: Vec<Value> = env
        .plain
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let mut spec = json!({
        "restartPolicy": restart_policy,
        "automountServiceAccountToken": service_account.is_some(),
        "containers": [{
            "name": step.container(),
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "args": step.args(),
            "envFrom": [{"secretRef": {"name": secret}}],
            "env": plain,
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "runAsNonRoot": true,
                "capabilities": {"drop": ["ALL"]},
            },
        }],
    });
    if let Some(account) = service_account {
        spec["serviceAccountName"] = json!(account);
    }
    json!({
        "metadata": {
            "labels": {"job": job, "name": job},
            "annotations": {super::ops_config::ANNOTATE_VERSION: "true"},
        },
        "spec": spec,
    })
}

/// A strategic-merge patch of the pod template of `target`.
fn workload_patch(target: Workload, pod_spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": target.kind,
        "metadata": {"name": target.name},
        "spec": {"template": {"spec": pod_spec}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay() -> Overlay {
        Overlay::new(ComponentId::Couchdb, "ns")
            .base("couchdb", &["statefulset.yaml"])
            .expect("the base exists")
    }

    #[test]
    fn a_patch_naming_a_missing_container_is_a_render_error() {
        let resources = Resources {
            cpu_request: "1".into(),
            cpu_limit: "1".into(),
            memory_request: "1G".into(),
            memory_limit: "1G".into(),
        };
        let err = overlay()
            .resources(
                Workload::stateful_set("couchdb").container("couchd"),
                &resources,
            )
            .err()
            .expect("a typo in the container name");
        let message = err.to_string();
        assert!(
            message.contains("couchdb") && message.contains("couchd "),
            "{message}"
        );
        assert!(matches!(err, RenderError::Defect { .. }));
        overlay()
            .resources(
                Workload::stateful_set("couchdb").container("couchdb"),
                &resources,
            )
            .expect("the real container");
    }

    #[test]
    fn url_userinfo_encodes_every_special_character() {
        assert_eq!(url_userinfo("Abc-1._~"), "Abc-1._~");
        assert_eq!(
            url_userinfo("p@:#/?'\"\n %"),
            "p%40%3A%23%2F%3F%27%22%0A%20%25"
        );
        assert_eq!(url_userinfo("è"), "%C3%A8");
    }

    #[test]
    fn node_ports_become_cluster_ips() {
        let mut objects = vec![
            json!({"kind": "Service", "spec": {"type": "NodePort", "ports": [{"port": 1, "nodePort": 30001}]}}),
            json!({"kind": "Service", "spec": {"ports": [{"port": 2}]}}),
        ];
        let untouched = objects[1].clone();
        without_node_ports(&mut objects);
        assert_eq!(
            objects[0],
            json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 1}]}})
        );
        assert_eq!(objects[1], untouched);
    }

    #[test]
    fn a_standalone_claim_is_mounted_where_asked() {
        let claim = Claim {
            name: "data-claim",
            volume: "data",
            container: Workload::stateful_set("couchdb").container("couchdb"),
            mount_path: "/data",
            size_gi: 3,
            storage_class: Some("fast".into()),
        };
        let objects = overlay()
            .claim(&claim)
            .expect("claim")
            .build()
            .expect("builds")
            .objects;
        let pvc = objects
            .iter()
            .find(|o| o["kind"] == "PersistentVolumeClaim")
            .expect("the claim");
        assert_eq!(pvc["metadata"]["name"], "data-claim");
        assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "3Gi");
        assert_eq!(pvc["spec"]["storageClassName"], "fast");
        let sts = objects
            .iter()
            .find(|o| o["kind"] == "StatefulSet")
            .expect("sts");
        let pod = &sts["spec"]["template"]["spec"];
        assert!(pod["volumes"].as_array().expect("volumes").iter().any(
            |v| v["name"] == "data" && v["persistentVolumeClaim"]["claimName"] == "data-claim"
        ));
        let mounts = pod["containers"][0]["volumeMounts"]
            .as_array()
            .expect("mounts");
        assert!(
            mounts
                .iter()
                .any(|m| m["name"] == "data" && m["mountPath"] == "/data")
        );
        let wrong = Claim {
            container: Workload::stateful_set("couchdb").container("nope"),
            ..claim
        };
        assert!(
            overlay().claim(&wrong).is_err(),
            "a missing container is a defect"
        );
    }

    #[test]
    fn a_patch_naming_a_missing_workload_is_a_render_error() {
        let err = overlay()
            .pod_security(Workload::deployment("couchdb"))
            .err()
            .expect("no such Deployment");
        assert!(err.to_string().contains("Deployment couchdb"), "{err}");
    }
}
