//! `policy check --write-baseline` and `--baseline`: the CLI side of `vigil::unstable::report::baseline`.

use std::path::Path;

use vigil::unstable::report::Report;
use vigil::unstable::report::baseline::{self, Baseline, Diff};

use super::Outcome;
use super::output::{eprint, style_for};
use super::policies::usage;

/// Reads the baseline `file` (never blocking on a FIFO) and leaves the findings it records out of `report`.
pub fn apply(report: &mut Report, file: &Path) -> Result<(), Outcome> {
    let name = file.display().to_string();
    let text = vigil::unstable::confine::open_regular(file).and_then(|mut f| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text).map(|_| text)
    });
    let parsed =
        text.map_err(|e| format!("cannot read the baseline {name}: {e}")).and_then(|t| Baseline::parse(&name, &t));
    match parsed {
        Ok(recorded) => {
            baseline::apply(report, &recorded, &name);
            Ok(())
        }
        Err(e) => Err(usage(e)),
    }
}

/// Writes every finding of `report` to a baseline file. An incomplete run would record an incomplete
/// baseline, whose missing findings would later pass as new-and-fixed noise: input errors refuse it.
pub fn write(report: &Report, file: &Path, human: bool) -> Outcome {
    if human {
        let style = style_for(&std::io::stderr());
        for e in &report.errors {
            eprint(&style.render(e));
        }
    }
    if !report.errors.is_empty() {
        let n = report.errors.len();
        return usage(format!(
            "not writing the baseline {}: {n} input error{} leave the run incomplete",
            file.display(),
            if n == 1 { "" } else { "s" }
        ));
    }
    let baseline = Baseline::of(report);
    // Never through a symbolic link, like every file a run writes.
    let written = vigil::unstable::confine::open_for_write(file, false).and_then(|f| {
        let mut out = std::io::BufWriter::new(f);
        baseline.render(&mut out)?;
        std::io::Write::flush(&mut out)
    });
    if let Err(e) = written {
        eprint(&format!("error: cannot write {}: {e}\n", file.display()));
        return Outcome::Error;
    }
    let n = baseline.findings.len();
    eprint(&format!("wrote {} with {n} finding{}\n", file.display(), if n == 1 { "" } else { "s" }));
    Outcome::Pass
}

/// What the baseline left out, and what it recorded that is gone.
pub fn lines(diff: &Diff) -> String {
    let mut out = format!(
        "baseline {}: {} known finding{} not shown; {} fixed\n",
        diff.file,
        diff.unchanged,
        if diff.unchanged == 1 { "" } else { "s" },
        diff.fixed.len()
    );
    for f in &diff.fixed {
        let at = if f.pointer.is_empty() { String::new() } else { format!(" at {}", f.pointer) };
        out.push_str(&format!("fixed: {} {}{at}: {}\n", f.rule, f.file, f.message.escape_debug()));
    }
    out
}
