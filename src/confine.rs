//! File-system access that an untrusted checkout cannot turn against the gate.
//!
//! The tree under check, and the `vigil.toml` inside it, are written by whoever opened the pull request. They
//! may hold symbolic links to files outside the tree (`~/.ssh/id_rsa`, a runner's token file), FIFOs and device
//! nodes that block a reader forever, or a link where the CI job will write its report. The helpers here
//! answer three questions safely: does a path stay inside a root, may a file be read without blocking, and can
//! a report be written without following a link planted in its place.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};

/// `path` made absolute against the working directory and with `.` and `..` removed lexically (no file-system
/// access): what the user meant by the name, before any link is followed.
pub fn lexical_absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        std::fs::canonicalize(&cwd).unwrap_or(cwd)
    };
    let mut out = base;
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The longest leading part of an absolute, lexically clean `path` that is made of real folders, with no
/// symbolic link among them: the folder a name given on the command line really points into. A path named
/// `models/card.yaml` where `models` is a link in the checkout gets the working folder, so the link has to
/// stay inside it.
pub fn real_prefix(path: &Path) -> PathBuf {
    let mut prefix = PathBuf::new();
    for component in path.components() {
        let next = prefix.join(component.as_os_str());
        match std::fs::symlink_metadata(&next) {
            Ok(meta) if meta.is_dir() => prefix = next,
            _ => break,
        }
    }
    prefix
}

/// Whether `path`, with every symbolic link resolved, lies inside `root` (itself canonical). A path that does
/// not exist yet is judged by its nearest existing ancestor, and must not climb out with `..` below it.
pub fn inside(root: &Path, path: &Path) -> bool {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if std::fs::symlink_metadata(&existing).is_ok() {
            break;
        }
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            // Nothing of it exists: only a lexical answer is possible.
            _ => return lexical_absolute(path).starts_with(root),
        }
    }
    // `canonicalize` fails for a dangling link: its target is unknown, so it is not inside.
    let Ok(real) = std::fs::canonicalize(if existing.as_os_str().is_empty() { Path::new(".") } else { &existing })
    else {
        return false;
    };
    real.starts_with(root) && rest.iter().all(|n| n != "..")
}

/// Why a path cannot be read as an input without risk: it is not a regular file (a FIFO would block the
/// reader forever, a device can be endless). `None` for a regular file.
pub fn special_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() || kind.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Opens a file for reading without ever blocking: a FIFO swapped in after the walk looked at the path opens
/// at once (non-blocking) and is then refused as not a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
}

/// Opens a report or log file for writing without following a symbolic link: the last component is opened
/// with `O_NOFOLLOW` (so a link planted there fails the open, race-free), and the folders of a path inside the
/// working tree must not be links either. Creates missing folders. `append` keeps the content (audit log);
/// otherwise the file is emptied, only once it is known to be a regular file.
pub fn open_for_write(path: &Path, append: bool) -> io::Result<File> {
    let refuse = |what: &Path| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link; refusing to write through it", what.display()),
        )
    };
    // Folders inside the working tree come from the checkout; above it they are the machine's own (`/tmp` is
    // a link on macOS) and trusted.
    let cwd = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok()).unwrap_or_default();
    let absolute = lexical_absolute(path);
    if let Ok(below) = absolute.strip_prefix(&cwd) {
        let mut at = cwd.clone();
        let parts: Vec<_> = below.components().collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(refuse(&at)),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(e),
            }
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true);
    if append {
        options.read(true).append(true);
    } else {
        options.write(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: an existing FIFO without a reader fails at once instead of blocking the run.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| {
        // ELOOP is how O_NOFOLLOW says "the last component is a link".
        if e.raw_os_error() == Some(libc_eloop()) { refuse(path) } else { e }
    })?;
    let meta = file.metadata()?;
    #[cfg(unix)]
    let device = {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_char_device()
    };
    #[cfg(not(unix))]
    let device = false;
    if !meta.is_file() && !device {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a regular file", path.display())));
    }
    if !append && meta.is_file() {
        file.set_len(0)?;
    }
    Ok(file)
}

#[cfg(unix)]
fn libc_eloop() -> i32 {
    libc::ELOOP
}

#[cfg(not(unix))]
fn libc_eloop() -> i32 {
    -1
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn inside_follows_links_and_judges_missing_paths_by_their_parent() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
        std::os::unix::fs::symlink("a", root.join("in")).unwrap();
        assert!(inside(&root, &root.join("a/new/file.txt")));
        assert!(inside(&root, &root.join("in/x")));
        assert!(!inside(&root, &root.join("out/passwd")));
        assert!(!inside(&root, &root.join("out")));
        assert!(!inside(&root, &root.join("a/../../x")));
    }

    #[test]
    fn writes_never_follow_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_for_write(&link, false).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(open_for_write(&link, true).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let plain = dir.path().join("sub/plain.json");
        use std::io::Write;
        open_for_write(&plain, false).unwrap().write_all(b"ok").unwrap();
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "ok");
    }
}
