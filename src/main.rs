use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cancer_aid::telemetry::init();
    let cli = cancer_aid::cli::Cli::parse();
    cancer_aid::cli::run(cli).await
}
