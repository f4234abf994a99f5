//! Output folders that always hold one complete run.
//!
//! A run writes its files into a fresh staging folder beside the target
//! (`.<name>.crmsim-<pid>`); [`OutputDir::commit`] then writes a manifest
//! (`.crmsim-output`, the list of files) last and swaps the staging folder
//! into place with two renames, so the target holds either the previous run
//! or the new one, never a mix, and no file of a previous run survives.
//!
//! The target folder is locked for the whole run (an advisory lock on the
//! folder itself): a second run into the same folder exits with a clear
//! message instead of interleaving its files. A folder holding files crmsim
//! did not write is refused rather than replaced.
//!
//! On SIGINT or SIGTERM ([`install_signal_handler`]) the staging folder is
//! removed, one line is printed and the process exits 130 or 143.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Error;

/// Name of the manifest file written last into every output folder.
pub const MANIFEST: &str = ".crmsim-output";
/// Files and folders a run of an earlier crmsim (without a manifest) leaves.
const KNOWN: [&str; 6] = [
    "summary.json",
    "metrics.csv",
    "report.html",
    "figures",
    "sweep.json",
    "sweep.csv",
];

/// Paths to remove if the process is stopped by a signal, and whether a
/// swap is in progress (the handler then waits for it).
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set once a run's folder is in place (a later signal changes nothing on disk).
static COMMITTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Removes `p` (a folder or a file), ignoring errors: best-effort cleanup.
fn remove_quietly(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

fn cleanup_add(p: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.push(p.to_path_buf());
    }
}

fn cleanup_remove(p: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.retain(|x| x != p);
    }
}

/// Starts a thread that, on SIGINT or SIGTERM, removes every staging folder
/// of this process, prints one line and exits 130 (SIGINT) or 143 (SIGTERM).
pub fn install_signal_handler() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            // Holding the lock waits for a swap in progress to finish.
            let guard = CLEANUP.lock();
            if let Ok(paths) = &guard {
                for p in paths.iter() {
                    remove_quietly(p);
                }
            }
            let (name, code) = if sig == SIGINT {
                ("interrupted", 130)
            } else {
                ("terminated", 143)
            };
            if COMMITTED.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!("crmsim: {name}; the output folder is complete");
            } else {
                eprintln!("crmsim: {name}; no output written (the output folder is unchanged)");
            }
            std::process::exit(code);
        }
    });
}

/// The folder of a run being written; see the module docs.
pub struct OutputDir {
    /// The folder as the user named it (for messages).
    shown: PathBuf,
    /// The same folder, absolute (for the renames).
    target: PathBuf,
    staging: PathBuf,
    _lock: File,
    committed: bool,
}

/// `target`'s parent folder and a hidden sibling name with `tag`.
fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let parent = target.parent().unwrap_or(Path::new("."));
    parent.join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Opens and locks the folder `target` (created if missing); the lock is
/// taken on the folder that is at `target` once held (a run that swapped
/// it meanwhile makes us retry on the new one).
fn lock_folder(target: &Path) -> Result<File, Error> {
    let shown = target.display();
    loop {
        std::fs::create_dir_all(target)
            .map_err(io(format!("cannot create output folder {shown}")))?;
        let f = File::open(target).map_err(io(format!("cannot open output folder {shown}")))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Other(format!(
                    "output folder {shown} is in use by another crmsim run; wait for it to finish or choose another --out"
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Io {
                    context: format!("cannot lock output folder {shown}"),
                    source: e,
                });
            }
        }
        if same_file(&f, target) {
            return Ok(f);
        }
    }
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    true
}

/// Refuses a folder holding anything crmsim did not write.
fn check_ours(shown: &Path, target: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(target)
        .map_err(io(format!("cannot read output folder {}", shown.display())))?;
    let names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() || names.iter().any(|n| n == MANIFEST) {
        return Ok(());
    }
    if let Some(other) = names.iter().find(|n| !KNOWN.contains(&n.as_str())) {
        return Err(Error::Usage(format!(
            "output folder {} holds files crmsim did not write (e.g. {other}); choose a new or empty folder, or the folder of an earlier run",
            shown.display()
        )));
    }
    Ok(())
}

