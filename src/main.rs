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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Run(cli.run))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
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
