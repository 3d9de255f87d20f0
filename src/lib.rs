//! nuvolaris-operator: installs and runs Apache OpenWhisk (OpenServerless) on Kubernetes.
//!
//! The pipeline, one module per stage:
//! `crd` (spec types) → `config` (typed view of one CR + cluster facts) →
//! `render` + `components` (pure: base YAML + minijinja + `kustomize`) →
//! `apply` (server-side apply, prune) → `setup` (in-cluster setup Jobs) →
//! `controller` (reconcile loop, status, events).

pub mod apply;
pub mod assets;
pub mod components;
pub mod config;
pub mod controller;
pub mod crd;
pub mod diff;
pub mod health;
pub mod kustomize;
pub mod leader;
pub mod metrics;
pub mod offline;
pub mod periodic;
pub mod render;
pub mod secret;
pub mod setup;
pub mod telemetry;
pub mod users;
