//! `keytriage plan` and `keytriage --write apply` as a user runs them, against the emulator.

mod common;

use keytriage::emulator::Emulator;
use keytriage::remediate::plan::Plan;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

/// The binary against `emu` with the standard credential chain from the environment, its
/// journal at `journal`.
fn against(emu: Option<&Emulator>, journal: &Path, args: &[&str]) -> Output {
    let endpoint = emu.map_or_else(|| "http://127.0.0.1:9".to_owned(), Emulator::endpoint);
    common::keytriage_at(&endpoint)
        .args(args)
        .env("KEYTRIAGE_JOURNAL", journal)
        .output()
        .expect("run keytriage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn old_key() -> Value {
    json!({"age_days": 400, "status": "Active", "last_used": {"days_ago": 30}})
}

/// A data account with three old batch keys and an old key of `alice` (not a batch user).
fn org() -> Value {
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": "data", "users": [
                {"name": "batch-job-001", "created_days_ago": 400, "keys": [old_key()]},
                {"name": "batch-job-002", "created_days_ago": 400, "keys": [old_key()]},
                {"name": "batch-job-003", "created_days_ago": 400, "keys": [old_key()]},
                {"name": "alice", "created_days_ago": 400, "keys": [old_key()]}
            ]}
        ]
    })
}

