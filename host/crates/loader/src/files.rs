//! The plugin files behind the registry: when a file on `plugin.path` is ready to load, and the
//! private copies that are loaded instead of the files themselves.
//!
//! ## Readiness
//! A file found by a rescan is loaded only once it is *settled*: its fingerprint (size,
//! modification time and, on Unix, inode) is the same at two looks at least [`SETTLE`] apart,
//! and, for an ELF file, it is at least as long as its own header says (the section header
//! table, which linkers write last, must be inside the file). A file still being copied thus
//! waits, whether it is written slowly, paused mid-way or renamed into place; it is neither
//! loaded nor listed as failed. A file that stays short for [`INCOMPLETE_GIVE_UP`] is handed to
//! the loader all the same, which refuses it with dlopen's reason.
//!
//! Once a version of a file has been acted upon (loaded, refused, or found identical to a version
//! already loaded from that path) it is not looked at again until its fingerprint changes.
//!
//! ## Private copies
//! Every library is copied to a folder private to the registry (`kconnect-plugins-<pid>-…` in
//! the temporary folder, mode 0700) and the copy is loaded. Libraries are never unloaded, so
//! the file that is mapped must never change: copying makes replacing, rewriting or removing
//! the original harmless to code that runs from it, and gives a changed file a new identity, so
//! that the dynamic linker loads it as a new library instead of handing back the old one.
//! The folder is removed when the registry is dropped (what is mapped stays mapped); folders left
//! by processes that no longer run are removed when a new one is made.

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::Hasher;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How long a file must keep the same fingerprint before it is loaded.
pub const SETTLE: Duration = Duration::from_millis(300);

/// How long a file that is shorter than its ELF header says may stay so before it is refused.
pub const INCOMPLETE_GIVE_UP: Duration = Duration::from_secs(30);

/// Names of private copy folders start with this, then the process id and a `-`.
const COPIES_PREFIX: &str = "kconnect-plugins-";

/// What changes when a file is written or replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    /// Device and inode: a file renamed over another keeps neither.
    #[cfg(unix)]
    identity: (u64, u64),
}

impl Fingerprint {
    /// The fingerprint of `path` as it is now (following symbolic links).
    pub fn of(path: &Path) -> io::Result<Fingerprint> {
        let metadata = std::fs::metadata(path)?;
        Ok(Fingerprint {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            identity: {
                use std::os::unix::fs::MetadataExt;
                (metadata.dev(), metadata.ino())
            },
        })
    }
}

/// What a rescan should do with a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    /// This version was already acted upon.
    Settled,
    /// Not yet: the file changed since the last look, or is still too short.
    Waiting(String),
    /// Settled and complete (or given up on): load it.
    Ready,
}

/// One plugin file as the rescans have seen it.
#[derive(Debug)]
pub struct TrackedFile {
    /// The path the file was found at, as shown in listings and logs.
    pub path: PathBuf,
    /// The fingerprint at the last look, and when it was first seen.
    seen: Option<Fingerprint>,
    seen_since: Instant,
    /// The fingerprint of the version last acted upon.
    settled: Option<Fingerprint>,
    /// Hashes of every content loaded from this path, so that a file put back as it was is not
    /// loaded twice.
    loaded_content: Vec<u64>,
}

impl TrackedFile {
    pub fn new(path: &Path, now: Instant) -> TrackedFile {
        TrackedFile {
            path: path.to_path_buf(),
            seen: None,
            seen_since: now,
            settled: None,
            loaded_content: Vec::new(),
        }
    }

    /// Whether the file is currently on disk (as of the last look).
    pub fn is_present(&self) -> bool {
        self.seen.is_some()
    }

