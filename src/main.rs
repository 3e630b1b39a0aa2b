use clap::Parser;

// The roster import frees on its writer thread what its parser thread allocated, a million rows
// a run; glibc's malloc serialises those frees (README, "Import speed"). mimalloc does not, and
// its transparent huge pages are off (feature no_thp) so that memory is not held in 2 MiB steps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cancer_aid::telemetry::init();
    let cli = cancer_aid::cli::Cli::parse();
    cancer_aid::cli::run(cli).await
}
