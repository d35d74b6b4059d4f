//! The scan survives faults (issue 5): each fault of the emulator's fault language, met
//! through the real AWS SDK, with the status, error code and data each account ends with.
//!
//! Every test connects in a region of its own: the SDK's retry token buckets are
//! process-wide, one per service and region, so a test that spends them (dropped connections,
//! a killed emulator) would otherwise starve the retries of a test running beside it.

mod common;

use chrono::Utc;
use keytriage::audit::{self, Policy, Rule};
use keytriage::aws::credential_report::Polling;
use keytriage::aws::inventory::{self, InventoryOptions};
use keytriage::aws::{self, AwsContext, org};
use keytriage::emulator::Emulator;
use keytriage::model::{AccountScan, KeyStatus, MfaKind, ScanStatus, Timestamp, User};
use keytriage::scan::{self, OrgScan, ScanEvent, ScanOptions};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn key(age: u32, status: &str, used: Option<(u32, &str, &str)>) -> Value {
    json!({"age_days": age, "status": status,
           "last_used": used.map(|(d, s, r)| json!({"days_ago": d, "service": s, "region": r}))})
}

/// Users with every kind of credential: keys used and never used, active and inactive, one
/// and two keys, passwords used and never used, virtual and hardware MFA.
fn varied_users() -> Value {
    json!([
        {"name": "alice", "path": "/people/", "created_days_ago": 300,
         "password": {"last_used_days_ago": 1}, "mfa": null,
         "keys": [key(200, "Active", Some((1, "s3", "eu-west-1")))]},
        {"name": "bob", "path": "/people/", "created_days_ago": 100, "mfa": "virtual",
         "password": {"last_used_days_ago": null},
         "keys": [key(95, "Active", Some((60, "ec2", "us-east-1"))), key(5, "Active", None)]},
        {"name": "carol", "path": "/", "created_days_ago": 200, "mfa": "hardware",
         "password": {"last_used_days_ago": 100}, "keys": [key(150, "Inactive", None)]},
        {"name": "dave", "path": "/robots/", "created_days_ago": 60, "keys": [key(60, "Active", None)]},
        {"name": "erin", "path": "/", "created_days_ago": 10, "keys": []}
    ])
}

/// A small organization with a finding of every kind; `faults` as given.
fn org_with(faults: Value) -> Value {
    json!({
        "organization": true,
        "ous": [{"name": "Production", "parent": null}, {"name": "Payments", "parent": "Production"}],
        "accounts": [
            {"name": "mgmt", "management": true, "users": [
                {"name": "ops", "created_days_ago": 400, "password": {"last_used_days_ago": 2},
                 "mfa": "hardware", "keys": [key(200, "Active", Some((1, "iam", "us-east-1")))]}]},
            {"name": "payments", "ou": "Payments", "root": {"access_key": true, "mfa": null},
             "users": varied_users()},
            {"name": "web", "ou": "Production", "root_row": false, "root": {"mfa": "virtual"},
             "users": [{"name": "fresh", "created_days_ago": 3, "keys": [key(3, "Active", Some((0, "s3", "us-east-1")))]}],
             "generated_users": [{"count": 6, "prefix": "bot-", "path": "/robots/", "created_days_ago": 150,
                                  "keys": [key(120, "Active", Some((50, "sqs", "eu-west-1")))]}]}
        ],
        "faults": faults
    })
}

/// A context of its own (see the module doc): `region` names its retry token buckets;
/// `max_attempts` overrides the tests' default when given.
async fn context_in(emu: &Emulator, region: &str, max_attempts: Option<u32>) -> Arc<AwsContext> {
    let mut opts = common::connect_options(emu);
    opts.region = Some(region.to_owned());
    if let Some(n) = max_attempts {
        opts.max_attempts = n;
    }
    Arc::new(aws::connect(&opts).await.expect("connect to the emulator"))
}

async fn scan_with(ctx: Arc<AwsContext>, opts: ScanOptions) -> OrgScan {
    scan::run_to_end(ctx, Arc::new(opts), |_| {}).await.expect("scan")
}

/// Every finding as (account name, rule, user, access key id).
fn findings(org: &OrgScan) -> BTreeSet<(String, Rule, String, Option<String>)> {
    audit::audit_all(&org.accounts, &Policy::default(), Utc::now())
        .into_iter()
        .map(|f| {
            let acct = org.accounts.iter().find(|a| a.account.id == f.account_id).unwrap();
            (
                acct.account.name.clone(),
                f.rule,
                f.user.to_string(),
                f.access_key_id.map(|k| k.to_string()),
            )
        })
        .collect()
}