    /// Takes a look at the file (fingerprint `now_seen` at `now`) and says what to do with it;
    /// `header` reads the first bytes of the file when its completeness must be checked.
    pub fn observe(
        &mut self,
        now_seen: Fingerprint,
        now: Instant,
        header: impl FnOnce() -> io::Result<Vec<u8>>,
    ) -> Readiness {
        if self.seen != Some(now_seen) {
            self.seen = Some(now_seen);
            self.seen_since = now;
            if self.settled == Some(now_seen) {
                return Readiness::Settled;
            }
            return Readiness::Waiting("new or changed since the last look".to_string());
        }
        if self.settled == Some(now_seen) {
            return Readiness::Settled;
        }
        let unchanged_for = now.saturating_duration_since(self.seen_since);
        if unchanged_for < SETTLE {
            return Readiness::Waiting("changed less than a moment ago".to_string());
        }
        let shortfall = match header() {
            Ok(bytes) => missing_bytes(&bytes, now_seen.len),
            // Unreadable: the loader will say why.
            Err(_) => None,
        };
        match shortfall {
            Some(why) if unchanged_for < INCOMPLETE_GIVE_UP => Readiness::Waiting(why),
            _ => Readiness::Ready,
        }
    }

    /// The version `fingerprint` was acted upon; `loaded` is the hash of its content when it was
    /// loaded.
    pub fn settle(&mut self, fingerprint: Fingerprint, loaded: Option<u64>) {
        self.seen = Some(fingerprint);
        self.settled = Some(fingerprint);
        if let Some(hash) = loaded {
            self.loaded_content.push(hash);
        }
    }

    /// A newer version showed up while this one was being copied: wait for it to settle.
    pub fn changed_meanwhile(&mut self, fingerprint: Option<Fingerprint>, now: Instant) {
        self.seen = fingerprint;
        self.seen_since = now;
    }

    /// Whether anything was ever loaded from this path.
    pub fn loaded_any(&self) -> bool {
        !self.loaded_content.is_empty()
    }

    /// Whether content with this hash was already loaded from this path.
    pub fn has_loaded(&self, hash: u64) -> bool {
        self.loaded_content.contains(&hash)
    }

    /// The file is gone; what was loaded from it stays loaded and remembered.
    pub fn vanish(&mut self) {
        self.seen = None;
        self.settled = None;
    }
}

/// The first bytes of every ELF file.
const ELF_MAGIC: &[u8] = b"\x7fELF";
/// The longest ELF file header (64-bit); reading this much is enough to check completeness.
pub const HEADER_BYTES: usize = 64;

/// Why a file of `len` bytes that starts with `header` cannot be complete yet, if it cannot.
///
/// Files that are not ELF at all are not judged here (the loader refuses them); too short to tell
/// counts as incomplete, since that is what a file just created looks like.
pub fn missing_bytes(header: &[u8], len: u64) -> Option<String> {
    if header.len() < ELF_MAGIC.len() {
        return Some(format!("only {len} bytes so far"));
    }
    if &header[..ELF_MAGIC.len()] != ELF_MAGIC {
        return None;
    }
    let wide = match header.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return None,
    };
    let big_endian = match header.get(5) {
        Some(1) => false,
        Some(2) => true,
        _ => return None,
    };
    let header_len = if wide { 64 } else { 52 };
    if header.len() < header_len {
        return Some(format!("only {len} bytes so far, not even an ELF header"));
    }
    let number = |at: usize, width: usize| -> u64 {
        let bytes = &header[at..at + width];
        let mut value = 0u64;
        for i in 0..width {
            let byte = if big_endian {
                bytes[i]
            } else {
                bytes[width - 1 - i]
            };
            value = (value << 8) | u64::from(byte);
        }
        value
    };
    // (offset, entry size, count) of the program and section header tables.
    let (program, sections) = if wide {
        (
            (number(32, 8), number(54, 2), number(56, 2)),
            (number(40, 8), number(58, 2), number(60, 2)),
        )
    } else {
        (
            (number(28, 4), number(42, 2), number(44, 2)),
            (number(32, 4), number(46, 2), number(48, 2)),
        )
    };
    let end =
        |(offset, size, count): (u64, u64, u64)| offset.saturating_add(size.saturating_mul(count));
    let needed = end(program).max(end(sections));
    (len < needed).then(|| format!("only {len} of at least {needed} bytes so far"))
}

/// Reads up to [`HEADER_BYTES`] from the start of `path`.
pub fn read_header(path: &Path) -> io::Result<Vec<u8>> {
    let mut header = Vec::with_capacity(HEADER_BYTES);
    File::open(path)?
        .take(HEADER_BYTES as u64)
        .read_to_end(&mut header)?;
    Ok(header)
}

