//! A progress bar on long runs: files done, bytes read (model files are hashed whole), findings so far.
//!
//! Shown only when standard error is a terminal, `--quiet` is not given, and the run is still going after
//! a moment ([`DELAY`]), so quick runs and everything piped or captured by CI stay exactly as they were.
//! `NO_COLOR` asks for no colour, not for less information: the bar is drawn without colour in any case.
//! `TERM=dumb` terminals cannot redraw a line, so they get none.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use vigil::unstable::shard::Progress;

/// How long a run goes before a bar appears.
const DELAY: Duration = Duration::from_millis(800);
/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// A running display; [`Display::finish`] clears it before the report is written.
pub struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The counters to hand to the check, and the display reading them; `None` when no bar may be shown.
pub fn start(quiet: bool) -> Option<(Arc<Progress>, Display)> {
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    if quiet || dumb || !std::io::stderr().is_terminal() {
        return None;
    }
    let progress = Arc::new(Progress::default());
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (progress, stop) = (progress.clone(), stop.clone());
        std::thread::Builder::new().name("progress".into()).spawn(move || draw(&progress, &stop)).ok()?
    };
    Some((progress, Display { stop, thread: Some(thread) }))
}

impl Display {
    /// Stops and clears the bar.
    pub fn finish(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn draw(progress: &Progress, stop: &AtomicBool) {
    let started = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if bar.is_none() && started.elapsed() >= DELAY {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            // A template that does not parse is a bug here, never the user's: fall back to the default style.
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {bar:30} {pos}/{len} files {msg}") {
                b.set_style(style.progress_chars("=> "));
            }
            bar = Some(b);
        }
        if let Some(b) = &bar {
            let state = progress.state();
            if state.total > 0 {
                b.set_length(state.total as u64);
            }
            b.set_position(state.done as u64);
            let findings = if state.findings == 1 { "finding" } else { "findings" };
            b.set_message(format!("· {} read · {} {findings}", HumanBytes(state.bytes), state.findings));
            b.tick();
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}
