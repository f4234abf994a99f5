//! Error types and their exit codes: bad input (file content or arguments) is
//! exit 2, everything else (I/O, plotting, ...) exit 1.

use std::fmt;

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