/// A library copied for loading, with the hash of its content.
#[derive(Debug)]
pub struct Copied {
    pub path: PathBuf,
    pub hash: u64,
}

/// The folder of private copies of one registry.
#[derive(Debug)]
pub struct PrivateCopies {
    dir: PathBuf,
    next: u64,
}

impl PrivateCopies {
    /// Makes a new private folder in the temporary folder, after removing those of processes
    /// that are gone.
    pub fn create() -> io::Result<PrivateCopies> {
        let parent = std::env::temp_dir();
        remove_abandoned_copies(&parent);
        let prefix = format!("{COPIES_PREFIX}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(&parent)?.keep();
        Ok(PrivateCopies { dir, next: 1 })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copies `source` to a new file of the folder, hashing what was copied.
    pub fn copy(&mut self, source: &Path) -> io::Result<Copied> {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin.so".to_string());
        let path = self.dir.join(format!("{}-{name}", self.next));
        self.next += 1;
        let result = (|| {
            let mut reader = File::open(source)?;
            let mut writer = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            let hash = stream(&mut reader, Some(&mut writer))?;
            writer.sync_all()?;
            Ok(Copied {
                path: path.clone(),
                hash,
            })
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        result
    }
}

impl Drop for PrivateCopies {
    fn drop(&mut self) {
        // What was loaded stays mapped; only the names go.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The hash of a file's content, for a library loaded where it is.
pub fn hash_in_place(path: &Path) -> io::Result<Copied> {
    let hash = stream(&mut File::open(path)?, None)?;
    Ok(Copied {
        path: path.to_path_buf(),
        hash,
    })
}

fn stream(reader: &mut File, mut writer: Option<&mut File>) -> io::Result<u64> {
    let mut hasher = DefaultHasher::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.write(&buffer[..read]);
        if let Some(writer) = writer.as_mut() {
            writer.write_all(&buffer[..read])?;
        }
    }
    Ok(hasher.finish())
}

/// Removes the private copy folders of processes that no longer run. Only where `/proc` tells
/// which processes run: elsewhere nothing is removed, since a live process's folder must stay.
fn remove_abandoned_copies(parent: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(COPIES_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            log::debug!("removing {}, left by process {pid}", entry.path().display());
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf64_header(program: (u64, u16, u16), sections: (u64, u16, u16)) -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(ELF_MAGIC);
        header[4] = 2;
        header[5] = 1;
        header[32..40].copy_from_slice(&program.0.to_le_bytes());
        header[54..56].copy_from_slice(&program.1.to_le_bytes());
        header[56..58].copy_from_slice(&program.2.to_le_bytes());
        header[40..48].copy_from_slice(&sections.0.to_le_bytes());
        header[58..60].copy_from_slice(&sections.1.to_le_bytes());
        header[60..62].copy_from_slice(&sections.2.to_le_bytes());
        header
    }

    #[test]
    fn an_elf_file_is_complete_once_its_section_headers_are_in() {
        let header = elf64_header((64, 56, 10), (10_000, 64, 30));
        let needed = 10_000 + 64 * 30;
        assert_eq!(missing_bytes(&header, needed), None);
        assert_eq!(
            missing_bytes(&header, needed - 1),
            Some(format!(
                "only {} of at least {needed} bytes so far",
                needed - 1
            ))
        );
    }

    #[test]
    fn short_files_wait_and_other_files_are_left_to_the_loader() {
        assert!(missing_bytes(b"", 0).is_some());
        assert!(missing_bytes(b"\x7fEL", 3).is_some());
        let mut partial_header = ELF_MAGIC.to_vec();
        partial_header.extend([2, 1]);
        partial_header.resize(20, 0);
        assert!(missing_bytes(&partial_header, 20).is_some());
        assert_eq!(missing_bytes(b"These are notes, not code.", 26), None);
    }

    #[test]
    fn this_test_binary_is_a_complete_elf_file_and_its_first_half_is_not() {
        let me = std::env::current_exe().unwrap();
        let header = read_header(&me).unwrap();
        if !header.starts_with(ELF_MAGIC) {
            return; // not an ELF platform
        }
        let len = std::fs::metadata(&me).unwrap().len();
        assert_eq!(missing_bytes(&header, len), None);
        assert!(missing_bytes(&header, len / 2).is_some());
    }

    #[test]
    fn a_file_is_ready_after_two_equal_looks_and_settled_after_that() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.so");
        std::fs::write(&path, "not a library, but complete").unwrap();
        let seen = Fingerprint::of(&path).unwrap();
        let start = Instant::now();
        let header = || read_header(&path);
        let mut tracked = TrackedFile::new(&path, start);
        assert!(matches!(
            tracked.observe(seen, start, header),
            Readiness::Waiting(_)
        ));
        // The same fingerprint too soon after does not count as a second look.
        assert!(matches!(
            tracked.observe(seen, start + SETTLE / 2, header),
            Readiness::Waiting(_)
        ));
        assert_eq!(
            tracked.observe(seen, start + SETTLE, header),
            Readiness::Ready
        );
        tracked.settle(seen, Some(7));
        assert_eq!(
            tracked.observe(seen, start + SETTLE * 3, header),
            Readiness::Settled
        );
        assert!(tracked.has_loaded(7));

        // Rewritten: waits again, then is ready again.
        std::fs::write(&path, "other notes, longer than before").unwrap();
        let rewritten = Fingerprint::of(&path).unwrap();
        assert_ne!(rewritten, seen);
        let later = start + SETTLE * 4;
        assert!(matches!(
            tracked.observe(rewritten, later, header),
            Readiness::Waiting(_)
        ));
        assert_eq!(
            tracked.observe(rewritten, later + SETTLE, header),
            Readiness::Ready
        );
    }

    #[test]
    fn a_short_elf_file_waits_until_it_is_given_up_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.so");
        let header = elf64_header((64, 56, 4), (4096, 64, 20));
        std::fs::write(&path, &header).unwrap();
        let seen = Fingerprint::of(&path).unwrap();
        let start = Instant::now();
        let mut tracked = TrackedFile::new(&path, start);
        tracked.observe(seen, start, || read_header(&path));
        let waiting = tracked.observe(seen, start + SETTLE, || read_header(&path));
        assert_eq!(
            waiting,
            Readiness::Waiting("only 64 of at least 5376 bytes so far".to_string())
        );
        assert_eq!(
            tracked.observe(seen, start + INCOMPLETE_GIVE_UP, || read_header(&path)),
            Readiness::Ready
        );
    }

    #[test]
    fn copies_are_private_hashed_by_content_and_removed_with_their_folder() {
        let source_dir = tempfile::tempdir().unwrap();
        let source = source_dir.path().join("lib.so");
        std::fs::write(&source, vec![42u8; 200_000]).unwrap();
        let mut copies = PrivateCopies::create().unwrap();
        let dir = copies.dir().to_path_buf();
        let first = copies.copy(&source).unwrap();
        let second = copies.copy(&source).unwrap();
        assert_ne!(first.path, second.path);
        assert_eq!(first.hash, second.hash);
        assert_eq!(first.hash, hash_in_place(&source).unwrap().hash);
        assert_eq!(std::fs::read(&first.path).unwrap(), vec![42u8; 200_000]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::write(&source, vec![43u8; 200_000]).unwrap();
        assert_ne!(copies.copy(&source).unwrap().hash, first.hash);
        drop(copies);
        assert!(!dir.exists());
    }

    #[test]
    fn folders_of_gone_processes_are_removed_and_live_ones_kept() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let parent = tempfile::tempdir().unwrap();
        // Process ids above the kernel's maximum (4194304) never run.
        let gone = parent.path().join(format!("{COPIES_PREFIX}4999999-abc"));
        let live = parent
            .path()
            .join(format!("{COPIES_PREFIX}{}-abc", std::process::id()));
        let unrelated = parent.path().join("kconnect-plugins-notapid");
        for dir in [&gone, &live, &unrelated] {
            std::fs::create_dir(dir).unwrap();
        }
        remove_abandoned_copies(parent.path());
        assert!(!gone.exists());
        assert!(live.exists());
        assert!(unrelated.exists());
    }
}
