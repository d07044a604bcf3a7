//! `sync DIR`: make an assistant's files equal a local folder, or with
//! `--dry-run` print the plan and change nothing.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use pinecone_assistant::Client;
use pinecone_assistant::sync::{SyncEvent, SyncOptions, SyncReport, SyncStop};
use serde_json::json;

use crate::args::SyncArgs;
use crate::exit::{Class, Failure, classify};
use crate::output::Output;

pub fn run(client: &Client, args: SyncArgs, out: Output) -> Result<(), Failure> {
    let mut options = SyncOptions::new()
        .gitignore(args.gitignore)
        .hidden(args.hidden)
        .delete_missing(args.delete_missing)
        .multimodal(args.multimodal)
        .fail_fast(args.fail_fast);
    if !args.include.is_empty() {
        options = options.include(args.include);
    }
    if !args.exclude.is_empty() {
        options = options.exclude(args.exclude);
    }
    if let Some(n) = args.workers {
        options = options.workers(n);
    }
    let assistant = client.assistant(args.target.assistant);
    let plan = assistant.plan_sync(&args.dir, &options)?;
    if args.dry_run {
        return out.one(&plan, ToString::to_string);
    }
    let changes = plan.changes().count() as u64;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(changes).with_style(
            ProgressStyle::with_template("[{pos}/{len}] {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let shown = bar.clone();
    let options = options.on_progress(move |event| {
        let finished = matches!(event, SyncEvent::Done { .. } | SyncEvent::Failed { .. });
        match &shown {
            Some(bar) => {
                bar.set_message(event.to_string());
                if finished {
                    bar.inc(1);
                }
            }
            // Without a terminal, one line per file that is finished.
            None if finished => {
                let _ = writeln!(std::io::stderr().lock(), "{event}");
            }
            None => {}
        }
    });
    let report = assistant.execute_sync(&plan, &options)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if out.json {
        out.json_line(&report_json(&report))?;
    } else {
        out.text(&format!("{report}\n"))?;
    }
    outcome(&report)
}

fn report_json(report: &SyncReport) -> serde_json::Value {
    let failures: Vec<serde_json::Value> = report
        .failures
        .iter()
        .map(|f| {
            json!({
                "path": f.entry.path,
                "file_id": f.entry.file_id,
                "action": f.entry.action,
                "error": f.error.to_string(),
            })
        })
        .collect();
    let mut doc = report.counts_json();
    doc.insert("failures".into(), failures.into());
    doc.into()
}

/// The exit: cancelled, the class of the first failure, or success.
fn outcome(report: &SyncReport) -> Result<(), Failure> {
    if report.stopped == Some(SyncStop::Cancelled) {
        return Err(Failure::new(Class::Cancelled, "sync cancelled"));
    }
    match report.failures.first() {
        Some(first) => Err(Failure::new(
            classify(&first.error),
            format!(
                "{} of the folder's files could not be synced; first, {}: {}",
                report.failed, first.entry.path, first.error
            ),
        )),
        None => Ok(()),
    }
}
