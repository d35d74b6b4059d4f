//! The journal against the emulator and through the binary: which role reads and which role
//! writes (counted by the emulator's `assumed_roles`), interrupted actions closed only when
//! their process is gone or stale and never by a read-only session, the headless write
//! commands closing them at start, and the demo's own journal.

mod common;

use keytriage::aws::RoleOptions;
use keytriage::journal::{self, ActionResult, Entry, Journal, Phase};
use keytriage::model::{AccessKey, AccessKeyId, Account, KeyAction, KeyStatus, Target};
use keytriage::remediate::{Remediator, WriteRequest};
use serde_json::{Value, json};
use std::process::{Command, Output};

const MGMT: &str = "123456789012";
const AUDIT: &str = "OrganizationAccountAccessRole";
const REMEDIATION: &str = "KeytriageRemediation";

fn scenario() -> Value {
    let key = json!({"age_days": 400, "status": "Active", "last_used": {"days_ago": 3}});
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "email": "m@example.com", "management": true, "users": [
                {"name": "ops", "created_days_ago": 500, "keys": [key.clone()]}
            ]},
            {"name": "prod", "email": "p@example.com", "users": [
                {"name": "ci-robot", "created_days_ago": 500, "keys": [key]}
            ]}
        ]
    })
}

fn role(name: &str) -> RoleOptions {
    RoleOptions {
        role_name: name.into(),
        external_id: None,
        session_length: None,
    }
}

struct Org {
    emu: keytriage::emulator::Emulator,
    ctx: std::sync::Arc<keytriage::aws::AwsContext>,
    mgmt: Account,
    prod: Account,
    ops_key: AccessKeyId,
    robot_key: AccessKeyId,
    /// The scanned keys (their last use goes into each write request).
    keys: Vec<AccessKey>,
    dir: tempfile::TempDir,
}

