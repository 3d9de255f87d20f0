//! The operator daemon alone (what `nuvolaris-operator run` does), for trying the runtime
//! before the CLI wires it: `cargo run --example operator -- --namespace nuvolaris`.

use clap::Parser;

#[derive(Parser)]
#[command(about = "Run the nuvolaris operator (Whisk controller, /livez /readyz /metrics)")]
struct Args {
    #[command(flatten)]
    options: nuvolaris_operator::controller::DaemonOptions,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match nuvolaris_operator::controller::run_daemon(Args::parse().options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
