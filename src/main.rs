//! `nuvolaris-operator`: the operator daemon and its offline tools.
//!
//! Every error ends as one line on stderr and exit status 1; nothing panics on bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "nuvolaris-operator",
    version,
    about = "Installs and runs Apache OpenWhisk (OpenServerless) on Kubernetes",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand the operator runs, with these options.
    #[command(flatten)]
    run: nuvolaris_operator::controller::DaemonOptions,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator against the cluster of the current kubeconfig or service account (default).
    Run(nuvolaris_operator::controller::DaemonOptions),
    /// Print the CustomResourceDefinitions (Whisk, WhiskUser, Workflows) as YAML.
    Crd,
    /// Print every object the operator would apply for a Whisk CR, without a cluster.
    Render {
        /// The Whisk CR (YAML).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Kubernetes flavour to render for (kind, k3s, microk8s, eks, gke, aks, lks, openshift, generic).
        #[arg(long)]
        kube: Option<String>,
    },
    /// Show what applying a Whisk CR would change on the cluster of the current kubeconfig, object
    /// by object, like `kubectl diff` (server-side dry run, secrets masked). Exit status: 0 no
    /// differences, 1 differences, 2 error.
    Diff {
        /// The Whisk CR (YAML).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Render for this Kubernetes flavour instead of the detected one.
        #[arg(long)]
        kube: Option<String>,
    },
    /// Build a kustomization directory natively and print the objects, like `kubectl kustomize DIR`.
    Kustomize {
        /// Directory holding a kustomization.yaml.
        dir: PathBuf,
    },
    /// Run a setup step inside the cluster (used by the operator's setup Jobs).
    Setup {
        #[arg(value_enum)]
        step: nuvolaris_operator::setup::SetupStep,
    },
    /// Invoke the actions whose cron annotation is due (run by the CronJob `cron-init`).
    Cron,
    /// Check the WhiskUsers' quotas and enforce them (run by the CronJob `quota-checker`).
    Quota,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run(cli.run));
    if let Command::Diff { file, kube } = &command {
        // kubectl diff's convention: 1 means "differences", so errors are 2
        return match diff(file, kube.as_deref()) {
            Ok(true) => ExitCode::from(1),
            Ok(false) => ExitCode::SUCCESS,
            Err(message) => {
                print_error(&message);
                ExitCode::from(2)
            }
        };
    }
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            print_error(&message);
            ExitCode::FAILURE
        }
    }
}

/// One `error:` line per line of the message (a rejected CR lists each field on its own line).
fn print_error(message: &str) {
    for line in message.lines() {
        eprintln!("error: {line}");
    }
}

/// Prints the diff; returns whether anything differs.
fn diff(file: &std::path::Path, kube: Option<&str>) -> Result<bool, String> {
    let runtime = tokio_runtime()?;
    runtime.block_on(async {
        let client = kube::Client::try_default()
            .await
            .map_err(|e| format!("cannot connect to the cluster: {e}"))?;
        let diff = nuvolaris_operator::diff::diff_file(&client, file, kube)
            .await
            .map_err(|e| e.to_string())?;
        print!("{}", diff.text);
        Ok(!diff.is_empty())
    })
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Crd => {
            print!("{}", nuvolaris_operator::crd::crds_yaml());
            Ok(())
        }
        Command::Render { file, kube } => {
            let output = nuvolaris_operator::offline::render_file(&file, kube.as_deref())
                .map_err(|e| e.to_string())?;
            for warning in &output.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", output.yaml);
            Ok(())
        }
        Command::Diff { .. } => Err("diff is handled in main".into()),
        Command::Kustomize { dir } => {
            let objects =
                nuvolaris_operator::kustomize::build_dir(&dir).map_err(|e| e.to_string())?;
            print!("{}", nuvolaris_operator::kustomize::to_yaml(&objects));
            Ok(())
        }
        Command::Setup { step } => {
            let runtime = tokio_runtime()?;
            runtime.block_on(async {
                nuvolaris_operator::telemetry::init_for_setup();
                let report = step.run_from_env().await.map_err(|e| e.to_string())?;
                println!("{report}");
                Ok(())
            })
        }
        Command::Cron => {
            use nuvolaris_operator::periodic::{TaskSettings, cron};
            let runtime = tokio_runtime()?;
            runtime.block_on(async {
                nuvolaris_operator::telemetry::init_for_setup();
                let settings = cron::CronSettings::from_env().map_err(|e| e.to_string())?;
                let report = cron::run_cron(&settings, chrono::Utc::now())
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{report}");
                match report.failed {
                    0 => Ok(()),
                    n => Err(format!(
                        "{n} invocations failed (the next run retries them)"
                    )),
                }
            })
        }
        Command::Quota => {
            use nuvolaris_operator::periodic::{TaskSettings, quota};
            let runtime = tokio_runtime()?;
            runtime.block_on(async {
                nuvolaris_operator::telemetry::init_for_setup();
                let settings = quota::QuotaSettings::from_env().map_err(|e| e.to_string())?;
                let client = kube::Client::try_default()
                    .await
                    .map_err(|e| format!("cannot connect to the cluster: {e}"))?;
                let report = quota::run_quota(&settings, client)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{report}");
                match report.failed {
                    0 => Ok(()),
                    n => Err(format!("{n} quotas could not be checked or enforced")),
                }
            })
        }
        Command::Run(options) => {
            let runtime = tokio_runtime()?;
            runtime
                .block_on(nuvolaris_operator::controller::run_daemon(options))
                .map_err(|e| e.to_string())
        }
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
