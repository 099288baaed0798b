//! `tickpipe journal archive DIR --to DEST`: copy a journal's sealed segments for
//! backup, then prove the copies by reading every record back.
//!
//! A segment is sealed once its writer has moved on to the next: every segment of a
//! writer but the last. The last may still be growing (or be a torn tail after a
//! crash), so it is left for a later run, once the writer has rolled past it.
//!
//! The copies go to `DEST/<DIR's name>/`, each through a temporary name renamed into
//! place once written and flushed. A segment already there with the same bytes is left
//! alone, so running twice copies nothing new; one with other bytes is an error, never
//! overwritten. Then the archived folder is read with the journal reader, which checks
//! every record's length, CRC, type and sequence, and each copy is compared with its
//! source byte for byte.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use crate::journal::JournalReader;

/// What an archive run did.
#[derive(Debug, Default)]
pub(super) struct Archived {
    /// Where the segments went.
    pub dest: PathBuf,
    /// Sealed segments copied now.
    pub copied: Vec<String>,
    /// Sealed segments already archived with the same bytes.
    pub present: Vec<String>,
    /// Active (last) segments left out, one per writer.
    pub active: Vec<String>,
    /// Records read back from the archived folder.
    pub records: u64,
    /// Bytes copied now.
    pub bytes: u64,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// The nearest existing ancestor of `path`, made absolute and free of links, with the
/// part below it appended (so a DEST that does not exist yet can still be compared).
fn resolve(path: &Path) -> Result<PathBuf, String> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("current directory: {e}"))?
            .join(path)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .map_err(|e| format!("{}: {e}", existing.display()))?;
    for name in rest.iter().rev() {
        resolved.push(name);
    }
    Ok(resolved)
}

/// Copies and checks; see the module docs.
///
/// # Errors
/// DIR missing or not a journal; DEST inside DIR, DEST the folder holding DIR, or DEST
/// not writable; a segment archived
/// before with other bytes; a copy that does not read back intact. Each names the path.
pub(super) fn archive(dir: &Path, to: &Path) -> Result<Archived, String> {
    let reader = super::open_journal(dir)?;
    let source = resolve(dir)?;
    let target = resolve(to)?;
    if target.starts_with(&source) {
        return Err(format!(
            "{}: the archive must be outside the journal directory {} (copies inside it would be read as segments)",
            to.display(),
            dir.display()
        ));
    }
    let name = source
        .file_name()
        .ok_or_else(|| format!("{}: a journal directory needs a name", dir.display()))?;
    let dest = to.join(name);
    if target.join(name) == source {
        return Err(format!(
            "{}: archiving here would copy {} onto itself; name another folder",
            to.display(),
            dir.display()
        ));
    }
    fs::create_dir_all(&dest)
        .map_err(|e| format!("{}: cannot create the archive folder: {e}", dest.display()))?;
    let mut done = Archived {
        dest: dest.clone(),
        ..Archived::default()
    };
    let writers: Vec<String> = reader.writers().map(str::to_owned).collect();
    let mut pairs = Vec::new();
    for writer in &writers {
        let segments = reader.segments_of(writer);
        let Some((last, sealed)) = segments.split_last() else {
            continue;
        };
        done.active.push(file_name(last));
        for segment in sealed {
            let file = file_name(segment);
            let copy = dest.join(&file);
            let bytes = fs::read(segment).map_err(io_err(segment))?;
            if copy.exists() {
                let archived = fs::read(&copy).map_err(io_err(&copy))?;
                if archived != bytes {
                    return Err(format!(
                        "{}: already archived with other content than {}; not overwritten (move it away and run again)",
                        copy.display(),
                        segment.display()
                    ));
                }
                done.present.push(file);
            } else {
                write_new(&copy, &bytes)?;
                done.bytes += bytes.len() as u64;
                done.copied.push(file);
            }
            pairs.push((segment.to_path_buf(), copy));
        }
    }
    if pairs.is_empty() {
        return Ok(done);
    }
    // Read the archive back: every record's CRC and sequence, and no torn tail (a
    // sealed segment is complete, so a torn end means a bad copy).
    let copies = JournalReader::open(&dest).map_err(|e| format!("archive check: {e}"))?;
    let mut records = copies.records();
    for entry in &mut records {
        entry.map_err(|e| format!("archive check: {e}"))?;
        done.records += 1;
    }
    if let Some(torn) = records.torn_tails().first() {
        return Err(format!(
            "archive check: {torn}; a sealed segment's copy must be complete"
        ));
    }
    for (segment, copy) in &pairs {
        let a = fs::read(segment).map_err(io_err(segment))?;
        let b = fs::read(copy).map_err(io_err(copy))?;
        if a != b {
            return Err(format!(
                "archive check: {} differs from {}",
                copy.display(),
                segment.display()
            ));
        }
    }
    Ok(done)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Writes `bytes` to `path` through a temporary name, flushed before the rename.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let temp = path.with_extension("partial");
    let result = (|| {
        let mut file = fs::File::create(&temp).map_err(io_err(&temp))?;
        file.write_all(bytes).map_err(io_err(&temp))?;
        file.sync_all().map_err(io_err(&temp))?;
        fs::rename(&temp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
