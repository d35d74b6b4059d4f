//! Scan history figures: `cargo bench --bench history`.
//!
//! A synthetic organization of `KEYTRIAGE_BENCH_KEYS` access keys (default 100,000: 100
//! accounts × 1,000 users × 1 key) with a `key-not-rotated` finding on 60% of the keys. It
//! records a first scan into a fresh database, then a second in which 10% of the keys were
//! rotated (new ids: their findings resolved, the new keys clean), and prints: the time to
//! load the previous scan + triage + record, the time to diff the two recorded scans
//! (loading both snapshots included), and the database size after each scan; then a year of
//! weekly scans (52) and the TUI's start on it: the first frame, and the first frame with the
//! history's trend loaded (open + read + draw). Goals: record ≤ 1 s, diff ≤ 0.5 s, ≤ 5 MB
//! per recorded 100k-key scan. Access key ids are shaped like AWS's (`AKIA` + 16 base32
//! characters).

use chrono::{TimeZone, Utc};
use keytriage::audit::{Finding, Rule, Severity};
use keytriage::history::History;
use keytriage::model::{
    AccessKey, AccessKeyId, Account, AccountId, AccountScan, AccountState, KeyLastUsed, KeyStatus, RootUser, Timestamp,
    User,
};
use keytriage::triage;
use std::time::Instant;

/// `AKIA` + a letter + 15 base32 characters numbering (`generation`, `n`), as AWS shapes
/// access key ids.
fn key_id(letter: char, generation: u32, n: usize) -> String {
    const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut v = (u64::from(generation) << 40) | n as u64;
    let mut tail = [b'A'; 15];
    for c in tail.iter_mut().rev() {
        *c = B32[(v & 31) as usize];
        v >>= 5;
    }
    format!("AKIA{letter}{}", std::str::from_utf8(&tail).expect("ascii"))
}

fn org(keys: usize, rotated: usize, generation: u32) -> (Vec<AccountScan>, Vec<Finding>) {
    let per_account = 1000;
    let accounts = keys.div_ceil(per_account);
    let created = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let used = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    let mut scans = Vec::with_capacity(accounts);
    let mut findings = Vec::new();
    for a in 0..accounts {
        let id = AccountId::parse(&format!("{:012}", 100_000_000_000u64 + a as u64)).unwrap();
        let mut users = Vec::with_capacity(per_account);
        for u in 0..per_account.min(keys - a * per_account) {
            let n = a * per_account + u;
            let fresh = n < rotated;
            let key = if fresh {
                key_id('N', generation, n)
            } else {
                key_id('O', 0, n)
            };
            let name = format!("svc-{a:03}-user-{u:04}");
            if !fresh && n % 10 < 6 {
                findings.push(Finding {
                    credential: None,
                    rule: Rule::KeyNotRotated,
                    severity: Severity::High,
                    account_id: id.clone(),
                    user: name.as_str().into(),
                    access_key_id: Some(AccessKeyId::from(key.clone())),
                    detail: "active key is 700 days old (limit 90)".into(),
                    controls: Rule::KeyNotRotated.controls(),
                });
            }
            users.push(User {
                credentials: Vec::new(),
                name: name.clone(),
                arn: format!("arn:aws:iam::{}:user/{name}", id.as_str()),
                path: "/".into(),
                created,
                password_enabled: false,
                password_last_used: None,
                mfa_active: false,
                mfa_devices: vec![],
                access_keys: vec![AccessKey {
                    id: AccessKeyId::from(key),
                    status: KeyStatus::Active,
                    created,
                    last_used: Some(KeyLastUsed {
                        date: used,
                        service: Some("s3".into()),
                        region: Some("eu-west-1".into()),
                    }),
                }],
            });
        }
        let account = Account {
            id,
            name: format!("acct-{a}"),
            email: String::new(),
            state: AccountState::Active,
            ou_path: "/".into(),
        };
        let root = RootUser {
            signing_certificates: Vec::new(),
            access_keys_present: false,
            mfa_enabled: true,
            mfa_kind: None,
            access_keys: vec![],
        };
        scans.push(AccountScan::ok(account, root, users, vec![]));
    }
    (scans, findings)
}

fn record(h: &mut History, at: Timestamp, accounts: &[AccountScan], findings: &[Finding]) -> (f64, usize, usize) {
    let start = Instant::now();
    let prev = h.previous().expect("previous");
    let o = triage::triage(findings, accounts, &[], prev.as_ref(), at);
    h.record(at, Some("arn:aws:iam::100000000000:user/bench"), accounts, findings, &o)
        .expect("record");
    (start.elapsed().as_secs_f64(), o.changes.new, o.changes.resolved)
}

/// The database file's size once its write-ahead log is folded in.
fn size(path: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(path).expect("size").len()
}

