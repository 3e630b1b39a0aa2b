//! Writes a valid roster .xlsx of N rows for benchmarks: nine columns, IDs as text.
//!
//!     cargo run --release --example gen_roster -- 1000000 target/roster-1m.xlsx

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().unwrap_or_else(|| "1000".into()).parse()?;
    let out = args
        .next()
        .unwrap_or_else(|| format!("target/roster-{n}.xlsx"));
    cancer_aid::roster::generate::write_roster(n, std::path::Path::new(&out))?;
    println!("wrote {n} rows to {out}");
    Ok(())
}
