//! Bulk deactivate against the emulator: `cargo bench --bench bulk`.
//!
//! `KEYTRIAGE_BENCH_KEYS` active keys (default 500) spread over `KEYTRIAGE_BENCH_ACCOUNTS`
//! member accounts (default 10), one `batch-job-NNN` user per key; scans them, then runs one
//! batch deactivating every key ([`Remediator::run_batch`], default limits) — as is, and with
//! 50 ms of latency on every call. Prints wall time and the API calls the batch made (counted
//! by the emulator's middleware), per action and per key.

#[path = "../tests/common/mod.rs"]
mod common;

use keytriage::aws::RoleOptions;
use keytriage::journal::Journal;
use keytriage::model::KeyAction;
use keytriage::remediate::bulk::{BatchLimits, new_batch_id, tally};
use keytriage::remediate::{Remediator, WriteRequest};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn main() {
    let keys = env_usize("KEYTRIAGE_BENCH_KEYS", 500);
    let accounts = env_usize("KEYTRIAGE_BENCH_ACCOUNTS", 10);
    let latency = json!([{"account": "*", "action": "*", "kind": "latency", "latency_ms": 50}]);
    println!("| run | keys | accounts | wall (s) | calls | calls/key | UpdateAccessKey | AssumeRole | done |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (label, faults) in [("no latency", json!([])), ("latency 50 ms", latency)] {
        run(label, scenario(keys, accounts, faults), keys, accounts);
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: expected a number")))
        .unwrap_or(default)
}

fn scenario(keys: usize, accounts: usize, faults: Value) -> Value {
    let per = keys.div_ceil(accounts);
    let mut list = vec![json!({"name": "mgmt", "email": "m@example.com", "management": true, "users": []})];
    for a in 0..accounts {
        let count = per.min(keys - (a * per).min(keys));
        list.push(json!({
            "name": format!("data-{a:02}"),
            "email": format!("d{a}@example.com"),
            "users": [], "generated_users": [{"count": count, "prefix": "batch-job-", "path": "/robots/", "created_days_ago": 500,
                       "password": null, "mfa": null,
                       "keys": [{"age_days": 400, "status": "Active",
                                 "last_used": {"days_ago": 30, "service": "s3"}}]}]
        }));
    }
    json!({"organization": true, "accounts": list, "faults": faults})
}

fn run(label: &str, scenario: Value, keys: usize, accounts: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = keytriage::emulator::Emulator::start(&scenario.to_string(), Duration::from_secs(600)).expect("emulator");
    rt.block_on(async {
        let ctx = common::context(&emu).await;
        let org = keytriage::scan::run_to_end(ctx.clone(), Arc::new(common::scan_options()), |_| {})
            .await
            .unwrap();
        let targets: Vec<WriteRequest> = org
            .accounts
            .iter()
            .flat_map(|s| {
                s.users.iter().flat_map(move |u| {
                    u.access_keys
                        .iter()
                        .map(move |k| WriteRequest::new(KeyAction::Deactivate, &s.account, &u.name, k))
                })
            })
            .collect();
        assert_eq!(targets.len(), keys, "every key scanned");
        let dir = tempfile::tempdir().unwrap();
        let role = RoleOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_length: None,
        };
        let remediator = Remediator::new(ctx, role, Journal::at(dir.path().join("journal.jsonl")), true);
        emu.reset_stats().unwrap();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let start = Instant::now();
        let outcomes = remediator
            .run_batch(
                &new_batch_id(chrono::Utc::now()),
                &targets,
                BatchLimits::default(),
                Arc::new(AtomicBool::new(false)),
                tx,
            )
            .await
            .unwrap();
        let wall = start.elapsed().as_secs_f64();
        let stats = emu.stats().unwrap();
        let total = stats["total"].as_u64().unwrap_or(0);
        let by = |a: &str| stats["by_action"][a].as_u64().unwrap_or(0);
        println!(
            "| {label} | {keys} | {accounts} | {wall:.1} | {total} | {:.1} | {} | {} | {} |",
            total as f64 / keys as f64,
            by("UpdateAccessKey"),
            by("AssumeRole"),
            tally(&outcomes)[0]
        );
    });
}
