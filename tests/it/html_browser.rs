//! The HTML report as a person sees it: the report of the bundled examples opened in headless Chromium
//! (Debian's `chromium` package, or the browser `VIGIL_CHROMIUM` names), which must load it with no console
//! message (a blocked style or script, a failed load and a script error all log one) and no network request
//! of any kind (read from Chromium's own network log), run its optional script, and take a screenshot.
//! Skipped, with a message, where Chromium is not installed. Also the binary's `--format html` and
//! `--output html=FILE`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// The browser, if one runs here.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("VIGIL_CHROMIUM") {
        Some(path) => vec![path.into()],
        None => vec!["chromium".into(), "chromium-browser".into()],
    };
    candidates.into_iter().find(|c| {
        Command::new(c).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

macro_rules! browser_or_skip {
    () => {
        match chromium() {
            Some(browser) => browser,
            None => {
                eprintln!("skipped: Chromium is not installed (apt-get install chromium, or set VIGIL_CHROMIUM)");
                return;
            }
        }
    };
}

/// Runs headless Chromium on `page` with `extra` arguments, isolated (fresh profile, no background
/// networking, every host name unresolvable), killing it after two minutes.
fn run(browser: &Path, page: &Path, scratch: &Path, extra: &[String]) -> Output {
    use std::os::unix::process::CommandExt as _;
    let profile = tempfile::tempdir_in(scratch).expect("a profile folder");
    // Output goes to files, not pipes: a pipe nobody reads while waiting would stall the browser.
    let stdout = tempfile::tempfile_in(scratch).expect("a file");
    let stderr = tempfile::tempfile_in(scratch).expect("a file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .process_group(0)
        .stdout(stdout.try_clone().expect("a handle"))
        .stderr(stderr.try_clone().expect("a handle"))
        .spawn()
        .expect("Chromium starts");
    let started = Instant::now();
    while child.try_wait().expect("waitable").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            // The browser's whole process group: it was started in a group of its own above.
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            panic!("Chromium did not finish within two minutes on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().expect("exited");
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        f.rewind().and_then(|()| f.read_to_end(&mut bytes)).expect("readable");
        bytes
    };
    Output { status, stdout: read(stdout), stderr: read(stderr) }
}

/// What the page did: console messages, and requests it made over the network (not the browser's own).
struct Observed {
    dom: String,
    console: Vec<String>,
    requests: Vec<String>,
}

fn observe(browser: &Path, page: &Path, scratch: &Path) -> Observed {
    let log = scratch.join(format!("net-{}.json", page.file_stem().unwrap_or_default().to_string_lossy()));
    let extra = [
        "--dump-dom".into(),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
        format!("--log-net-log={}", log.display()),
    ];
    let out = run(browser, page, scratch, &extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    let net: Json = serde_json::from_str(&std::fs::read_to_string(&log).expect("Chromium wrote its network log"))
        .expect("the network log is JSON");
    let start_job = net["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    // Requests made for a page have the page's origin (file://) in their isolation key; the browser's own
    // background requests (update checks and the like) have none.
    let requests = net["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| e["params"]["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://")))
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .map(str::to_string)
        .collect();
    Observed { dom: String::from_utf8_lossy(&out.stdout).into_owned(), console, requests }
}

#[test]
fn the_examples_report_loads_in_chromium_offline_and_cleanly() {
    let browser = browser_or_skip!();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let page = scratch.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--now", "2026-06-01", "--no-config", "--output"])
        .arg(format!("html={}", page.display()))
        .arg("examples")
        .current_dir(&root)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1), "the examples have findings: {}", String::from_utf8_lossy(&out.stderr));

    let seen = observe(&browser, &page, scratch.path());
    assert!(seen.dom.contains("Compliance matrix") && seen.dom.contains("</html>"), "the page loaded");
    assert!(seen.console.is_empty(), "console messages: {:#?}", seen.console);
    assert!(seen.requests.is_empty(), "network requests: {:#?}", seen.requests);
    // The optional script ran (the Content-Security-Policy hash matches it): it shows the filter tools.
    assert!(seen.dom.contains("<div class=\"tools\">"), "the script did not run");

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    let args =
        [format!("--screenshot={}", shot.display()), "--window-size=1280,2000".into(), "--hide-scrollbars".into()];
    let out = run(&browser, &page, scratch.path(), &args);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!("no screenshot at {} ({e}): {}", shot.display(), String::from_utf8_lossy(&out.stderr))
    });
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a real screenshot: {} bytes", png.len());
    eprintln!("screenshot: {}", shot.display());
}

/// The checks above would see a page that loads things or logs: a page with a remote stylesheet and image
/// and a console message fails each of them.
#[test]
fn the_browser_checks_catch_a_page_that_reaches_out() {
    let browser = browser_or_skip!();
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let page = scratch.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><title>bad</title><link rel=\"stylesheet\" href=\"https://style.example/x.css\">\
         </head><body><img src=\"http://img.example/a.png\"><script>console.error(\"boom\")</script></body></html>",
    )
    .expect("written");
    let seen = observe(&browser, &page, scratch.path());
    assert!(seen.console.iter().any(|l| l.contains("boom")), "{:#?}", seen.console);
    for url in ["https://style.example/x.css", "http://img.example/a.png"] {
        assert!(seen.requests.iter().any(|r| r == url), "{url} not seen in {:#?}", seen.requests);
    }
}

#[test]
fn the_binary_writes_html_to_stdout_and_to_files_with_input_digests() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("a folder");
    let file = scratch.path().join("report.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--now", "2026-06-01", "--no-config", "--format", "html", "--output"])
        .arg(format!("html={}", file.display()))
        .arg("examples")
        .current_dir(&root)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let written = std::fs::read_to_string(&file).expect("the --output file");
    assert!(stdout.starts_with("<!DOCTYPE html>") && stdout.ends_with("</html>\n"));
    assert_eq!(stdout, written, "the same page on stdout and in the file");
    // Every input is listed with its SHA-256 (the run computes digests when an HTML report is asked for).
    let digests = stdout
        .split("<code class=\"digest\">")
        .skip(1)
        .filter(|rest| {
            rest.len() > 64 && rest[..64].bytes().all(|b| b.is_ascii_hexdigit()) && rest[64..].starts_with("</code>")
        })
        .count();
    assert!(digests >= 7, "6 inputs and the policy set have digests, got {digests}");
    assert!(!stdout.contains("not computed"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--output", "htm=x.html", "examples"])
        .current_dir(&root)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("github, html"));
}