/// Fails early (before any simulation) if `target` cannot be written.
fn check_writable(shown: &Path, target: &Path) -> Result<(), Error> {
    let probe = target.join(format!(".crmsim-probe-{}", std::process::id()));
    let r = File::create(&probe).map(|_| ());
    let _ = std::fs::remove_file(&probe);
    r.map_err(io(format!(
        "cannot write to output folder {}",
        shown.display()
    )))
}

/// Removes staging and old folders of runs into `target` that were killed
/// before they could clean up (any live run would hold the lock we hold).
fn remove_stale(target: &Path) {
    let (Some(name), Some(parent)) = (target.file_name(), target.parent()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let name = name.to_string_lossy();
    let prefixes = [format!(".{name}.crmsim-"), format!(".{name}.old-")];
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let n = e.file_name().to_string_lossy().into_owned();
        let stale = prefixes.iter().any(|p| {
            n.strip_prefix(p.as_str())
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if stale {
            remove_quietly(&e.path());
        }
    }
}

impl OutputDir {
    /// Locks `target`, checks that it can be written and holds only crmsim
    /// output, and creates the staging folder; all before any simulation.
    pub fn prepare(shown: &Path) -> Result<OutputDir, Error> {
        let lock = lock_folder(shown)?;
        let target = &std::fs::canonicalize(shown)
            .map_err(io(format!("cannot open output folder {}", shown.display())))?;
        if target.parent().is_none() {
            return Err(Error::Usage(format!(
                "output folder {}: choose a folder below the root",
                shown.display()
            )));
        }
        check_ours(shown, target)?;
        check_writable(shown, target)?;
        remove_stale(target);
        let staging = sibling(target, "crmsim");
        remove_quietly(&staging);
        cleanup_add(&staging);
        std::fs::create_dir(&staging).map_err(io(format!(
            "cannot create output folder {} (staging folder {})",
            shown.display(),
            staging.display()
        )))?;
        Ok(OutputDir {
            shown: shown.to_path_buf(),
            target: target.to_path_buf(),
            staging,
            _lock: lock,
            committed: false,
        })
    }

    /// Where to write the run's files until [`commit`](Self::commit).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The folder the files end up in, as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The final path of a file written at `staged` (inside the staging folder).
    pub fn final_path(&self, staged: &Path) -> PathBuf {
        match staged.strip_prefix(&self.staging) {
            Ok(rel) => self.shown.join(rel),
            Err(_) => staged.to_path_buf(),
        }
    }

    /// Writes the manifest (`files`, relative to the folder) last and swaps
    /// the staging folder into place.
    pub fn commit(mut self, files: &[PathBuf]) -> Result<(), Error> {
        let mut text = String::from("# crmsim output folder: the files of one run\n");
        for f in files {
            if let Ok(rel) = f.strip_prefix(&self.staging) {
                text.push_str(&rel.to_string_lossy());
                text.push('\n');
            }
        }
        crate::report::write_atomic(&self.staging.join(MANIFEST), text.as_bytes())?;
        let old = sibling(&self.target, "old");
        // Hold the cleanup list during the swap: a signal waits for it.
        let mut guard = CLEANUP.lock();
        if let Ok(v) = &mut guard {
            v.push(old.clone());
        }
        let shown = self.shown.display().to_string();
        std::fs::rename(&self.target, &old)
            .map_err(io(format!("cannot replace output folder {shown}")))?;
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            let _ = std::fs::rename(&old, &self.target);
            return Err(Error::Io {
                context: format!("cannot replace output folder {shown}"),
                source: e,
            });
        }
        self.committed = true;
        COMMITTED.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(v) = &mut guard {
            v.retain(|x| x != &self.staging);
        }
        drop(guard);
        remove_quietly(&old);
        cleanup_remove(&old);
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            remove_quietly(&self.staging);
            cleanup_remove(&self.staging);
        }
    }
}