/// What a user is, without what differs between accounts (ARNs, key ids, MFA serials) or
/// between reading paths (hardware serials are only listed without the report).
type UserFacts = (
    String,
    String,
    Timestamp,
    bool,
    Option<Timestamp>,
    bool,
    Option<MfaKind>,
    Vec<(KeyStatus, Timestamp, Option<Timestamp>, Option<String>)>,
);

fn facts(users: &[User]) -> Vec<UserFacts> {
    users
        .iter()
        .map(|u| {
            let keys = u
                .access_keys
                .iter()
                .map(|k| {
                    let used = k.last_used.as_ref();
                    (
                        k.status,
                        k.created,
                        used.map(|l| l.date),
                        used.and_then(|l| l.service.clone()),
                    )
                })
                .collect();
            (
                u.name.clone(),
                u.path.clone(),
                u.created,
                u.password_enabled,
                u.password_last_used,
                u.mfa_active,
                u.mfa_kind(),
                keys,
            )
        })
        .collect()
}

fn names(scan: &AccountScan) -> Vec<&str> {
    scan.users.iter().map(|u| u.name.as_str()).collect()
}

fn count(stats: &Value, field: &str, action: &str) -> u64 {
    stats[field][action].as_u64().unwrap_or(0)
}

fn assert_all_ok(org: &OrgScan) {
    for a in &org.accounts {
        assert_eq!(a.scan.status, ScanStatus::Ok, "{}: {:?}", a.account.name, a.scan);
        assert!(
            !a.scan.partial && a.scan.error.is_none(),
            "{}: {:?}",
            a.account.name,
            a.scan
        );
    }
}

// 1. Throttling on 30% of the calls: the same findings as without faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_30_percent_of_calls_changes_no_finding() {
    let clean = common::emulator(&org_with(json!([])));
    let throttled = common::emulator(&org_with(json!([
        {"account": "*", "action": "*", "kind": "throttle", "rate": 0.3}
    ])));
    let (want, got) = tokio::join!(
        async { scan_with(context_in(&clean, "us-east-1", None).await, common::scan_options()).await },
        async { scan_with(context_in(&throttled, "us-west-1", None).await, common::scan_options(),).await },
    );
    assert_all_ok(&want);
    assert_all_ok(&got);
    let want_findings = findings(&want);
    assert!(
        want_findings.len() >= 15,
        "the scenario has findings of every kind: {want_findings:?}"
    );
    assert_eq!(findings(&got), want_findings);
    for (w, g) in want.accounts.iter().zip(&got.accounts) {
        assert_eq!(names(g), names(w));
        // Two emulators seeded a second apart: compare the root's facts, not its timestamps.
        let facts = |s: &keytriage::model::AccountScan| {
            s.root
                .as_ref()
                .map(|r| (r.access_keys_present, r.mfa_enabled, r.mfa_kind, r.access_keys.len()))
        };
        assert_eq!(facts(g), facts(w), "{}", g.account.name);
    }

    let stats = throttled.stats().unwrap();
    let faulted = stats["faulted"].as_u64().unwrap();
    assert!(faulted > 0 && faulted < stats["total"].as_u64().unwrap(), "{stats}");
    assert!(
        count(&stats, "faulted_by_action", "ListAccessKeys") > 0,
        "IAM calls were throttled: {stats}"
    );
}

