//! `pac-codegen`: compiles `.pac` specs (a BinPAC dialect) into zero-copy Rust parsers and event
//! glue.
//!
//! In: spec files (or in-memory sources) and [`Options`]. Out: one formatted Rust file, plus
//! rendered warnings; or every diagnostic of the failing stage, rendered like rustc. The whole
//! pipeline is one function, `pipeline`, top to bottom.

// The modules in stage order: a module imports only modules listed before it (checked by
// `tests/stage_order.rs`). `types` is a leaf of shared data, not a stage; `ir` is the data that
// `lower` produces and `emit` and `docs` consume.
pub mod ast;
pub mod check;
pub mod diag;
pub mod docs;
pub mod emit;
pub mod ir;
pub mod lower;
pub mod names;
pub mod parse;
pub mod types;

use std::path::{Path, PathBuf};

/// Compile options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Spec paths in diagnostics and `Spec:` lines are shown relative to this directory.
    pub root: PathBuf,
    /// Name of the generated event enum.
    pub event_enum: String,
    /// Path of the runtime crate in generated code.
    pub runtime_path: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            root: PathBuf::from("."),
            event_enum: "SslEvent".into(),
            runtime_path: "::pac_runtime".into(),
        }
    }
}

/// One spec source.
#[derive(Clone, Debug)]
pub struct Source {
    /// Display path (relative to the workspace root).
    pub name: String,
    /// Contents.
    pub text: String,
}

/// A successful compilation.
#[derive(Debug)]
pub struct Output {
    /// The resolved spec (for `dump-ir` and `docs`).
    pub ir: ir::Spec,
    /// Formatted Rust (empty after [`front`], which stops at the IR).
    pub code: String,
    /// Rendered warnings (empty when none).
    pub warnings: String,
    /// Rendered encoder notes: the layouts an encoder cannot invert from the value alone and
    /// how it handles each (`pacc encoders`; empty when none).
    pub notes: String,
}

/// A failed compilation: every diagnostic of the failing stage, rendered.
#[derive(Debug)]
pub struct Failure {
    /// Rendered diagnostics (or an I/O or internal error message).
    pub rendered: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// The `.pac` files of a directory, sorted (the load order, so output is deterministic).
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pac") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Loads files (sorted by path) as sources named relative to `opts.root`.
pub fn load(files: &[PathBuf], opts: &Options) -> Result<Vec<Source>, Failure> {
    let mut files = files.to_vec();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| Failure {
                rendered: format!("error: cannot read {}: {e}\n", p.display()),
            })?;
            let name = display_name(p, &opts.root);
            Ok(Source { name, text })
        })
        .collect()
}

/// `p` relative to `root` with `/` separators, or `p` itself when outside it.
fn display_name(p: &Path, root: &Path) -> String {
    let canon = |x: &Path| x.canonicalize().unwrap_or_else(|_| x.to_path_buf());
    let Ok(rel) = canon(p).strip_prefix(canon(root)).map(Path::to_path_buf) else {
        return p.display().to_string();
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The whole pipeline over files: load, parse, check, lower, emit, format.
pub fn compile(files: &[PathBuf], opts: &Options) -> Result<Output, Failure> {
    pipeline(Input::Files(files), opts, Until::Code)
}

/// The whole pipeline over sources already loaded: parse, check, lower, emit, format.
pub fn compile_sources(sources: Vec<Source>, opts: &Options) -> Result<Output, Failure> {
    pipeline(Input::Sources(sources), opts, Until::Code)
}

/// The front end only (parse, check, lower): what `pacc check`, `dump-ir` and `docs` need.
pub fn front(sources: Vec<Source>, opts: &Options) -> Result<Output, Failure> {
    pipeline(Input::Sources(sources), opts, Until::Ir)
}

/// What the pipeline starts from.
enum Input<'a> {
    /// Spec files, loaded first.
    Files(&'a [PathBuf]),
    /// Sources already in memory.
    Sources(Vec<Source>),
}

/// Where the pipeline stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// After lowering: the IR and the warnings, no code.
    Ir,
    /// After formatting the generated code.
    Code,
}

/// The compiler, stage by stage: load -> parse -> check -> lower -> emit -> format. Each stage
/// reports all of its errors at once; the next one runs only when there are none. No stage calls
/// back into an earlier one.
fn pipeline(input: Input<'_>, opts: &Options, until: Until) -> Result<Output, Failure> {
    // Load: the spec files, sorted, named relative to `opts.root`.
    let sources = match input {
        Input::Files(files) => load(files, opts)?,
        Input::Sources(sources) => sources,
    };
    let mut files = diag::Files::default();
    let mut diags = diag::Diags::default();
    let failed = |diags: &diag::Diags, files: &diag::Files| Failure {
        rendered: diags.render(files),
    };
    // Parse every file; syntax errors of all files are reported together. Expression ids run
    // on across files.
    let mut spec = ast::Spec::default();
    let mut next_expr_id = 0;
    for s in sources {
        let id = files.add(s.name, s.text);
        let items = parse::parse_file(id, files.text(id), &mut next_expr_id, &mut diags);
        spec.items.extend(items);
    }
    if diags.has_errors() {
        return Err(failed(&diags, &files));
    }
    // Check: resolve every name, type every expression once, report every broken rule.
    let checked = check::check(&spec, &mut diags);
    if diags.has_errors() {
        return Err(failed(&diags, &files));
    }
    let warnings = diags.render(&files);
    let notes = diags.render_notes(&files);
    // Lower: the checked spec -> IR (never fails).
    let ir = lower::lower(&spec, &checked, &files);
    if until == Until::Ir {
        return Ok(Output {
            ir,
            code: String::new(),
            warnings,
            notes,
        });
    }
    // Emit: IR -> Rust tokens; format: tokens -> the `@generated` file.
    let internal = |rendered| Failure { rendered };
    let tokens = emit::generate(&ir, opts).map_err(internal)?;
    let code = emit::format(tokens).map_err(internal)?;
    Ok(Output {
        ir,
        code,
        warnings,
        notes,
    })
}

/// Formats the IR for `pacc dump-ir` and snapshots (stable: `Debug` of ordered data).
pub fn dump_ir(ir: &ir::Spec) -> String {
    format!("{ir:#?}\n")
}
