//! The real `policy` binary on runs that prove nothing (issue 15, item 16): a run that checked no document
//! says so and exits 2 unless `--allow-empty`, and a run with input errors never shows a green tick.

use crate::support::{policy, text};

#[test]
fn a_run_that_checked_nothing_exits_2_unless_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A docs page: Markdown with front matter that is not a card, and a README without front matter.
    std::fs::write(dir.path().join("guide.md"), "---\ntitle: Guide\n---\n# Guide\n").expect("write");
    std::fs::write(dir.path().join("README.md"), "# Project\n").expect("write");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");

    let out = policy(&["check", "--no-config", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no document was checked"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("nothing was checked") && !text(&out.stdout).contains('✔'));

    let out = policy(&["check", "--no-config", "--allow-empty", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The docs page is a document (of kind Unknown): something was read, and nothing in it is a finding.
    let out = policy(&["check", "--no-config", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("✔ no findings"), "{}", text(&out.stdout));
}

#[test]
fn input_errors_never_show_a_tick() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("broken.json"), "{\"a\": ").expect("write");
    std::fs::write(dir.path().join("guide.md"), "---\ntitle: Guide\n---\n").expect("write");
    // Named: found in a folder, a broken JSON file that no rule would read is skipped instead (tests/real_repo.rs).
    let out = policy(&["check", "--no-config", "broken.json", "guide.md"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('✔') && stdout.contains("1 input error"), "{stdout}");
}
