//! Where reports say a file is: relative to the repository root, whichever folder `policy check` ran in.
//!
//! Inputs are named as given on the command line, relative to the working directory. Code scanning, test
//! reports and baselines key on paths relative to the repository, so a run from `deploy/` that reports
//! `kserve.yaml` must say `deploy/kserve.yaml` there. The root is `--root`, else the nearest folder above the
//! working directory holding `.git` (a folder, or the file of a worktree or submodule), else the working
//! directory itself.

use std::path::{Component, Path, PathBuf};

/// The repository root and the working directory, both absolute. The default knows neither: paths are then
/// shown as given, made clean (`./a/../b` → `b`).
#[derive(Clone, Debug, Default)]
pub struct Paths {
    root: Option<PathBuf>,
    cwd: Option<PathBuf>,
}

impl Paths {
    /// Paths relative to `root`, for inputs named relative to `cwd`.
    pub fn new(root: &Path, cwd: &Path) -> Paths {
        Paths { root: Some(real(root)), cwd: Some(real(cwd)) }
    }

    /// For a run in `cwd`: the root is `explicit` (relative to `cwd`) when given, else the git top level.
    pub fn detect(cwd: &Path, explicit: Option<&Path>) -> Paths {
        let cwd = real(cwd);
        let root = match explicit {
            Some(root) => real(&cwd.join(root)),
            None => git_root(&cwd).unwrap_or_else(|| cwd.clone()),
        };
        Paths { root: Some(root), cwd: Some(cwd) }
    }

    /// The root, when known.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The absolute, clean form of an input path (`None` when the working directory is unknown and the
    /// path relative).
    pub fn absolute(&self, file: &str) -> Option<PathBuf> {
        let path = Path::new(file);
        if path.is_absolute() {
            return Some(clean(path));
        }
        self.cwd.as_ref().map(|cwd| clean(&cwd.join(path)))
    }

    /// The input path relative to the root, `/`-separated; `None` when it lies outside the root.
    pub fn relative(&self, file: &str) -> Option<String> {
        let (Some(root), Some(full)) = (&self.root, self.absolute(file)) else {
            let path = clean(Path::new(file));
            let outside = path.is_absolute() || path.components().next() == Some(Component::ParentDir);
            return (!outside).then(|| if path.as_os_str().is_empty() { ".".to_string() } else { slashed(&path) });
        };
        // The root itself is `.`, never an empty name.
        full.strip_prefix(root).ok().map(|p| if p.as_os_str().is_empty() { ".".to_string() } else { slashed(p) })
    }

    /// How reports name the file: relative to the root when it is inside, else as given.
    pub fn shown(&self, file: &str) -> String {
        self.relative(file).unwrap_or_else(|| file.to_string())
    }
}

/// The nearest folder at or above `start` with a `.git` entry.
pub fn git_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok()).map(Path::to_path_buf)
}

/// Canonical when it exists (the working directory reported by the OS is; a `--root` may go through a link),
/// else lexically absolute and clean.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| clean(&crate::confine::lexical_absolute(path)))
}

/// Resolves `.` and `..` without touching the file system; leading `..` of a relative path are kept.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

fn slashed(path: &Path) -> String {
    let parts: Vec<String> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_named_from_the_root() {
        let paths = Paths { root: Some("/repo".into()), cwd: Some("/repo/deploy".into()) };
        assert_eq!(paths.shown("kserve.yaml"), "deploy/kserve.yaml");
        assert_eq!(paths.shown("./a/../b.yaml"), "deploy/b.yaml");
        assert_eq!(paths.shown("../models/card.md"), "models/card.md");
        assert_eq!(paths.shown("/repo/x.json"), "x.json");
        assert_eq!(paths.relative("../../etc/x.yaml"), None);
        assert_eq!(paths.shown("/etc/x.yaml"), "/etc/x.yaml");
        assert_eq!(paths.shown("."), "deploy");
        assert_eq!(paths.shown(".."), ".");
        let unknown = Paths::default();
        assert_eq!(unknown.shown("./a/b.yaml"), "a/b.yaml");
        assert_eq!(unknown.relative("../a.yaml"), None);
        assert_eq!(unknown.shown("./"), ".");
    }

    #[test]
    fn the_root_is_the_nearest_git_folder() {
        let dir = tempfile::tempdir().unwrap();
        let repo = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("a/b")).unwrap();
        assert_eq!(git_root(&repo.join("a/b")), Some(repo.clone()));
        let paths = Paths::detect(&repo.join("a/b"), None);
        assert_eq!(paths.shown("c.yaml"), "a/b/c.yaml");
        let explicit = Paths::detect(&repo.join("a/b"), Some(Path::new("..")));
        assert_eq!(explicit.shown("c.yaml"), "b/c.yaml");
    }
}
