//! Scale benchmark of the headless scan against the emulator: `cargo bench --bench scan`.
//!
//! Builds an organization of `KEYTRIAGE_BENCH_ACCOUNTS` accounts (default 50, the first one
//! the management account) × `KEYTRIAGE_BENCH_USERS` IAM users (default 100), in two mixes:
//! the **bench org** (every user holds an access key; see [`user`]) and a **realistic mix**
//! (40% console-only humans without keys; see [`realistic_user`]). For each run — the bench
//! org as is and with 50 ms of latency on every call, then each org with every credential
//! kind read and with every kind but SSH public keys — it measures the emulator's own
//! throughput, runs the full scan and reports wall time, API calls (counted by the emulator's
//! middleware, never by the client), calls per user, the emulator bound and the peak memory
//! of this process. Ends with a markdown table, the calls per user against their goals, and
//! reference figures.

#[path = "../tests/common/mod.rs"]
mod common;

use chrono::Utc;
use futures::{StreamExt, stream};
use keytriage::audit::{self, Policy};
use keytriage::aws::AwsContext;
use keytriage::aws::credentials::CredentialKinds;
use keytriage::emulator::Emulator;
use keytriage::model::{CredentialKind, ScanStatus};
use keytriage::scan::{self, ScanOptions};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `sts:GetCallerIdentity` calls of the throughput probe, and how many at once.
const PROBE_CALLS: usize = 300;
const PROBE_CONCURRENCY: usize = 8;
/// Latency injected on every call by the second emulator.
const LATENCY_MS: u64 = 50;
/// Goals of calls per user with every credential kind read: the bench org, the realistic mix.
const GOAL_BENCH: f64 = 1.2;
const GOAL_MIX: f64 = 0.8;

/// The figures of one scan run.
struct Run {
    label: String,
    seed_s: f64,
    probe_cps: f64,
    wall_s: f64,
    total: u64,
    by_action: BTreeMap<String, u64>,
    users: usize,
    findings: usize,
    peak_mib: f64,
    /// Resident memory when the scan started (runtime, SDK, emulator client).
    base_mib: f64,
}

impl Run {
    fn calls_per_user(&self) -> f64 {
        self.total as f64 / self.users as f64
    }

    /// Seconds the emulator needs for this many calls at its measured throughput.
    fn bound_s(&self) -> f64 {
        self.total as f64 / self.probe_cps
    }
}

fn main() {
    let accounts = env_usize("KEYTRIAGE_BENCH_ACCOUNTS", 50);
    let users = env_usize("KEYTRIAGE_BENCH_USERS", 100);
    let latency = json!([{"account": "*", "action": "*", "kind": "latency", "latency_ms": LATENCY_MS}]);
    let all = CredentialKinds::default;
    let no_ssh = || {
        let mut k = CredentialKinds::default();
        k.others.remove(&CredentialKind::SshPublicKey);
        k
    };
    let n = accounts * users;
    let runs = [
        bench("bench org", scenario(accounts, users, user, json!([])), n, all()),
        bench(
            &format!("bench org, latency {LATENCY_MS} ms"),
            scenario(accounts, users, user, latency),
            n,
            all(),
        ),
        bench(
            "bench org, no SSH keys",
            scenario(accounts, users, user, json!([])),
            n,
            no_ssh(),
        ),
        bench(
            "realistic mix",
            scenario(accounts, users, realistic_user, json!([])),
            n,
            all(),
        ),
        bench(
            "realistic mix, no SSH keys",
            scenario(accounts, users, realistic_user, json!([])),
            n,
            no_ssh(),
        ),
    ];
    print_table(accounts, users, &runs);
    print_budget(&runs);
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: expected a number")))
        .unwrap_or(default)
}

/// The organization: account 0 is the management account, the others are spread over three
/// OUs; every account holds the same `users` users (`user(i)` for i in 0..users: [`user`] or
/// [`realistic_user`]) and a root user that has hardware MFA, except every 5th (virtual MFA)
/// and every 10th (an access key, no MFA).
fn scenario(accounts: usize, users: usize, user: fn(usize) -> Value, faults: Value) -> Value {
    let ous = ["Production", "Development", "Sandbox"];
    let accounts: Vec<Value> = (0..accounts)
        .map(|a| {
            let root = match a % 10 {
                7 => json!({"access_key": true, "mfa": null}),
                3 | 8 => json!({"mfa": "virtual"}),
                _ => json!({"mfa": "hardware"}),
            };
            let mut account = json!({
                "name": format!("bench-{a:03}"),
                "root": root,
                "users": (0..users).map(user).collect::<Vec<_>>(),
            });
            if a == 0 {
                account["management"] = json!(true);
            } else {
                account["ou"] = json!(ous[a % ous.len()]);
            }
            account
        })
        .collect();
    json!({
        "organization": true,
        "ous": ous.map(|name| json!({"name": name, "parent": null})),
        "accounts": accounts,
        "faults": faults,
    })
}

