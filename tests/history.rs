//! Scan history, exceptions and `diff` through the binary, against the emulator: what a cron
//! job or a CI gate sees.

mod common;

use keytriage::emulator::Emulator;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

/// Runs the binary against `emu` with the emulator's dummy credentials from the environment
/// and `journal` as the journal.
fn against(emu: &Emulator, journal: &Path, args: &[&str]) -> Output {
    common::keytriage_at(&emu.endpoint())
        .args(args)
        .env("KEYTRIAGE_JOURNAL", journal)
        .output()
        .expect("run keytriage")
}

fn keytriage(args: &[&str]) -> Output {
    common::keytriage_bin()
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run keytriage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn doc(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stderr(o)))
}

/// A 400-day-old and a 300-day-old active key used yesterday: one `key-not-rotated` (high)
/// each, nothing else.
fn org() -> Value {
    let key = |age: u32| json!({"age_days": age, "status": "Active", "last_used": {"days_ago": 1}});
    json!({
        "organization": true,
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": "prod", "users": [
                {"name": "alice", "created_days_ago": 400, "keys": [key(400)]},
                {"name": "bob", "created_days_ago": 300, "keys": [key(300)]}
            ]}
        ]
    })
}

fn findings(d: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["user"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn prod(d: &Value) -> (String, String) {
    let a = d["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "prod")
        .unwrap();
    let bob = a["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "bob")
        .unwrap();
    (
        a["id"].as_str().unwrap().to_owned(),
        bob["access_keys"][0]["id"].as_str().unwrap().to_owned(),
    )
}

// See: issue 11 (history, --fail-on-new, diff of recorded scans and of JSON files).
#[test]
fn a_deleted_key_is_resolved_on_rescan_and_diff_says_so_from_the_db_and_from_files() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h/history.db");
    let journal = dir.path().join("journal.jsonl");
    let (s1, s2) = (dir.path().join("s1.json"), dir.path().join("s2.json"));
    let hist = db.to_str().unwrap();

    // A recorded scan into `out`, gated on new high findings.
    let scan_to = |out: &std::path::Path| {
        against(
            &emu,
            &journal,
            &[
                "--history",
                hist,
                "scan",
                "-q",
                "-o",
                out.to_str().unwrap(),
                "--fail-on-new",
                "high",
            ],
        )
    };
    let first = scan_to(&s1);
    assert_eq!(first.status.code(), Some(2), "{}", stderr(&first));
    assert_eq!(
        stderr(&first).trim(),
        "keytriage: 2 new findings at or above high (no previous recorded scan: every finding is new) (2 high) in 1 account"
    );
    let d1: Value = serde_json::from_str(&std::fs::read_to_string(&s1).unwrap()).unwrap();
    assert_eq!(
        findings(&d1),
        [
            ("key-not-rotated".into(), "alice".into(), "new".into()),
            ("key-not-rotated".into(), "bob".into(), "new".into())
        ]
    );
    assert_eq!(d1["changes"]["new"], 2);
    assert_eq!(d1["changes"]["previous_scan_at"], Value::Null);
    assert_eq!(d1["findings"][0]["first_seen"], d1["generated_at"]);

    let (account, bob_key) = prod(&d1);
    let del = against(
        &emu,
        &journal,
        &[
            "--write",
            "delete",
            "--account",
            &account,
            "--user",
            "bob",
            "--key",
            &bob_key,
            "--yes",
        ],
    );
    assert_eq!(del.status.code(), Some(0), "{}", stderr(&del));

    let second = scan_to(&s2);
    assert_eq!(second.status.code(), Some(0), "nothing new: {}", stderr(&second));
    let d2: Value = serde_json::from_str(&std::fs::read_to_string(&s2).unwrap()).unwrap();
    assert_eq!(
        findings(&d2),
        [("key-not-rotated".into(), "alice".into(), "open".into())]
    );
    assert_eq!(
        d2["findings"][0]["first_seen"], d1["generated_at"],
        "open since the first scan"
    );
    let c = &d2["changes"];
    assert_eq!(
        (c["new"].as_u64(), c["open"].as_u64(), c["resolved"].as_u64()),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(c["previous_scan_at"], d1["generated_at"]);
    let resolved = &c["resolved_findings"][0];
    assert_eq!(
        (resolved["user"].as_str(), resolved["access_key_id"].as_str()),
        (Some("bob"), Some(bob_key.as_str()))
    );
    assert_eq!(resolved["first_seen"], d1["generated_at"]);

    let expected = format!(
        "0 new, 1 resolved, 0 unchecked, 0 changed, 1 key changes\n\
         - high {account} bob key-not-rotated {bob_key}\n\
         key {account} bob {bob_key}: Active -> absent\n"
    );
    let from_db = keytriage(&["--history", hist, "diff"]);
    assert_eq!(from_db.status.code(), Some(0), "{}", stderr(&from_db));
    assert_eq!(stdout(&from_db), expected);
    assert_eq!(stdout(&keytriage(&["--history", hist, "diff", "1", "2"])), expected);
    let from_files = keytriage(&["--no-history", "diff", s1.to_str().unwrap(), s2.to_str().unwrap()]);
    assert_eq!(from_files.status.code(), Some(0), "{}", stderr(&from_files));
    assert_eq!(stdout(&from_files), expected, "files diff as the recorded scans do");

    let list = keytriage(&["--history", hist, "history"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let lines: Vec<String> = stdout(&list)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    // ID, date, time, accounts ok/failed, crit high med low info, excepted, new, resolved, caller.
    let cols = |l: &str| l.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let (r1, r2) = (cols(&lines[1]), cols(&lines[2]));
    assert_eq!(
        r1[..12],
        ["1", &r1[1], &r1[2], "2/0", "0", "2", "0", "0", "0", "0", "2", "0"]
    );
    assert_eq!(
        r2[..12],
        ["2", &r2[1], &r2[2], "2/0", "0", "1", "0", "0", "0", "0", "0", "1"]
    );
    assert!(r2[12].starts_with("arn:aws:"), "{r2:?}");
}

// See: issue 11 (exceptions: match, expiry at the UTC date boundary, stale, malformed).
#[test]
fn an_exception_excepts_until_it_expires_and_a_stale_one_is_reported() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let file = dir.path().join("exceptions.toml");
    let today = chrono::Utc::now().date_naive();
    let write = |expires: chrono::NaiveDate| {
        let account = "{ACCOUNT}";
        std::fs::write(
            &file,
            format!(
                "# reviewed monthly\n[[exception]]\nrule = \"key-not-rotated\"\naccount = \"{account}\"\n\
                 user = \"b*\"\nreason = \"vendor rotates it\"\napproved_by = \"carol\"\nexpires = {expires}\n\n\
                 [[exception]]\nrule = \"key-unused\"\naccount = \"{account}\"\nreason = \"x\"\n\
                 approved_by = \"carol\"\nexpires = {expires}\n"
            ),
        )
        .unwrap();
    };
    // The account id is only known from a scan.
    let probe = against(&emu, &journal, &["--no-history", "scan", "-q"]);
    let (account, _) = prod(&doc(&probe));
    let write = |expires| {
        write(expires);
        let text = std::fs::read_to_string(&file).unwrap().replace("{ACCOUNT}", &account);
        std::fs::write(&file, text).unwrap();
    };
    let scan = |extra: &[&str]| {
        let mut args = vec!["--no-history", "--exceptions", file.to_str().unwrap(), "scan", "-q"];
        args.extend_from_slice(extra);
        against(&emu, &journal, &args)
    };

    write(today + chrono::Days::new(1));
    let out = scan(&["--fail-on", "high"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "alice's finding still fails: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("keytriage: 1 finding at or above high (1 high) in 1 account"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("keytriage: warning: exception at line 10 (key-unused in "),
        "stale exception reported: {}",
        stderr(&out)
    );
    let d = doc(&out);
    let bob = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["user"] == "bob")
        .unwrap();
    assert_eq!(bob["status"], "excepted");
    assert_eq!(bob["exception"]["reason"], "vendor rotates it");
    assert_eq!(bob["exception"]["approved_by"], "carol");
    assert_eq!(bob["exception"]["expires"], (today + chrono::Days::new(1)).to_string());
    assert_eq!(d["changes"]["excepted"], 1);
    assert_eq!(d["changes"]["stale_exceptions"][0]["rule"], "key-unused");

    // Expiring today: from 00:00 UTC today it no longer applies.
    write(today);
    let out = scan(&["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 findings at or above high (2 high)"),
        "{}",
        stderr(&out)
    );
    let d = doc(&out);
    let bob = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["user"] == "bob")
        .unwrap();
    assert_eq!(bob["status"], "new");
    assert_eq!(bob["exception_expired_on"], today.to_string());
    assert!(bob.get("exception").is_none());

    // Malformed: refused before scanning, with file, line and column.
    std::fs::write(&file, "[[exception]]\nrule = \"key-not-rotated\"\naccount = \"12\"\n").unwrap();
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).starts_with(&format!("keytriage: exceptions file {}: ", file.display()))
            && stderr(&out).contains("line 3, column 11"),
        "{}",
        stderr(&out)
    );
}

// See: issue 11 (a corrupt or newer database never costs the scan).
#[test]
fn a_corrupt_or_newer_history_is_skipped_with_a_warning_and_the_scan_still_prints() {
    let emu = common::emulator(&org());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let db = dir.path().join("history.db");
    std::fs::write(
        &db,
        b"this is not a database, it is a text file of 64 bytes or more....",
    )
    .unwrap();
    let out = against(&emu, &journal, &["--history", db.to_str().unwrap(), "scan", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(doc(&out)["findings"].as_array().unwrap().len(), 2);
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "keytriage: warning: history {}: file is not a database; this scan is not recorded",
            db.display()
        )
    );

    let newer = dir.path().join("newer.db");
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let out = against(&emu, &journal, &["--history", newer.to_str().unwrap(), "scan", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was written by a newer keytriage (schema 99, this one knows 3)"),
        "{}",
        stderr(&out)
    );
    let conn = rusqlite::Connection::open(&newer).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "a newer database is left untouched");
}

// See: issue 11 (a failed account resolves nothing; its findings keep their first-seen date).
#[test]
fn a_failed_account_resolves_nothing_and_its_findings_stay_open_since_first_seen() {
    // The management account is 123456789012 in every emulator, so two emulators can play
    // the same account before and during an outage.
    let key = |age: u32| json!({"age_days": age, "status": "Active", "last_used": {"days_ago": 1}});
    let users = json!([
        {"name": "alice", "created_days_ago": 400, "keys": [key(400)]},
        {"name": "bob", "created_days_ago": 300, "keys": [key(300)]}
    ]);
    let healthy = common::emulator(&json!({
        "organization": true,
        "accounts": [{"name": "mgmt", "management": true, "users": users}]
    }));
    let outage = common::emulator(&json!({
        "organization": true,
        "accounts": [{"name": "mgmt", "management": true, "users": users}],
        "faults": [{"account": "mgmt", "action": "ListUsers", "kind": "deny"}]
    }));
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let db = dir.path().join("history.db");
    let hist = db.to_str().unwrap();
    let scan = |emu: &Emulator| against(emu, &journal, &["--history", hist, "scan", "-q"]);

    let first = scan(&healthy);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let d1 = doc(&first);
    assert_eq!(d1["changes"]["new"], 2);

    std::thread::sleep(std::time::Duration::from_millis(1100)); // another second
    let failed = scan(&outage);
    assert_eq!(failed.status.code(), Some(0), "{}", stderr(&failed));
    let d2 = doc(&failed);
    assert_eq!(d2["accounts"][0]["scan"]["status"], "failed");
    let c = &d2["changes"];
    assert_eq!(
        (c["resolved"].as_u64(), c["unchecked"].as_u64()),
        (Some(0), Some(2)),
        "nothing resolved by a failed account: {c}"
    );

    let again = scan(&healthy);
    let d3 = doc(&again);
    assert_eq!(
        findings(&d3).iter().map(|f| f.2.as_str()).collect::<Vec<_>>(),
        ["open", "open"]
    );
    for f in d3["findings"].as_array().unwrap() {
        assert_eq!(f["first_seen"], d1["generated_at"], "open since the first scan: {f}");
    }
    assert_eq!(d3["changes"]["resolved"], 0);
    let diff = keytriage(&["--history", hist, "diff", "1", "2"]);
    assert!(
        stdout(&diff).starts_with(
            "0 new, 0 resolved, 2 unchecked, 0 changed, 0 key changes\n? high 123456789012 alice key-not-rotated "
        ),
        "{}",
        stdout(&diff)
    );
}