// 2. Denials, each in its own account, and partial data kept and labelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_denial_shows_in_its_own_account_and_partial_data_is_labelled() {
    let users_in_order = json!([
        {"name": "a-first", "created_days_ago": 300, "keys": [key(200, "Active", Some((1, "s3", "us-east-1")))]},
        {"name": "b-second", "created_days_ago": 300, "password": {"last_used_days_ago": 1},
         "keys": [key(10, "Active", None)]},
        {"name": "c-denied", "created_days_ago": 300, "keys": [key(200, "Active", None)]},
        {"name": "d-after", "created_days_ago": 300, "keys": [key(200, "Inactive", None)]}
    ]);
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": "no-role", "users": varied_users()},
            {"name": "scp", "users": varied_users()},
            {"name": "no-report", "users": varied_users()},
            {"name": "twin", "users": varied_users()},
            {"name": "half", "root": {"mfa": null}, "users": users_in_order}
        ],
        "faults": [
            {"account": "no-role", "action": "AssumeRole", "kind": "deny"},
            {"account": "scp", "action": "ListUsers", "kind": "deny"},
            {"account": "no-report", "action": "GenerateCredentialReport", "kind": "deny"},
            {"account": "half", "action": "ListAccessKeys", "user": "c-denied", "kind": "deny"}
        ]
    }));
    let mut opts = common::scan_options();
    opts.user_concurrency = 1; // users are read in ListUsers order: "half" stops at c-denied
    let org = scan_with(context_in(&emu, "eu-west-1", None).await, opts).await;

    let no_role = common::account(&org, "no-role");
    assert_eq!((no_role.scan.status, no_role.scan.partial), (ScanStatus::Failed, false));
    let err = no_role.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "AccessDenied");
    let role_arn = format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", no_role.account.id);
    assert!(
        err.message.starts_with(&format!("cannot assume {role_arn}")),
        "{}",
        err.message
    );
    assert!(no_role.users.is_empty() && no_role.root.is_none());

    let scp = common::account(&org, "scp");
    assert_eq!((scp.scan.status, scp.scan.partial), (ScanStatus::Failed, false));
    let err = scp.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "AccessDenied");
    assert!(
        err.message.starts_with("access denied on iam:ListUsers: "),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("is not authorized to perform: iam:ListUsers"),
        "{}",
        err.message
    );
    assert!(scp.users.is_empty() && scp.root.is_none());

    // Without the credential report: the same inventory, user by user.
    let no_report = common::account(&org, "no-report");
    let twin = common::account(&org, "twin");
    assert_eq!((no_report.scan.status, &no_report.scan.error), (ScanStatus::Ok, &None));
    assert_eq!(twin.scan.warnings, Vec::<String>::new());
    assert_eq!(no_report.scan.warnings.len(), 1, "{:?}", no_report.scan.warnings);
    let warning = &no_report.scan.warnings[0];
    assert!(
        warning.starts_with("credential report unavailable (access denied on iam:GenerateCredentialReport: "),
        "{warning}"
    );
    assert_eq!(facts(&no_report.users), facts(&twin.users));
    assert_eq!(no_report.users.len(), 5);
    assert_eq!(no_report.root, twin.root);
    let carol = &no_report.users[2];
    assert_eq!(
        carol.mfa_devices[0].serial.get(..4),
        Some("GAHT"),
        "hardware device listed: {carol:?}"
    );

    // Partial: failed, labelled partial, with the users read in full before the denial.
    let half = common::account(&org, "half");
    assert_eq!((half.scan.status, half.scan.partial), (ScanStatus::Failed, true));
    let err = half.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "AccessDenied");
    assert!(
        err.message.starts_with("access denied on iam:ListAccessKeys: "),
        "{}",
        err.message
    );
    assert_eq!(names(half), ["a-first", "b-second"]);
    assert_eq!(half.users[0].access_keys.len(), 1);
    assert!(half.users[1].password_enabled && half.users[1].access_keys[0].last_used.is_none());
    assert!(half.root.is_some());
    let scan_json = serde_json::to_value(&half.scan).unwrap();
    assert_eq!(
        (scan_json["status"].as_str(), scan_json["partial"].as_bool()),
        (Some("failed"), Some(true))
    );
    assert!(
        serde_json::to_value(&twin.scan).unwrap().get("partial").is_none(),
        "optional field, absent when false"
    );

    // Findings only for what is there: the users kept and the root user.
    let half_findings: BTreeSet<(Rule, String)> = findings(&org)
        .into_iter()
        .filter(|f| f.0 == "half")
        .map(|f| (f.1, f.2))
        .collect();
    let want: BTreeSet<(Rule, String)> = [
        (Rule::RootNoMfa, "<root_account>"),
        (Rule::KeyNotRotated, "a-first"),
        (Rule::ConsoleWithoutMfa, "b-second"),
        (Rule::KeyNeverUsedAtSetup, "b-second"),
    ]
    .into_iter()
    .map(|(r, u)| (r, u.to_owned()))
    .collect();
    assert_eq!(half_findings, want);
}