/// The `i`-th user of an account: one of seven kinds in turn — service users with a key 400
/// days old, unused for 100 days, fresh, or inactive; console users with virtual MFA, without
/// MFA (a never-used key), or with hardware MFA — and every 3rd user a second key, alternately
/// a fresh active one (rotation in progress) and an old inactive one.
fn user(i: usize) -> Value {
    let key = |age: u32, status: &str, used: Option<u32>| json!({"age_days": age, "status": status, "last_used": used.map(|d| json!({"days_ago": d, "service": "s3"}))});
    let (kind, password, mfa, first) = match i % 7 {
        0 => ("ci", None, None, key(400, "Active", Some(0))),
        1 => ("integration", None, None, key(200, "Active", Some(100))),
        2 => ("svc", None, None, key(30, "Active", Some(0))),
        3 => ("legacy", None, None, key(300, "Inactive", Some(250))),
        4 => ("dev", Some(1), Some("virtual"), key(20, "Active", Some(1))),
        5 => ("contractor", Some(60), None, key(100, "Active", None)),
        _ => ("admin", Some(0), Some("hardware"), key(10, "Active", Some(0))),
    };
    let mut keys = vec![first];
    if i % 3 == 2 {
        keys.push(if (i / 3).is_multiple_of(2) {
            key(5, "Active", Some(0))
        } else {
            key(150, "Inactive", Some(120))
        });
    }
    json!({
        "name": format!("{kind}-{i:04}"),
        "path": if password.is_some() { "/people/" } else { "/robots/" },
        "created_days_ago": 430,
        "password": password.map(|d: u32| json!({"last_used_days_ago": d})),
        "mfa": mfa,
        "keys": keys,
    })
}

/// The `i`-th user of an account in the realistic mix, by `i % 20` (each slot 5% of users):
/// - 0–7 (40%): console-only humans, no access key — virtual MFA (0–4), hardware MFA (5–6),
///   no MFA (7).
/// - 8–9 (10%): developers with console access and one access key; slot 9 also holds an SSH
///   public key for CodeCommit (5% of users), those of an even `i / 20` also an old inactive
///   one.
/// - 10–17 (40%): service users with one access key of various ages; slot 10 a second key
///   (rotation in progress), slot 11 an inactive key, slot 12 a signing certificate when
///   `i / 20` is even (3 users in 100), slot 13 a CodeCommit git credential (5%).
/// - 18 (5%): a service user with an access key and an Amazon Bedrock API key
///   (service-specific credential, 30 days to expiry).
/// - 19 (5%): a user left without any credential (an emptied account kept for its ARN).
fn realistic_user(i: usize) -> Value {
    let key = |age: u32, status: &str, used: Option<u32>| json!({"age_days": age, "status": status, "last_used": used.map(|d| json!({"days_ago": d, "service": "s3"}))});
    let slot = i % 20;
    let mut u = json!({"created_days_ago": 500, "path": "/"});
    let (prefix, password, mfa, keys): (&str, Option<u32>, Option<&str>, Vec<Value>) = match slot {
        0..=4 => ("human", Some(1), Some("virtual"), vec![]),
        5 | 6 => ("human", Some(3), Some("hardware"), vec![]),
        7 => ("human", Some(40), None, vec![]),
        8 | 9 => ("dev", Some(2), Some("virtual"), vec![key(60, "Active", Some(1))]),
        10 => (
            "svc",
            None,
            None,
            vec![key(120, "Active", Some(0)), key(2, "Active", Some(0))],
        ),
        11 => ("svc", None, None, vec![key(300, "Inactive", Some(200))]),
        12..=17 => (
            "svc",
            None,
            None,
            vec![key(20 * (slot as u32 - 10), "Active", Some(slot as u32 - 12))],
        ),
        18 => ("genai", None, None, vec![key(30, "Active", Some(0))]),
        _ => ("empty", None, None, vec![]),
    };
    u["name"] = json!(format!("{prefix}-{i:04}"));
    u["password"] = json!(password.map(|d| json!({"last_used_days_ago": d})));
    u["mfa"] = json!(mfa);
    u["keys"] = json!(keys);
    match slot {
        9 => {
            let mut ssh = vec![json!({"age_days": 200})];
            if (i / 20).is_multiple_of(2) {
                ssh.push(json!({"age_days": 400, "status": "Inactive"}));
            }
            u["ssh_keys"] = json!(ssh);
        }
        12 if (i / 20).is_multiple_of(2) => {
            u["signing_certificates"] = json!([{"age_days": 700, "expires_in_days": 20}]);
        }
        13 => u["service_credentials"] = json!([{"service": "codecommit.amazonaws.com", "age_days": 90}]),
        18 => {
            u["service_credentials"] =
                json!([{"service": "bedrock.amazonaws.com", "age_days": 10, "expires_in_days": 30}]);
        }
        _ => {}
    }
    u
}

