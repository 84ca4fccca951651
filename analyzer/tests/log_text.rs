//! Text helpers shared by the log snapshot tests (included with `#[path]`).

/// `#open`/`#close` carry a time (Zeek writes the wall clock there); mask it.
pub fn mask_open_close(tsv: &str) -> String {
    tsv.lines()
        .map(|l| match l.split_once('\t') {
            Some((k @ ("#open" | "#close"), _)) => format!("{k}\t<time>"),
            _ => l.to_owned(),
        })
        .map(|l| l + "\n")
        .collect()
}
