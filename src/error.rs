//! Error types and their exit codes: bad input (file content or arguments) is
//! exit 2, everything else (I/O, plotting, ...) exit 1. Input files are read
//! here too, up to a size no real input comes near.

use std::fmt;
use std::path::Path;

/// Largest input file read (scenario, strategy, record, summary.json,
/// sweep.json): far above any real one (the 1,000-shock synthetic scenario
/// is 0.5 MB), so that a device such as /dev/zero is refused instead of
/// filling memory.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// The bytes of the input file `path`, `what` naming its kind in messages
/// ("scenario file"). A failure to read it is exit 1; a file larger than
/// [`MAX_INPUT_BYTES`] is bad input, exit 2.
pub fn read_input(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |e| Error::Io {
        context: format!("cannot read {what} {shown}"),
        source: e,
    };
    let mut bytes = Vec::new();
    let f = std::fs::File::open(path).map_err(io)?;
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        let why = format!(
            "is larger than {} MB, more than any {what} crmsim reads",
            MAX_INPUT_BYTES >> 20
        );
        return Err(InputErrors::single(&shown, why).into());
    }
    Ok(bytes)
}

/// Every problem found in one input file, each line naming the table, id,
/// field and reason.
#[derive(Debug, Clone)]
pub struct InputErrors {
    pub file: String,
    pub problems: Vec<String>,
}

impl InputErrors {
    pub fn new(file: &str) -> Self {
        InputErrors {
            file: file.to_string(),
            problems: Vec::new(),
        }
    }

    pub fn single(file: &str, problem: String) -> Self {
        InputErrors {
            file: file.to_string(),
            problems: vec![problem],
        }
    }

    pub fn push(&mut self, problem: String) {
        self.problems.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// `Ok(())` when nothing was found.
    pub fn into_result(self) -> Result<(), InputErrors> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.len() == 1 {
            write!(f, "{}: {}", self.file, self.problems[0])
        } else {
            write!(f, "{}: {} problems:", self.file, self.problems.len())?;
            for p in &self.problems {
                write!(f, "\n  - {p}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for InputErrors {}

/// Any error crmsim reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario or strategy file with bad content.
    #[error("{0}")]
    Input(#[from] InputErrors),
    /// A bad command-line argument.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// Anything else (plotting, serialisation, ...).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => 2,
            Error::Io { .. } | Error::Other(_) => 1,
        }
    }
}

/// A deserialiser's message in plain words: no Rust type names ("struct
/// Multiplier", "untagged enum DistSpec", "i128", "f64"), which mean nothing
/// to the author of a scenario or summary file.
pub fn plain(msg: &str) -> String {
    const REPLACE: [(&str, &str); 14] = [
        (
            "data did not match any variant of untagged enum DistSpec",
            "must be a number or a distribution table such as { dist = \"beta\", alpha = 2.0, beta = 5.0 }",
        ),
        (
            "data did not match any variant of untagged enum Targets",
            "must be \"all\", \"non_allies\" or a list of consumer ids",
        ),
        (
            "expected any valid TOML value",
            "too large for a number here",
        ),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number >= 0"),
        ("expected usize", "expected a whole number >= 0"),
        ("expected i32", "expected a whole number"),
        ("u64 value was too large", "number is too large"),
        ("i64 value was too large", "number is too large"),
    ];
    let mut s = msg.to_string();
    for (from, to) in REPLACE {
        s = s.replace(from, to);
    }
    for width in ["i128", "u128"] {
        s = s.replace(&format!(" as {width}"), "");
    }
    // "expected struct Name" / "expected enum Name" -> "expected a table" / "a value".
    for (word, what) in [
        ("struct ", "a table"),
        ("enum ", "one of the allowed values"),
    ] {
        let pat = format!("expected {word}");
        while let Some(i) = s.find(&pat) {
            let rest = &s[i + pat.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            s = format!("{}expected {what}{}", &s[..i], &rest[end..]);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn plain_words_only() {
        for (raw, want) in [
            (
                "invalid type: integer `3`, expected struct Multiplier",
                "invalid type: integer `3`, expected a table",
            ),
            (
                "invalid type: integer `99999999999999999999` as i128, expected any valid TOML value",
                "invalid type: integer `99999999999999999999`, too large for a number here",
            ),
            (
                "invalid type: string \"x\", expected f64",
                "invalid type: string \"x\", expected a number",
            ),
        ] {
            assert_eq!(plain(raw), want);
        }
        let m = plain("data did not match any variant of untagged enum DistSpec");
        assert!(!m.contains("DistSpec") && m.contains("distribution"), "{m}");
    }
}
