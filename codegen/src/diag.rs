//! Diagnostics: spans, the loaded source files, and rustc-style rendering.
//!
//! In: spans into loaded files and messages from the parser and checker. Out: text rendered by
//! codespan-reporting (path relative to the workspace root, 1-based line:col, the source line, a
//! caret under the token, a `help:` note), without colour so snapshots and logs stay stable.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::NoColor};

/// A byte range in one loaded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub struct Span {
    /// Index into [`Files`].
    pub file: usize,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

impl Span {
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The loaded spec files.
pub struct Files {
    /// Display name (relative to the workspace root) and contents.
    files: SimpleFiles<String, String>,
    /// Display names again, for `Spec:` comments.
    names: Vec<String>,
    /// Byte offsets of line starts, per file.
    line_starts: Vec<Vec<usize>>,
}

impl Default for Files {
    fn default() -> Self {
        Self {
            files: SimpleFiles::new(),
            names: Vec::new(),
            line_starts: Vec::new(),
        }
    }
}

impl Files {
    /// Adds a file and returns its index.
    pub fn add(&mut self, name: String, text: String) -> usize {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.names.push(name.clone());
        self.line_starts.push(starts);
        self.files.add(name, text)
    }

    /// The source text of a file.
    pub fn text(&self, file: usize) -> &str {
        self.files
            .get(file)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// The display name of a file.
    pub fn name(&self, file: usize) -> &str {
        self.names
            .get(file)
            .map(String::as_str)
            .unwrap_or("<unknown>")
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, span: Span) -> usize {
        match self.line_starts.get(span.file) {
            Some(starts) => starts.partition_point(|&s| s <= span.start),
            None => 0,
        }
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no file is loaded.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Compilation fails.
    Error,
    /// Compilation continues; the generated code guards at run time.
    Warning,
    /// Information about the generated code (how an encoder handles a layout it cannot
    /// invert); rendered apart from errors and warnings, never printed by builds.
    Note,
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diag {
    /// Error or warning.
    pub severity: Severity,
    /// The headline.
    pub message: String,
    /// Where the caret goes.
    pub span: Span,
    /// Text next to the caret.
    pub label: String,
    /// What to do about it.
    pub help: String,
    /// Other places worth showing (a first definition), each with its own label.
    pub secondary: Vec<(Span, String)>,
    /// Further help lines after `help` (a "did you mean" suggestion).
    pub more_help: Vec<String>,
}

impl Diag {
    /// Adds a secondary label, e.g. "first defined here" under the definition a duplicate
    /// repeats.
    pub fn also(&mut self, span: Span, label: impl Into<String>) -> &mut Self {
        self.secondary.push((span, label.into()));
        self
    }

    /// Adds a help line after the main one, when there is one to add.
    pub fn help(&mut self, line: Option<String>) -> &mut Self {
        self.more_help.extend(line);
        self
    }
}

/// All findings of one stage.
#[derive(Clone, Debug, Default)]
pub struct Diags {
    /// In the order found.
    pub list: Vec<Diag>,
}

impl Diags {
    /// Records an error; secondary labels can be added to the returned finding.
    pub fn error(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Diag {
        self.push(
            Severity::Error,
            span,
            message.into(),
            label.into(),
            help.into(),
        )
    }

    /// Records a warning; secondary labels can be added to the returned finding.
    pub fn warning(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Diag {
        self.push(
            Severity::Warning,
            span,
            message.into(),
            label.into(),
            help.into(),
        )
    }

    /// Records a note; secondary labels can be added to the returned finding.
    pub fn note(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Diag {
        self.push(
            Severity::Note,
            span,
            message.into(),
            label.into(),
            help.into(),
        )
    }

    /// Records a finding and returns it.
    fn push(
        &mut self,
        severity: Severity,
        span: Span,
        message: String,
        label: String,
        help: String,
    ) -> &mut Diag {
        self.list.push(Diag {
            severity,
            message,
            span,
            label,
            help,
            secondary: Vec::new(),
            more_help: Vec::new(),
        });
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// Renders every error and warning, sorted by position so the output is stable.
    pub fn render(&self, files: &Files) -> String {
        self.render_where(files, |s| s != Severity::Note)
    }

    /// Renders the notes only, sorted by position.
    pub fn render_notes(&self, files: &Files) -> String {
        self.render_where(files, |s| s == Severity::Note)
    }

    /// Renders the findings whose severity `keep` accepts, sorted by position.
    fn render_where(&self, files: &Files, keep: impl Fn(Severity) -> bool) -> String {
        let mut sorted: Vec<&Diag> = self.list.iter().filter(|d| keep(d.severity)).collect();
        sorted.sort_by_key(|d| (d.span, d.message.clone()));
        let mut out = NoColor::new(Vec::new());
        let config = term::Config::default();
        for d in sorted {
            let diag = match d.severity {
                Severity::Error => Diagnostic::error(),
                Severity::Warning => Diagnostic::warning(),
                Severity::Note => Diagnostic::note(),
            };
            let mut notes = Vec::new();
            if !d.help.is_empty() {
                notes.push(format!("help: {}", d.help));
            }
            notes.extend(d.more_help.iter().map(|h| format!("help: {h}")));
            let diag = diag
                .with_message(d.message.clone())
                .with_labels(
                    std::iter::once(
                        Label::primary(d.span.file, d.span.start..d.span.end)
                            .with_message(d.label.clone()),
                    )
                    .chain(d.secondary.iter().map(|(s, l)| {
                        Label::secondary(s.file, s.start..s.end).with_message(l.clone())
                    }))
                    .collect(),
                )
                .with_notes(notes);
            // Writing into a Vec cannot fail; a rendering failure (a span outside its file)
            // falls back to the bare message rather than losing the diagnostic.
            if term::emit(&mut out, &config, &files.files, &diag).is_err() {
                let line = format!("{}: {}\n", files.name(d.span.file), d.message);
                out.get_mut().extend_from_slice(line.as_bytes());
            }
        }
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }
}