// 3a. Bursts of 5xx and dropped connections are retried: complete, ok, and the same
// inventory as a second scan of the same emulator once the bursts are spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_5xx_and_dropped_connections_are_retried() {
    let bursts = [
        ("ListAccounts", "error", 503, 2),
        ("AssumeRole", "error", 500, 2),
        ("GetCredentialReport", "drop", 0, 3),
        ("ListUsers", "error", 500, 3),
        ("ListVirtualMFADevices", "drop", 0, 3),
        ("ListAccessKeys", "error", 503, 3),
    ];
    let faults: Vec<Value> = bursts
        .iter()
        .map(|(action, kind, status, first)| match *kind {
            "drop" => json!({"action": action, "kind": "drop", "first": first}),
            _ => json!({"action": action, "kind": kind, "status": status, "first": first}),
        })
        .collect();
    let emu = common::emulator(&org_with(json!(faults)));
    let ctx = context_in(&emu, "eu-west-2", None).await;
    let got = scan_with(ctx.clone(), common::scan_options()).await;
    let stats = emu.stats().unwrap();
    for (action, _, _, n) in bursts {
        assert_eq!(count(&stats, "faulted_by_action", action), n, "{action}: {stats}");
    }
    assert_all_ok(&got);

    emu.reset_stats().unwrap();
    let want = scan_with(ctx, common::scan_options()).await;
    assert_eq!(emu.stats().unwrap()["faulted"], 0, "the bursts are spent");
    assert_eq!(findings(&got), findings(&want));
    for (w, g) in want.accounts.iter().zip(&got.accounts) {
        assert_eq!(facts(&g.users), facts(&w.users), "{}", g.account.name);
        // Two emulators seeded a second apart: compare the root's facts, not its timestamps.
        let facts = |s: &keytriage::model::AccountScan| {
            s.root
                .as_ref()
                .map(|r| (r.access_keys_present, r.mfa_enabled, r.mfa_kind, r.access_keys.len()))
        };
        assert_eq!(facts(g), facts(w), "{}", g.account.name);
    }
}

// 3b. A permanent 5xx or dropped connection fails that account only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_5xx_or_drop_fails_only_that_account() {
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": varied_users()},
            {"name": "broken", "users": varied_users()},
            {"name": "cut", "users": varied_users()},
            {"name": "fine", "users": varied_users()}
        ],
        "faults": [
            {"account": "broken", "action": "ListUsers", "kind": "error", "status": 500},
            {"account": "cut", "action": "ListUsers", "kind": "drop"}
        ]
    }));
    let started = Instant::now();
    // Two attempts: the retry is proven, and the permanent failure arrives quickly.
    let org = scan_with(context_in(&emu, "eu-west-3", Some(2)).await, common::scan_options()).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );

    let broken = common::account(&org, "broken");
    assert_eq!((broken.scan.status, broken.scan.partial), (ScanStatus::Failed, false));
    let err = broken.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "InternalFailure");
    assert!(
        err.message.starts_with("iam:ListUsers failed (InternalFailure): "),
        "{}",
        err.message
    );

    let cut = common::account(&org, "cut");
    assert_eq!((cut.scan.status, cut.scan.partial), (ScanStatus::Failed, false));
    let err = cut.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "Transport");
    assert!(
        err.message.starts_with("could not reach AWS for iam:ListUsers: "),
        "{}",
        err.message
    );
    assert!(broken.users.is_empty() && cut.users.is_empty());

    for name in ["mgmt", "fine"] {
        let a = common::account(&org, name);
        assert_eq!(a.scan.status, ScanStatus::Ok, "{name}: {:?}", a.scan);
        assert_eq!(a.users.len(), 5);
    }
    let stats = emu.stats().unwrap();
    assert_eq!(
        count(&stats, "faulted_by_action", "ListUsers"),
        4,
        "two attempts in each of two accounts: {stats}"
    );
}