fn main() {
    let keys: usize = std::env::var("KEYTRIAGE_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("history.db");
    let mut h = History::open(&path).expect("open");
    let (a1, f1) = org(keys, 0, 0);
    let (a2, f2) = org(keys, keys / 10, 1);
    let t1 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let t2 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let (r1, new1, _) = record(&mut h, t1, &a1, &f1);
    let s1 = size(&path);
    let (r2, new2, resolved2) = record(&mut h, t2, &a2, &f2);
    let s2 = size(&path);
    let start = Instant::now();
    let (from, to) = h.snapshots(1, 2).expect("read");
    let d = triage::diff(&from.expect("scan 1"), &to.expect("scan 2"));
    let diff_s = start.elapsed().as_secs_f64();
    let mb = |b: u64| b as f64 / 1_000_000.0;
    println!("history bench: {keys} keys, {} / {} findings", f1.len(), f2.len());
    println!("| figure | measured | goal |");
    println!("|---|---|---|");
    println!("| record first scan (triage + write, {new1} new) | {r1:.3} s | ≤ 1 s |");
    println!("| record second scan ({new2} new, {resolved2} resolved) | {r2:.3} s | ≤ 1 s |");
    println!(
        "| diff of the two scans ({} resolved, {} key changes) | {diff_s:.3} s | ≤ 0.5 s |",
        d.resolved.len(),
        d.keys.len()
    );
    let (json_s, parse_s, json_mb, jd) = json_diff(dir.path(), (t1, &a1, &f1), (t2, &a2, &f2));
    println!(
        "| diff of the same two scans as JSON files ({:.0} MB each; {} resolved, {} key changes) | {json_s:.3} s (parsing {parse_s:.3} s) | ≤ 0.5 s |",
        json_mb,
        jd.resolved.len(),
        jd.keys.len()
    );
    assert_eq!(
        (jd.resolved.len(), jd.keys.len()),
        (d.resolved.len(), d.keys.len()),
        "the files diff as the recorded scans"
    );
    println!("| database after first scan | {:.2} MB | ≤ 5 MB per scan |", mb(s1));
    println!(
        "| growth for the second scan | {:.2} MB | ≤ 5 MB per scan |",
        mb(s2.saturating_sub(s1))
    );

    // A year of weekly scans: the 52nd is recorded and diffed as fast as the second.
    let weeks: i64 = std::env::var("KEYTRIAGE_BENCH_SCANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(52);
    for w in 3..weeks {
        record(&mut h, t2 + chrono::Duration::weeks(w - 2), &a2, &f2);
    }
    let at = t2 + chrono::Duration::weeks(weeks - 2);
    let (r52, _, _) = record(&mut h, at, &a1, &f1);
    let start = Instant::now();
    let last = h.latest().expect("read").expect("a scan");
    let (from, to) = h.snapshots(last - 1, last).expect("read");
    let d = triage::diff(&from.expect("scan"), &to.expect("scan"));
    let diff52 = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let listed = h.list().expect("list").len();
    let list_s = start.elapsed().as_secs_f64();
    let s52 = size(&path);
    println!(
        "| record scan {weeks} (with {} earlier) | {r52:.3} s | ≤ 1 s |",
        weeks - 1
    );
    println!(
        "| diff of scans {} and {weeks} ({} new) | {diff52:.3} s | ≤ 0.5 s |",
        weeks - 1,
        d.new.len()
    );
    println!("| `keytriage history` listing {listed} scans | {list_s:.4} s | — |");
    println!(
        "| database after {weeks} scans | {:.1} MB ({:.2} MB per scan) | ≤ 5 MB per scan |",
        mb(s52),
        mb(s52) / weeks as f64
    );
    drop(h);
    let (first, with_trend, points) = tui_start(&path);
    println!("| TUI start: first frame (120×40) | {first:.4} s | — |");
    println!(
        "| TUI start: first frame with the trend of {points} scans loaded (open + read + draw) | {with_trend:.4} s | — |"
    );
}

/// `keytriage diff A.json B.json` of two scan documents written to `dir`: (seconds to read,
/// parse and diff both, seconds of that spent reading and parsing, MB per file, the diff).
fn json_diff(
    dir: &std::path::Path,
    from: (Timestamp, &[AccountScan], &[Finding]),
    to: (Timestamp, &[AccountScan], &[Finding]),
) -> (f64, f64, f64, triage::Diff) {
    let policy = keytriage::audit::Policy::default();
    let write = |name: &str, (at, accounts, findings): (Timestamp, &[AccountScan], &[Finding])| {
        let org = keytriage::scan::OrgScan {
            organization: None,
            accounts: accounts.to_vec(),
            warnings: vec![],
            missing: vec![],
        };
        let doc = keytriage::report::ScanDocument::new(&org, &policy, findings, at);
        let path = dir.join(name);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        keytriage::report::write_json(&mut out, &doc).expect("write");
        path
    };
    let (a, b) = (write("a.json", from), write("b.json", to));
    let start = Instant::now();
    let sa = keytriage::commands::diff::snapshot_of_document(&std::fs::read_to_string(&a).expect("read"))
        .expect("scan document");
    let sb = keytriage::commands::diff::snapshot_of_document(&std::fs::read_to_string(&b).expect("read"))
        .expect("scan document");
    let parse = start.elapsed().as_secs_f64();
    let d = triage::diff(&sa, &sb);
    let size = std::fs::metadata(&a).expect("size").len() as f64 / 1_000_000.0;
    (start.elapsed().as_secs_f64(), parse, size, d)
}

/// The TUI's start on the history at `path`: (seconds to the first frame, seconds to the
/// first frame with the accounts panel's trend read from the history, scans in the trend).
/// The loop draws before anything is read; the trend is read off the loop, as here.
fn tui_start(path: &std::path::Path) -> (f64, f64, usize) {
    use keytriage::tui::{app::App, render, theme::Theme};
    use ratatui::{Terminal, backend::TestBackend};
    let start = Instant::now();
    let mut app = App::new(
        keytriage::audit::Policy::default(),
        Utc::now(),
        "arn:aws:iam::100000000000:user/bench".into(),
        false,
    );
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let theme = Theme { no_color: true };
    term.draw(|f| render::draw(&app, &theme, f)).expect("draw");
    let first = start.elapsed().as_secs_f64();
    let h = History::open(path).expect("open");
    let trend = h.trend(52).expect("trend");
    let points = trend.scans.len();
    app.trend = Some(trend);
    term.draw(|f| render::draw(&app, &theme, f)).expect("draw");
    (first, start.elapsed().as_secs_f64(), points)
}
