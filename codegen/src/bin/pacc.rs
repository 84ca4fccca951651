//! `pacc`: the spec compiler for humans.
//!
//! In: a spec directory or `.pac` files. Out: `check` (diagnostics, exit 1 on error), `expand`
//! (the generated Rust), `dump-ir` (the resolved IR), `docs` (Markdown event/type reference).

use clap::{Parser, Subcommand};
use pac_codegen::{Failure, Options};
use std::path::PathBuf;
use std::process::ExitCode;

/// Command line.
#[derive(Parser)]
#[command(name = "pacc", about = "Compile and inspect .pac specs")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Subcommands; each takes a directory or files.
#[derive(Subcommand)]
enum Cmd {
    /// Check the spec; print diagnostics.
    Check(Args),
    /// Print the generated Rust.
    Expand(Args),
    /// Print the resolved IR.
    DumpIr(Args),
    /// Print the Markdown event and type reference.
    Docs(Args),
}

/// Shared arguments.
#[derive(clap::Args)]
struct Args {
    /// A directory (all its `.pac` files) or `.pac` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Name of the generated event enum.
    #[arg(long, default_value = "SslEvent")]
    event_enum: String,
    /// Paths are shown relative to this directory.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

fn files(args: &Args) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for p in &args.paths {
        if p.is_dir() {
            out.extend(pac_codegen::spec_files(p).map_err(|e| Failure {
                rendered: format!("error: cannot read {}: {e}\n", p.display()),
            })?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn run(cli: Cli) -> Result<String, Failure> {
    let (args, mode) = match &cli.cmd {
        Cmd::Check(a) => (a, 0),
        Cmd::Expand(a) => (a, 1),
        Cmd::DumpIr(a) => (a, 2),
        Cmd::Docs(a) => (a, 3),
    };
    let opts = Options {
        root: args.root.clone(),
        event_enum: args.event_enum.clone(),
        ..Options::default()
    };
    let sources = pac_codegen::load(&files(args)?, &opts)?;
    let out = if mode == 1 {
        pac_codegen::compile_sources(sources, &opts)?
    } else {
        pac_codegen::front(sources, &opts)?
    };
    eprint!("{}", out.warnings);
    Ok(match mode {
        0 => format!(
            "ok: {} record(s), {} enum(s), {} event(s)\n",
            out.ir.records.len(),
            out.ir.enums.len(),
            out.ir.events.len()
        ),
        1 => out.code,
        2 => pac_codegen::dump_ir(&out.ir),
        _ => pac_codegen::docs::render(&out.ir),
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprint!("{f}");
            ExitCode::FAILURE
        }
    }
}