// 4. A user deleted between listing and reading: left out, with a warning naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deleted_while_being_read_is_left_out_with_a_warning() {
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": "report", "users": varied_users()},
            {"name": "user-by-user", "users": varied_users()}
        ],
        "faults": [
            {"account": "report", "action": "ListAccessKeys", "user": "bob", "kind": "nosuchentity"},
            {"account": "user-by-user", "action": "GenerateCredentialReport", "kind": "deny"},
            {"account": "user-by-user", "action": "GetLoginProfile", "user": "carol", "kind": "nosuchentity"}
        ]
    }));
    let org = scan_with(context_in(&emu, "eu-central-1", None).await, common::scan_options()).await;

    let report = common::account(&org, "report");
    assert_eq!((report.scan.status, &report.scan.error), (ScanStatus::Ok, &None));
    assert_eq!(names(report), ["alice", "carol", "dave", "erin"]);
    assert_eq!(
        report.scan.warnings,
        [
            "user 'bob' was deleted while it was being read (iam:ListAccessKeys: no such entity: The user with name bob cannot be found.); left out"
        ]
    );

    let by_user = common::account(&org, "user-by-user");
    assert_eq!((by_user.scan.status, &by_user.scan.error), (ScanStatus::Ok, &None));
    assert_eq!(names(by_user), ["alice", "bob", "dave", "erin"]);
    assert_eq!(by_user.scan.warnings.len(), 2, "{:?}", by_user.scan.warnings);
    assert_eq!(
        by_user.scan.warnings[1],
        "user 'carol' was deleted while it was being read (iam:GetLoginProfile: no such entity: The user with name carol cannot be found.); left out"
    );
    assert_eq!(
        facts(&by_user.users[..1]),
        facts(&report.users[..1]),
        "the others are complete"
    );
}

fn one_member_org(name: &str, faults: Value) -> Value {
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": name, "users": varied_users()},
            {"name": "other", "users": varied_users()}
        ],
        "faults": faults
    })
}

// 5a. A credential report stuck in progress: the account fails at the polling deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_report_stuck_in_progress_fails_the_account_at_the_deadline() {
    let emu = common::emulator(&one_member_org(
        "stuck",
        json!([{"account": "stuck", "action": "GenerateCredentialReport", "kind": "report_stuck"}]),
    ));
    let mut opts = common::scan_options();
    opts.polling = Polling {
        deadline: Duration::from_secs(2),
        first_pause: Duration::from_millis(100),
        max_pause: Duration::from_millis(400),
    };
    let started = Instant::now();
    let org = scan_with(context_in(&emu, "ap-south-1", None).await, opts).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "bounded by the deadline: {took:?}");

    let stuck = common::account(&org, "stuck");
    assert_eq!((stuck.scan.status, stuck.scan.partial), (ScanStatus::Failed, false));
    let err = stuck.scan.error.as_ref().unwrap();
    assert_eq!(err.code, "CredentialReportTimeout");
    assert_eq!(err.message, "credential report not ready after 2s; rescan later");
    assert!(stuck.users.is_empty());
    assert_eq!(common::account(&org, "other").scan.status, ScanStatus::Ok);
    let stats = emu.stats().unwrap();
    assert!(
        count(&stats, "faulted_by_action", "GenerateCredentialReport") >= 4,
        "polled: {stats}"
    );
}

// 5b. LimitExceeded on generation is waited out: the report is complete, never empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_exceeded_on_report_generation_is_retried() {
    let emu = common::emulator(&one_member_org(
        "busy",
        json!([{"account": "busy", "action": "GenerateCredentialReport", "kind": "error",
                "status": 409, "code": "LimitExceeded", "message": "Report generation limit exceeded", "first": 3}]),
    ));
    let org = scan_with(context_in(&emu, "ap-northeast-1", None).await, common::scan_options()).await;
    assert_all_ok(&org);
    let busy = common::account(&org, "busy");
    assert_eq!(
        busy.scan.warnings,
        Vec::<String>::new(),
        "the report was read, no fallback"
    );
    assert_eq!(facts(&busy.users), facts(&common::account(&org, "other").users));
    assert_eq!(busy.users.len(), 5);

    let stats = emu.stats().unwrap();
    assert_eq!(
        count(&stats, "faulted_by_action", "GenerateCredentialReport"),
        3,
        "{stats}"
    );
    // Every key's last use came from the report; no per-user fallback call was made.
    for action in ["GetAccessKeyLastUsed", "GetLoginProfile", "ListMFADevices"] {
        assert_eq!(count(&stats, "by_action", action), 0, "{action}: {stats}");
    }
}