/// One run: start an emulator with `scenario` (dropped before the scan, so it does not count
/// in the memory figures), probe its throughput, scan the organization.
/// Panics when any account fails or a user is missing: a broken scan is no benchmark.
fn bench(label: &str, scenario: Value, users: usize, kinds: CredentialKinds) -> Run {
    println!("== {label}");
    let text = scenario.to_string();
    drop(scenario);
    let started = Instant::now();
    let emu = Emulator::start(&text, Duration::from_secs(300)).unwrap_or_else(|e| panic!("emulator: {e}"));
    drop(text);
    let seed_s = started.elapsed().as_secs_f64();
    println!("emulator seeded and ready in {seed_s:.1} s");

    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let ctx = rt.block_on(common::context(&emu));
    emu.reset_stats().expect("reset stats");
    let probe_cps = rt.block_on(probe(&ctx));
    println!(
        "emulator throughput: {probe_cps:.0} calls/s ({PROBE_CALLS} GetCallerIdentity, {PROBE_CONCURRENCY} at once)"
    );
    emu.reset_stats().expect("reset stats");

    // Quick credential-report polling as in the tests, default concurrency.
    let quick = common::scan_options();
    let opts = ScanOptions {
        polling: quick.polling,
        kinds,
        ..ScanOptions::new(quick.role)
    };
    let base_mib = reset_peak_memory();
    let started = Instant::now();
    let org = rt
        .block_on(scan::run_to_end(ctx, Arc::new(opts), |_| {}))
        .expect("scan");
    let wall_s = started.elapsed().as_secs_f64();
    let peak_mib = proc_status_mib("VmHWM");

    let stats = emu.stats().expect("emulator stats");
    let failed: Vec<_> = org
        .accounts
        .iter()
        .filter(|a| a.scan.status != ScanStatus::Ok)
        .collect();
    assert!(failed.is_empty(), "accounts not scanned: {failed:#?}");
    let scanned: usize = org.accounts.iter().map(|a| a.users.len()).sum();
    assert_eq!(scanned, users, "users scanned");
    let by_action: BTreeMap<String, u64> = serde_json::from_value(stats["by_action"].clone()).expect("stats.by_action");
    let run = Run {
        label: label.to_owned(),
        seed_s,
        probe_cps,
        wall_s,
        total: stats["total"].as_u64().expect("stats.total"),
        by_action,
        users,
        findings: audit::audit_all(&org.accounts, &Policy::default(), Utc::now()).len(),
        peak_mib,
        base_mib,
    };
    println!(
        "scan: {:.2} s wall, {} calls ({:.3} per user; faulted {}, delayed {}), emulator bound {:.2} s, wall/bound {:.2}, peak {:.1} MiB (from {:.1}), {} findings",
        run.wall_s,
        run.total,
        run.calls_per_user(),
        stats["faulted"],
        stats["delayed"],
        run.bound_s(),
        run.wall_s / run.bound_s(),
        run.peak_mib,
        run.base_mib,
        run.findings,
    );
    for (action, n) in &run.by_action {
        println!("  {action:<28} {n:>7}");
    }
    run
}

