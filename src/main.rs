use clap::Parser;

// The roster import frees on its writer thread what its parser thread allocated, a million rows
// a run; glibc's malloc serialises those frees (docs/performance.md, "Import speed"). mimalloc does not, and
// its transparent huge pages are off (feature no_thp) so that memory is not held in 2 MiB steps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // The roster parser's child process (roster::parser): no runtime, no logging set-up, so
    // that its memory limit is spent on the file alone.
    let mut args = std::env::args();
    if args.nth(1).as_deref() == Some(cancer_aid::roster::parser::SUBCOMMAND) {
        let code = cancer_aid::roster::parser::child_main(&args.next().unwrap_or_default());
        std::process::exit(code);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            cancer_aid::telemetry::init();
            let cli = cancer_aid::cli::Cli::parse();
            cancer_aid::cli::run(cli).await
        })
}
