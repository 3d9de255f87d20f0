//! Logging: `tracing` to stderr, as text or JSON lines, filtered by `RUST_LOG`
//! (default `info`, with kube's own chatter at `warn`).

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

const DEFAULT_FILTER: &str = "info,kube=warn,kube_runtime=warn,tower=warn,hyper=warn";

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the global subscriber. A second call is a no-op (tests, or `run` after `setup`).
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        // colours only on a terminal: log files and collectors get plain text
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Logging for the one-shot `setup` commands run inside Jobs: text, same filter.
pub fn init_for_setup() {
    init(LogFormat::Text);
}
