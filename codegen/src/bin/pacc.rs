//! `pacc`: the spec compiler for humans.
//!
//! In: a spec directory or `.pac` files. Out: `check` (diagnostics, exit 1 on error), `expand`
//! (the generated Rust), `dump-ir` (the resolved IR), `docs` (Markdown event/type reference),
//! `encoders` (the notes on layouts an encoder cannot invert from the value alone).

use clap::{Parser, Subcommand};
use pac_codegen::{Failure, Options};
use std::io::Write;
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
    /// Print how the generated encoders handle layouts they cannot invert.
    Encoders(Args),
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
    let args = match &cli.cmd {
        Cmd::Check(a) | Cmd::Expand(a) | Cmd::DumpIr(a) | Cmd::Docs(a) | Cmd::Encoders(a) => a,
    };
    let opts = Options {
        root: args.root.clone(),
        event_enum: args.event_enum.clone(),
        ..Options::default()
    };
    let sources = pac_codegen::load(&files(args)?, &opts)?;
    // Only `expand` needs the emitter; the other commands stop after the checked IR.
    let out = match cli.cmd {
        Cmd::Expand(_) => pac_codegen::compile_sources(sources, &opts)?,
        _ => pac_codegen::front(sources, &opts)?,
    };
    eprint!("{}", out.warnings);
    Ok(match cli.cmd {
        Cmd::Check(_) => format!(
            "ok: {} record(s), {} enum(s), {} event(s)\n",
            out.ir.records.len(),
            out.ir.enums.len(),
            out.ir.events.len()
        ),
        Cmd::Expand(_) => out.code,
        Cmd::DumpIr(_) => pac_codegen::dump_ir(&out.ir),
        Cmd::Docs(_) => pac_codegen::docs::render(&out.ir),
        Cmd::Encoders(_) => out.notes,
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(text) => {
            // `pacc expand | head` closes the pipe early: that is not an error worth a panic.
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write output: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(f) => {
            eprint!("{f}");
            ExitCode::FAILURE
        }
    }
}