// 6. The emulator killed mid-scan: every unfinished account fails with Transport, quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_killed_mid_scan_fails_the_rest_with_transport() {
    let mut accounts = vec![json!({"name": "mgmt", "management": true, "users": []})];
    for i in 1..=12 {
        accounts.push(json!({"name": format!("member-{i:02}"), "generated_users": [
            {"count": 20, "prefix": "u-", "created_days_ago": 100, "keys": [key(100, "Active", None)]}]}));
    }
    let emu = common::emulator(&json!({"organization": true, "accounts": accounts,
        "faults": [{"action": "*", "kind": "latency", "latency_ms": 40}]}));
    // The binary's attempts (6): how the tool behaves when AWS goes away.
    let ctx = context_in(&emu, "sa-east-1", Some(6)).await;
    let mut opts = common::scan_options();
    opts.account_concurrency = 3;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let scan = tokio::spawn(scan::run_to_end(ctx, Arc::new(opts), move |e| {
        if matches!(e, ScanEvent::AccountDone { .. }) {
            let _ = done_tx.send(());
        }
    }));
    done_rx.recv().await.expect("a first account finishes");
    drop(emu);
    let killed = Instant::now();
    let org = tokio::time::timeout(Duration::from_secs(60), scan)
        .await
        .expect("the scan ends within 60 s of the kill")
        .unwrap()
        .expect("discovery happened before the kill");
    let took = killed.elapsed();

    assert_eq!(org.accounts.len(), 13);
    let failed: Vec<&AccountScan> = org
        .accounts
        .iter()
        .filter(|a| a.scan.status != ScanStatus::Ok)
        .collect();
    assert!(
        failed.len() >= 9,
        "at most three accounts were being scanned: {:?}",
        org.accounts
    );
    for a in &failed {
        assert_eq!(a.scan.status, ScanStatus::Failed, "{}", a.account.name);
        let err = a.scan.error.as_ref().unwrap();
        assert_eq!(err.code, "Transport", "{}: {err:?}", a.account.name);
        assert!(err.message.starts_with("could not reach AWS for "), "{}", err.message);
    }
    eprintln!("all accounts reported {took:?} after the kill");
}

// 7. Assumed-role credentials are refreshed: one long-lived account configuration keeps
// working across the expiry of its credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_role_credentials_are_refreshed_after_they_expire() {
    const SESSION: Duration = Duration::from_secs(15);
    let mut scenario = one_member_org("member", json!([]));
    scenario["session_seconds"] = json!(SESSION.as_secs());
    let emu = common::emulator(&scenario);
    let ctx = context_in(&emu, "ca-central-1", None).await;
    let member = org::discover(&ctx)
        .await
        .unwrap()
        .accounts
        .into_iter()
        .find(|a| a.name == "member")
        .unwrap();
    let role = common::scan_options().role;
    let inv_opts = InventoryOptions {
        user_concurrency: 4,
        org_permits: Arc::new(tokio::sync::Semaphore::new(8)),
        polling: common::scan_options().polling,
        kinds: Default::default(),
    };

    // A control: the emulator refuses credentials past their Expiration, as AWS does.
    let sts = aws_sdk_sts::Client::new(&ctx.base);
    let control = sts
        .assume_role()
        .role_arn(ctx.role_arn(&member.id, &role.role_name))
        .role_session_name("control")
        .send()
        .await
        .unwrap();
    let c = control.credentials().unwrap();
    let expires = c.expiration().secs() - Utc::now().timestamp();
    assert!(
        (13..=15).contains(&expires),
        "the emulator issued {expires} s credentials"
    );
    let stale = ctx
        .base
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().into()),
                None,
                "control",
            ),
        ))
        .build();

    let config = ctx.account_config(&member, &role).await.unwrap();
    emu.reset_stats().unwrap();
    let first = inventory::read_account(&config, &member, "aws", &inv_opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(first.users.len(), 5);
    assert_eq!(
        count(&emu.stats().unwrap(), "by_action", "AssumeRole"),
        0,
        "the first credentials are used"
    );

    tokio::time::sleep(SESSION + Duration::from_secs(1)).await;
    let refused = aws_sdk_iam::Client::new(&stale).list_users().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&refused),
        Some("ExpiredToken")
    );

    emu.reset_stats().unwrap();
    let second = inventory::read_account(&config, &member, "aws", &inv_opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(facts(&second.users), facts(&first.users));
    let stats = emu.stats().unwrap();
    assert_eq!(count(&stats, "by_action", "AssumeRole"), 1, "refreshed once: {stats}");
    assert_eq!(
        stats["faulted"], 0,
        "no call was made with expired credentials: {stats}"
    );
}