fn journal_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn make_plan(emu: &Emulator, journal: &Path, file: &Path) -> Plan {
    let out = against(
        Some(emu),
        journal,
        &[
            "plan",
            "-q",
            "--action",
            "deactivate",
            "--rule",
            "key-not-rotated",
            "--users",
            "batch-job-*",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

// See: issue 12, plan/apply.
#[test]
fn apply_skips_the_target_changed_since_the_plan_and_does_the_rest() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let file = dir.path().join("plan.json");
    let plan = make_plan(&emu, &journal, &file);
    assert_eq!(plan.schema, "keytriage.plan/v1");
    assert_eq!(plan.caller, "arn:aws:sts::123456789012:user/moto");
    let users: Vec<&str> = plan.targets.iter().map(|t| t.user.as_str()).collect();
    assert_eq!(users, ["batch-job-001", "batch-job-002", "batch-job-003"]);
    assert!(
        plan.targets
            .iter()
            .all(|t| t.last_used.is_some() && t.account_name == "data")
    );
    assert!(!journal.exists(), "planning writes nothing");

    // batch-job-002's key is deactivated between the plan and its apply.
    let changed = &plan.targets[1];
    let out = against(
        Some(&emu),
        &journal,
        &[
            "--write",
            "deactivate",
            "--account",
            &changed.account_id.to_string(),
            "--user",
            &changed.user,
            "--key",
            &changed.access_key_id.0,
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = journal_lines(&journal).len();

    let out = against(
        Some(&emu),
        &journal,
        &["--write", "apply", file.to_str().unwrap(), "--yes"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "skipped: deactivate access key {} (Active) of batch-job-002 in account {}: access key {} is now Inactive (it was Active when scanned)",
            changed.access_key_id, changed.account_id, changed.access_key_id
        )),
        "{err}"
    );
    assert!(
        err.contains("2 done, 1 skipped, 0 failed, 0 unknown, 0 not started"),
        "{err}"
    );

    let lines: Vec<Value> = journal_lines(&journal).split_off(before);
    assert_eq!(lines.len(), 6, "an intent and an outcome per target");
    assert!(lines.iter().all(|l| l["batch_id"] == plan.id.as_str()), "{lines:?}");
    let mut results: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["phase"] == "outcome")
        .map(|l| {
            (
                l["user"].as_str().unwrap().to_owned(),
                l["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            ("batch-job-001".to_owned(), "ok".to_owned()),
            ("batch-job-002".to_owned(), "skipped".to_owned()),
            ("batch-job-003".to_owned(), "ok".to_owned())
        ]
    );

    // The keys are as the journal says; alice's was never in the plan.
    let out = against(Some(&emu), &journal, &["scan", "-q"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let data = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "data")
        .unwrap();
    let status: Vec<(String, String)> = data["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["access_keys"][0]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("alice".to_owned(), "Active".to_owned()),
            ("batch-job-001".to_owned(), "Inactive".to_owned()),
            ("batch-job-002".to_owned(), "Inactive".to_owned()),
            ("batch-job-003".to_owned(), "Inactive".to_owned())
        ]
    );
}

#[test]
fn a_stale_an_edited_or_a_read_only_apply_is_refused_before_anything() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let file = dir.path().join("plan.json");
    let plan = make_plan(&emu, &journal, &file);
    let path = |name: &str| dir.path().join(name);
    let apply = |file: &Path, extra: &[&str]| {
        let mut args = vec!["--write", "apply", file.to_str().unwrap(), "--yes"];
        args.extend_from_slice(extra);
        against(Some(&emu), &journal, &args)
    };

    // Read-only: refused before the file is even read (this one does not exist).
    let out = against(None, &journal, &["apply", "/nonexistent/plan.json", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("writes are off: add --write to apply a plan (nothing was changed)"),
        "{}",
        stderr(&out)
    );

    // Stale: scanned 25 hours ago (sealed again, so only its age is wrong).
    let mut stale = plan.clone();
    stale.scanned_at -= chrono::Duration::hours(25);
    stale.seal();
    std::fs::write(path("stale.json"), serde_json::to_vec(&stale).unwrap()).unwrap();
    let out = apply(&path("stale.json"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("older than the 24 h allowed: make a new plan"),
        "{}",
        stderr(&out)
    );
    // The limit is a setting.
    let out = apply(&path("stale.json"), &["--max-plan-age-hours", "1"]);
    assert!(stderr(&out).contains("older than the 1 h allowed"), "{}", stderr(&out));

    // Edited: alice's key slipped into the targets.
    let mut text: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut extra = text["targets"][0].clone();
    extra["user"] = json!("alice");
    text["targets"].as_array_mut().unwrap().push(extra);
    std::fs::write(path("edited.json"), serde_json::to_vec(&text).unwrap()).unwrap();
    let out = apply(&path("edited.json"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the plan's digest does not match its content (it was edited after it was written)"),
        "{}",
        stderr(&out)
    );

    // Without --yes and without a terminal.
    let out = against(Some(&emu), &journal, &["--write", "apply", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("without --yes (no terminal to ask on)"),
        "{}",
        stderr(&out)
    );

    assert!(
        journal_lines(&journal).is_empty(),
        "nothing was journaled, nothing was done"
    );
}

// See: issue 12, skip reasons: a plan's target used since the plan names the plan, not the
// operator's confirmation.
#[test]
fn a_target_used_since_the_plan_is_skipped_with_the_plans_time() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let file = dir.path().join("plan.json");
    let mut plan = make_plan(&emu, &journal, &file);
    // The plan saw batch-job-001's key last used a day before its live last use (as if a
    // workload used it after the plan was made).
    let target = &mut plan.targets[0];
    let used = target.last_used.as_mut().unwrap();
    used.date -= chrono::Duration::days(1);
    let (key, saw) = (target.access_key_id.clone(), used.date);
    plan.seal();
    std::fs::write(&file, serde_json::to_vec(&plan).unwrap()).unwrap();

    let out = against(
        Some(&emu),
        &journal,
        &["--write", "apply", file.to_str().unwrap(), "--yes"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let reason = format!(
        "access key {key} was used since the plan was made (plan time {}; last use now {}",
        plan.scanned_at.format("%Y-%m-%d %H:%M UTC"),
        (saw + chrono::Duration::days(1)).format("%Y-%m-%d %H:%M UTC"),
    );
    assert!(err.contains(&reason), "{err}");
    assert!(
        err.contains(&format!("the plan saw {}", saw.format("%Y-%m-%d %H:%M UTC"))),
        "{err}"
    );
    assert!(!err.contains("since you confirmed"), "{err}");
    let skipped: Vec<Value> = journal_lines(&journal)
        .into_iter()
        .filter(|l| l["result"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["message"].as_str().unwrap().starts_with(&reason),
        "{skipped:?}"
    );
}

/// The fields of journal lines that say what was done to what (not when, nor under which
/// action or batch id), sorted.
fn outcomes(lines: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            [
                "phase",
                "operator",
                "account_id",
                "user",
                "access_key_id",
                "action",
                "result",
                "error_code",
                "message",
            ]
            .iter()
            .map(|f| l[f].to_string())
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect();
    out.sort();
    out
}

// See: issue 12, done when: "the same selection written as a plan and applied headless on a
// fresh demo gives the same journal".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_of_the_tuis_marks_applied_on_a_fresh_demo_journals_what_the_tuis_bulk_did() {
    use crossterm::event::{KeyCode, KeyEvent};
    use keytriage::audit::Policy;
    use keytriage::journal::Journal;
    use keytriage::remediate::Remediator;
    use keytriage::remediate::bulk::{BatchLimits, tally};
    use keytriage::scan::ScanEvent;
    use keytriage::tui::app::{App, Effect};
    use std::sync::Arc;

    // The demo's times count from 00:00 UTC of the day it starts: both demos below must
    // start the same UTC day.
    let demo: Value = serde_json::from_str(keytriage::emulator::DEMO_SCENARIO).unwrap();
    assert_eq!(demo["clock"], "utc-day");
    let now = chrono::Utc::now();
    let to_midnight = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap() - now.naive_utc();
    if to_midnight < chrono::Duration::minutes(10) {
        std::thread::sleep((to_midnight + chrono::Duration::seconds(5)).to_std().unwrap());
    }

    // The TUI on the demo: a scan, the data-platform batch keys marked through a filter,
    // written as a plan (`:plan`), then deactivated in one bulk confirmation.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let first = keytriage::emulator::Emulator::demo().unwrap();
    let ctx = common::context(&first).await;
    let mut app = App::new(Policy::default(), chrono::Utc::now(), ctx.caller.arn.clone(), true);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _scan = keytriage::scan::start(ctx.clone(), Arc::new(common::scan_options()), app.store.scan_id, tx);
    while let Some(e) = rx.recv().await {
        let end = matches!(e, ScanEvent::Finished { .. });
        app.on_scan_event(e);
        if end {
            break;
        }
    }
    app.refresh();
    let keys = |app: &mut App, text: &str| {
        for c in text.chars() {
            app.on_key(KeyEvent::from(KeyCode::Char(c)));
        }
        let effect = app.on_key(KeyEvent::from(KeyCode::Enter));
        app.refresh();
        effect
    };
    keys(&mut app, ":keys");
    keys(&mut app, "/acme-data-platform batch-job key-not-rotated");
    app.on_key(KeyEvent::from(KeyCode::Char('*')));
    assert_eq!(app.marks.len(), 100, "the batch-job users: {:?}", app.flash);
    let Some(Effect::WritePlan { plan, .. }) = keys(&mut app, &format!(":plan deactivate {}", file.display())) else {
        panic!("no plan: {:?}", app.flash)
    };
    std::fs::write(&file, serde_json::to_vec_pretty(&*plan).unwrap()).unwrap();
    assert_eq!(plan.targets.len(), 100);
    app.on_key(KeyEvent::from(KeyCode::Char('d')));
    let Some(Effect::Batch {
        batch_id,
        targets,
        stop,
    }) = app.on_key(KeyEvent::from(KeyCode::Char('y')))
    else {
        panic!("no batch: {:?}", app.bulk)
    };
    let tui_journal = Journal::at(dir.path().join("tui.jsonl"));
    let remediator = Remediator::new(ctx, common::scan_options().role, tui_journal.clone(), true);
    let (events, _progress) = tokio::sync::mpsc::unbounded_channel();
    let done = remediator
        .run_batch(&batch_id, &targets, BatchLimits::default(), stop, events)
        .await
        .unwrap();
    assert_eq!(tally(&done), [100, 0, 0, 0, 0]);
    drop(first);

    // A fresh demo, the plan applied headless as the README says.
    let real = dir.path().join("journal.jsonl");
    let out = common::keytriage_at("http://127.0.0.1:9")
        .args(["--demo", "--write", "apply", file.to_str().unwrap(), "--yes"])
        .env("KEYTRIAGE_JOURNAL", &real)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("100 done, 0 skipped, 0 failed, 0 unknown, 0 not started"),
        "{err}"
    );

    let tui: Vec<Value> = tui_journal
        .read()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    let headless = journal_lines(&dir.path().join("journal-demo.jsonl"));
    assert_eq!(tui.len(), 200, "an intent and an outcome per key");
    assert!(tui.iter().all(|l| l["batch_id"] == batch_id.as_str()));
    assert!(headless.iter().all(|l| l["batch_id"] == plan.id.as_str()));
    assert_eq!(outcomes(&headless), outcomes(&tui));
    assert!(!real.exists(), "the demo never writes the real journal");
}