impl Org {
    async fn new() -> Self {
        let emu = common::emulator(&scenario());
        let org = common::scan(&emu).await;
        let key = |account: &str, user: &str| {
            common::account(&org, account)
                .users
                .iter()
                .find(|u| u.name == user)
                .unwrap()
                .access_keys[0]
                .clone()
        };
        let keys = vec![key("mgmt", "ops"), key("prod", "ci-robot")];
        let (ops_key, robot_key) = (keys[0].id.clone(), keys[1].id.clone());
        Self {
            ctx: common::context(&emu).await,
            mgmt: common::account(&org, "mgmt").account.clone(),
            prod: common::account(&org, "prod").account.clone(),
            ops_key,
            robot_key,
            keys,
            emu,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn journal(&self) -> Journal {
        Journal::at(self.dir.path().join("journal.jsonl"))
    }

    fn remediator(&self, remediation: Option<&str>, writes: bool) -> Remediator {
        Remediator::with_roles(
            self.ctx.clone(),
            role(AUDIT),
            remediation.map(role),
            self.journal(),
            writes,
        )
    }

    /// `action` on `key` of `user` in `account`, as the operator saw it with `status`.
    async fn apply(
        &self,
        r: &Remediator,
        account: &Account,
        user: &str,
        key: &AccessKeyId,
        status: KeyStatus,
        action: KeyAction,
    ) {
        let scanned = self.keys.iter().find(|k| &k.id == key).unwrap();
        let request = WriteRequest {
            action,
            account: account.clone(),
            user: user.into(),
            target: Target::AccessKey(key.clone()),
            status,
            last_used: scanned.last_used.clone(),
        };
        r.apply(&request).await.unwrap();
    }

    /// `assumed_roles` since the last reset, as (role ARN, count), sorted.
    fn assumed(&self) -> Vec<(String, u64)> {
        let stats = self.emu.stats().unwrap();
        let mut v: Vec<(String, u64)> = stats["assumed_roles"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
            .collect();
        v.sort();
        v
    }

    fn arn(&self, account: &Account, role: &str) -> String {
        format!("arn:aws:iam::{}:role/{role}", account.id)
    }

    /// An intent as a crash leaves it: written by process `pid`, `age` ago.
    fn intent(&self, pid: u32, age: chrono::TimeDelta, n: u32) -> Entry {
        let time = chrono::Utc::now() - age;
        Entry {
            time,
            action_id: format!("{}-{pid}-{n}", time.format("%Y%m%dT%H%M%S%.3fZ")),
            phase: Phase::Intent,
            operator: "arn:aws:sts::123456789012:user/moto".into(),
            account_id: self.prod.id.clone(),
            user: "ci-robot".into(),
            access_key_id: Some(self.robot_key.clone()),
            credential: None,
            action: KeyAction::Deactivate,
            result: None,
            request_id: None,
            error_code: None,
            message: None,
            batch_id: None,
        }
    }
}

/// A pid that no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert!(!journal::process_alive(pid), "pid {pid} was reused at once; rerun");
    pid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_remediation_role_makes_every_write_including_in_the_callers_own_account() {
    let org = Org::new().await;
    org.emu.reset_stats().unwrap();
    let r = org.remediator(Some(REMEDIATION), true);
    org.apply(
        &r,
        &org.mgmt,
        "ops",
        &org.ops_key,
        KeyStatus::Active,
        KeyAction::Deactivate,
    )
    .await;
    assert_eq!(org.assumed(), [(org.arn(&org.mgmt, REMEDIATION), 1)]);
    org.emu.reset_stats().unwrap();
    org.apply(
        &r,
        &org.prod,
        "ci-robot",
        &org.robot_key,
        KeyStatus::Active,
        KeyAction::Deactivate,
    )
    .await;
    assert_eq!(org.assumed(), [(org.arn(&org.prod, REMEDIATION), 1)]);

    // Without a remediation role: the audit role in members, the caller's own credentials at home.
    org.emu.reset_stats().unwrap();
    let r = org.remediator(None, true);
    org.apply(
        &r,
        &org.mgmt,
        "ops",
        &org.ops_key,
        KeyStatus::Inactive,
        KeyAction::Activate,
    )
    .await;
    assert_eq!(org.assumed(), []);
    org.apply(
        &r,
        &org.prod,
        "ci-robot",
        &org.robot_key,
        KeyStatus::Inactive,
        KeyAction::Activate,
    )
    .await;
    assert_eq!(org.assumed(), [(org.arn(&org.prod, AUDIT), 1)]);
    assert_eq!(org.mgmt.id.as_str(), MGMT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_reports_interrupted_actions_without_writing_or_the_remediation_role() {
    let org = Org::new().await;
    let j = org.journal();
    j.append(&org.intent(dead_pid(), chrono::TimeDelta::seconds(5), 0))
        .unwrap();
    let before = std::fs::read(j.path()).unwrap();
    org.emu.reset_stats().unwrap();

    let lines = org.remediator(Some(REMEDIATION), false).close_interrupted().await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(&format!(
            "deactivate {} of ci-robot in {}: the key is now Active (read-only session: left open in the journal)",
            org.robot_key, org.prod.id
        )),
        "{}",
        lines[0]
    );
    assert_eq!(std::fs::read(j.path()).unwrap(), before, "the journal is not written");
    assert_eq!(
        org.assumed(),
        [(org.arn(&org.prod, AUDIT), 1)],
        "read with the audit role"
    );
    assert_eq!(org.emu.stats().unwrap()["mutating"], 0);

    // A session that can write closes it, still reading with the audit role.
    org.emu.reset_stats().unwrap();
    let lines = org.remediator(Some(REMEDIATION), true).close_interrupted().await;
    assert_eq!(lines.len(), 1);
    assert!(lines[0].ends_with(": the key is now Active"), "{}", lines[0]);
    assert_eq!(org.assumed(), [(org.arn(&org.prod, AUDIT), 1)]);
    let all = j.read().unwrap();
    assert_eq!(all[1].result, Some(ActionResult::Interrupted));
    assert!(journal::unfinished(&all).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_of_a_running_process_is_left_open_and_a_dead_or_old_one_is_closed() {
    let org = Org::new().await;
    let j = org.journal();
    // Another keytriage in the middle of a write: a live process other than this one.
    let mut other = Command::new("sleep").arg("60").spawn().unwrap();
    let live = org.intent(other.id(), chrono::TimeDelta::seconds(5), 1);
    let dead = org.intent(dead_pid(), chrono::TimeDelta::seconds(5), 2);
    let old = org.intent(other.id(), chrono::TimeDelta::minutes(11), 3);
    for e in [&live, &dead, &old] {
        j.append(e).unwrap();
    }
    let lines = org.remediator(None, true).close_interrupted().await;
    other.kill().unwrap();
    other.wait().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let all = j.read().unwrap();
    let closed: Vec<&str> = all
        .iter()
        .filter(|e| e.result == Some(ActionResult::Interrupted))
        .map(|e| e.action_id.as_str())
        .collect();
    assert_eq!(closed, [dead.action_id.as_str(), &old.action_id]);
    assert_eq!(
        journal::unfinished(&all)
            .iter()
            .map(|e| e.action_id.as_str())
            .collect::<Vec<_>>(),
        [live.action_id.as_str()]
    );
}

fn keytriage(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::keytriage_bin();
    cmd.args(args).stdin(std::process::Stdio::null()).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run keytriage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_write_tightens_the_journal_and_closes_interrupted_actions_first() {
    use std::os::unix::fs::PermissionsExt;
    let org = Org::new().await;
    let j = org.journal();
    let crashed = org.intent(dead_pid(), chrono::TimeDelta::seconds(5), 0);
    j.append(&crashed).unwrap();
    std::fs::set_permissions(j.path(), std::fs::Permissions::from_mode(0o644)).unwrap();

    let home = org.dir.path().join("home");
    let endpoint = org.emu.endpoint();
    let env = [
        ("HOME", home.to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", "AKIAKEYTRIAGETEST000"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("KEYTRIAGE_JOURNAL", j.path().to_str().unwrap()),
    ];
    let (account, key) = (org.prod.id.to_string(), org.robot_key.to_string());
    let out = keytriage(
        &[
            "--endpoint-url",
            &endpoint,
            "--write",
            "deactivate",
            "--account",
            &account,
            "--user",
            "ci-robot",
            "--key",
            &key,
            "--yes",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "keytriage: journal {} was readable by other users (mode 0644); it is now 0600",
            j.path().display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "keytriage: interrupted write action: {} deactivate {key} of ci-robot in {account}: the key is now Active",
            crashed.time.format("%Y-%m-%d %H:%M:%S")
        )),
        "{err}"
    );
    assert_eq!(mode(j.path()), 0o600);
    let all = j.read().unwrap();
    let summary: Vec<(Phase, Option<ActionResult>)> = all.iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        summary,
        [
            (Phase::Intent, None),
            (Phase::Outcome, Some(ActionResult::Interrupted)),
            (Phase::Intent, None),
            (Phase::Outcome, Some(ActionResult::Ok)),
        ]
    );
    assert_eq!(all[1].action_id, crashed.action_id);
}

#[test]
fn the_demo_keeps_its_own_journal_apart_from_the_real_one_and_starts_it_clean() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("journal.jsonl");
    std::fs::write(&real, b"").unwrap();
    let env = [
        ("HOME", dir.path().to_str().unwrap()),
        ("KEYTRIAGE_JOURNAL", real.to_str().unwrap()),
    ];
    let scan = keytriage(&["--demo", "--accounts", MGMT, "scan", "-q"], &env);
    let doc: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let (user, key) = doc["accounts"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| {
            let k = u["access_keys"].as_array()?.iter().find(|k| k["status"] == "Active")?;
            Some((u["name"].as_str()?.to_owned(), k["id"].as_str()?.to_owned()))
        })
        .unwrap();
    let args = [
        "--demo",
        "deactivate",
        "--account",
        MGMT,
        "--user",
        &user,
        "--key",
        &key,
        "--yes",
    ];
    let demo = Journal::at(dir.path().join("journal-demo.jsonl"));
    for run in 0..2 {
        // The demo's organization is reset at every start: the key is active again.
        let out = keytriage(&args, &env);
        assert_eq!(out.status.code(), Some(0), "run {run}: {}", stderr(&out));
        let lines = demo.read().unwrap();
        assert_eq!(lines.len(), 2, "run {run}: only this run's action");
        assert_eq!(lines[1].result, Some(ActionResult::Ok));
    }
    let previous = Journal::at(dir.path().join("journal-demo.previous.jsonl"));
    assert_eq!(previous.read().unwrap().len(), 2, "the first run's journal, set aside");
    assert_eq!(std::fs::read(&real).unwrap(), b"", "the real journal is never written");
}
