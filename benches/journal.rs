//! The journal at scale: 100,000 lines (50,000 actions, intent and outcome, 10 left
//! unfinished), measured with criterion: reading it whole, finding the unfinished actions
//! (one pass with a set), the interrupted ones (with a process check per unfinished intent),
//! and the incremental read after one more line (what `:journal` pays per write; before, each
//! write re-read the whole file: `read_100k_lines`). Also prints, timed once, the quadratic
//! search this replaced, so the two can be compared.
//!
//! Run: `cargo bench --bench journal`.

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use keytriage::journal::{self, ActionResult, Entry, Journal, Phase, Tail, TailRead};
use keytriage::model::KeyAction;
use keytriage::model::{AccessKeyId, AccountId, Timestamp};
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

const ACTIONS: usize = 50_000;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn entry(i: usize, phase: Phase) -> Entry {
    let time = now() - chrono::TimeDelta::seconds((ACTIONS - i) as i64);
    Entry {
        time,
        action_id: format!("{}-{}-{i}", time.format("%Y%m%dT%H%M%S%.3fZ"), 1_000_000 + i % 7),
        phase,
        operator: "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com".into(),
        account_id: AccountId::parse(&format!("{:012}", 100_000_000_000u64 + (i % 2000) as u64))
            .unwrap_or_else(|e| panic!("{e}")),
        user: format!("ci-deploy-{:03}", i % 500),
        access_key_id: Some(AccessKeyId::from(format!("AKIA{:016}", i))),
        credential: None,
        action: [KeyAction::Deactivate, KeyAction::Activate, KeyAction::Delete][i % 3],
        result: (phase == Phase::Outcome).then_some(ActionResult::Ok),
        request_id: (phase == Phase::Outcome).then(|| format!("5f1c2a4e-0000-4000-8000-{i:012}")),
        error_code: None,
        message: None,
        batch_id: None,
    }
}

/// The search `journal::unfinished` replaced: for each intent, a scan of the whole journal.
fn unfinished_quadratic(entries: &[Entry]) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| e.phase == Phase::Intent)
        .filter(|i| {
            !entries
                .iter()
                .any(|o| o.phase == Phase::Outcome && o.action_id == i.action_id)
        })
        .collect()
}

/// One more line, as a write appends it, without the fsync (whose cost is the disk's, not the
/// reader's).
fn append_raw(j: &Journal, i: usize) {
    let mut line = serde_json::to_vec(&entry(i, Phase::Intent)).unwrap_or_default();
    line.push(b'\n');
    let _ = std::fs::OpenOptions::new()
        .append(true)
        .open(j.path())
        .and_then(|mut f| f.write_all(&line));
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let j = Journal::at(dir.path().join("journal.jsonl"));
    {
        let mut text = Vec::new();
        for i in 0..ACTIONS {
            for phase in [Phase::Intent, Phase::Outcome] {
                if phase == Phase::Outcome && i % 5000 == 17 {
                    continue;
                }
                serde_json::to_writer(&mut text, &entry(i, phase)).unwrap_or_else(|e| panic!("{e}"));
                text.push(b'\n');
            }
        }
        std::fs::File::create(j.path())
            .and_then(|mut f| f.write_all(&text))
            .unwrap_or_else(|e| panic!("{e}"));
        println!(
            "journal: {} lines, {:.1} MiB",
            2 * ACTIONS - 10,
            text.len() as f64 / 1048576.0
        );
    }
    let entries = j.read().unwrap_or_else(|e| panic!("{e}"));

    let t = Instant::now();
    let old = unfinished_quadratic(&entries).len();
    println!(
        "before: quadratic unfinished search: {:.0} ms ({old} found)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let new = journal::unfinished(&entries).len();
    println!(
        "after: one-pass unfinished search: {:.1} ms ({new} found)",
        t.elapsed().as_secs_f64() * 1e3
    );

    c.bench_function("read_100k_lines", |b| b.iter(|| j.read().map(|e| e.len())));
    c.bench_function("unfinished_100k_lines", |b| {
        b.iter(|| journal::unfinished(black_box(&entries)).len())
    });
    c.bench_function("read_and_interrupted_100k_lines", |b| {
        b.iter(|| {
            let all = j.read().unwrap_or_default();
            journal::interrupted(&all, now(), journal::process_alive).len()
        })
    });
    let mut tail = Tail::new(j.clone());
    let _ = tail.read_new();
    let mut n = ACTIONS;
    c.bench_function("tail_after_one_write_100k_lines", |b| {
        b.iter(|| {
            n += 1;
            append_raw(&j, n);
            match tail.read_new() {
                Ok(TailRead::New(e)) => e.len(),
                _ => usize::MAX,
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
