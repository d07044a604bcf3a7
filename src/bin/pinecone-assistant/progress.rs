//! Progress on stderr: bars and spinners when stderr is a terminal, and a few
//! plain lines otherwise, so logs and CI output stay readable.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// How progress is shown: on a terminal, bars that stack (one per upload running
/// side by side); elsewhere plain lines.
#[derive(Debug, Clone)]
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Self {
        Self {
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    /// Progress of one upload of `total` bytes, named `name`.
    pub fn upload(&self, name: &str, total: Option<u64>, then_processing: bool) -> Upload {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = match total {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner(),
            };
            bar.set_message(name.to_owned());
            bars.add(bar)
        });
        if self.bars.is_none() {
            plain(&match total {
                Some(total) => format!("uploading {name} ({total} bytes)"),
                None => format!("uploading {name}"),
            });
        }
        Upload {
            bar,
            name: name.to_owned(),
            then_processing,
            processing_shown: false,
            quarters_shown: 0,
        }
    }

    /// A spinner (or one plain line) while waiting for `what`.
    pub fn waiting(&self, what: &str) -> Waiting {
        let Some(bars) = &self.bars else {
            plain(&format!("waiting for {what}"));
            return Waiting(None);
        };
        let spinner = bars.add(ProgressBar::new_spinner());
        spinner.set_message(format!("waiting for {what}"));
        spinner.enable_steady_tick(Duration::from_millis(120));
        Waiting(Some(spinner))
    }
}

fn plain(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The progress of one upload; [`Upload::sent`] is its progress callback.
pub struct Upload {
    bar: Option<ProgressBar>,
    name: String,
    then_processing: bool,
    processing_shown: bool,
    quarters_shown: u64,
}

impl Upload {
    /// `sent` of `total` bytes have gone out.
    pub fn sent(&mut self, sent: u64, total: Option<u64>) {
        let done = total.is_some_and(|t| sent >= t);
        if let Some(bar) = &self.bar {
            bar.set_position(sent);
            if done && self.then_processing && !self.processing_shown {
                // The bytes are out: the rate would only decay from here on.
                self.processing_shown = true;
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} ({total_bytes} sent, {elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!("{}: processing", self.name));
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            return;
        }
        // Plain lines at each quarter, the last one saying what comes next.
        let Some(total) = total.filter(|t| *t > 0) else {
            return;
        };
        let quarters = sent.min(total) * 4 / total;
        if quarters > self.quarters_shown {
            self.quarters_shown = quarters;
            let next = if done && self.then_processing {
                "; processing"
            } else {
                ""
            };
            plain(&format!(
                "{}: sent {}% ({sent} bytes){next}",
                self.name,
                quarters * 25
            ));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A spinner that goes away when dropped.
pub struct Waiting(Option<ProgressBar>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(spinner) = &self.0 {
            spinner.finish_and_clear();
        }
    }
}