/// Calls per second of `PROBE_CALLS` cheap calls in the management account, `PROBE_CONCURRENCY` at once.
async fn probe(ctx: &AwsContext) -> f64 {
    let sts = aws_sdk_sts::Client::new(&ctx.base);
    let started = Instant::now();
    let ok = stream::iter(0..PROBE_CALLS)
        .map(|_| sts.get_caller_identity().send())
        .buffer_unordered(PROBE_CONCURRENCY)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    assert_eq!(ok, PROBE_CALLS, "probe calls that succeeded");
    PROBE_CALLS as f64 / started.elapsed().as_secs_f64()
}

/// Resets this process's peak resident set size (`VmHWM`; Linux ≥ 4.0) and returns the
/// resident set size (`VmRSS`) it starts from, in MiB.
fn reset_peak_memory() -> f64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    proc_status_mib("VmRSS")
}

/// A `kB` field of /proc/self/status (`VmHWM`: peak resident set size) in MiB; 0 if unknown.
fn proc_status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The final markdown table: every run side by side (the first two, the bench org without and
/// with latency, compared), then the reference figures.
fn print_table(accounts: usize, users: usize, runs: &[Run]) {
    let row = |name: &str, f: &dyn Fn(&Run) -> String| {
        let cells: Vec<String> = runs.iter().map(f).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    println!(
        "\n## keytriage scan: {accounts} accounts × {users} users ({} users)\n",
        runs[0].users
    );
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    println!(
        "| figure | {} |\n|---|{}",
        labels.join(" | "),
        "---:|".repeat(runs.len())
    );
    row("emulator seeding (s)", &|r| format!("{:.1}", r.seed_s));
    row("emulator throughput (calls/s)", &|r| format!("{:.0}", r.probe_cps));
    row("scan wall time (s)", &|r| format!("{:.2}", r.wall_s));
    row("API calls (emulator count)", &|r| r.total.to_string());
    row("API calls per user", &|r| format!("{:.3}", r.calls_per_user()));
    let actions: std::collections::BTreeSet<&String> = runs.iter().flat_map(|r| r.by_action.keys()).collect();
    for action in actions {
        row(&format!("· {action}"), &|r| {
            r.by_action.get(action).copied().unwrap_or(0).to_string()
        });
    }
    row("emulator bound (s)", &|r| format!("{:.2}", r.bound_s()));
    row("wall / bound", &|r| format!("{:.2}", r.wall_s / r.bound_s()));
    row("peak memory, this process (MiB)", &|r| format!("{:.1}", r.peak_mib));
    row("· resident when the scan started (MiB)", &|r| {
        format!("{:.1}", r.base_mib)
    });
    row("findings", &|r| r.findings.to_string());
    println!(
        "\nWall, latency run / no-latency run (bench org): {:.2}× (target ≤ 1.5×)",
        runs[1].wall_s / runs[0].wall_s
    );
    println!("\nReference figures:\n");
    println!("| tool | scope | wall | peak memory | API calls |\n|---|---|---:|---:|---:|");
    println!("| Prowler 5.46, 7 IAM credential checks | 1 account × 100 users | ~29 s | 380 MB | ~930 HTTP requests |");
    println!(
        "| boto3 inventory | 50 accounts × 100 users | ~179 s sequential, ~148 s with 16 threads | — | 17,593 (≈3.5 per user) |"
    );
}

/// Calls per user (emulator count) of each org with every kind read and without SSH public
/// keys, against the goals. `runs` is [`main`]'s: 0 bench org, 2 bench org without SSH keys,
/// 3 realistic mix, 4 realistic mix without SSH keys.
fn print_budget(runs: &[Run]) {
    println!("\nCalls per user (emulator count):\n");
    println!("| org | all kinds | all kinds but SSH keys | of which ListSSHPublicKeys | goal (all kinds) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, all, no_ssh, goal) in [
        ("bench org", &runs[0], &runs[2], GOAL_BENCH),
        ("realistic mix", &runs[3], &runs[4], GOAL_MIX),
    ] {
        let ssh = all.by_action.get("ListSSHPublicKeys").copied().unwrap_or(0) as f64 / all.users as f64;
        let verdict = |r: &Run| if r.calls_per_user() <= goal { "met" } else { "missed" };
        println!(
            "| {name} | {:.3} ({}) | {:.3} ({}) | {ssh:.3} | ≤ {goal} |",
            all.calls_per_user(),
            verdict(all),
            no_ssh.calls_per_user(),
            verdict(no_ssh),
        );
    }
}
