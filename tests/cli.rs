//! The binary as a user runs it: `--demo scan`, formats, exit codes, bad input.

use std::process::{Command, Output};

fn keytriage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keytriage"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run keytriage")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_scan_prints_the_scan_document_and_every_rule_fires() {
    let out = keytriage(&["--demo", "scan", "--format", "json", "--fail-on", "critical"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a critical finding exists in the demo: {}",
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["schema"], "keytriage.scan/v1");
    assert_eq!(
        doc["policy"],
        serde_json::json!({"rotation_days": 90, "unused_days": 45, "stale_user_days": 90})
    );
    assert_eq!(doc["organization"]["management_account_id"], "123456789012");
    let accounts = doc["accounts"].as_array().unwrap();
    let status = |name: &str| {
        let a = accounts
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        (
            a["scan"]["status"].as_str().unwrap().to_owned(),
            a["scan"]["error"]["code"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(
        status("acme-legacy"),
        ("skipped".into(), Some("AccountNotActive".into()))
    );
    assert_eq!(
        status("acme-sandbox-research"),
        ("failed".into(), Some("AccessDenied".into()))
    );
    assert_eq!(status("acme-prod-web"), ("ok".into(), None));
    let big = accounts.iter().find(|a| a["name"] == "acme-data-platform").unwrap();
    assert!(big["users"].as_array().unwrap().len() > 100);

    let rules: std::collections::BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in keytriage::audit::Rule::ALL {
        assert!(rules.contains(rule.id()), "the demo shows {rule}");
    }
    let first = &doc["findings"][0];
    assert_eq!(first["severity"], "critical");
    for field in ["rule", "account_id", "user", "access_key_id", "detail", "controls"] {
        assert!(first.get(field).is_some(), "finding has {field}");
    }
    assert!(
        stderr(&out).contains("scanning 9 accounts"),
        "progress on stderr: {}",
        stderr(&out)
    );
}

#[test]
fn csv_has_one_row_per_finding_and_output_file_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings.csv");
    let out = keytriage(&[
        "--demo",
        "--accounts",
        "123456789012",
        "scan",
        "--format",
        "csv",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("severity,rule,account_id,account_name,user,access_key_id,detail,controls")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.contains(",123456789012,acme-management,")),
        "{rows:?}"
    );
}

#[test]
fn bad_config_is_one_clear_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "rotation_days = 90\nunused_days = -3\n").unwrap();
    let out = keytriage(&["--config", path.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains(&format!("config file {}", path.display())), "{e}");
    assert!(e.contains("line 2, column 15"), "{e}");
}

#[test]
fn bad_flags_are_refused_before_anything_starts() {
    let out = keytriage(&["scan", "--fail-on", "severe"]);
    assert_eq!(out.status.code(), Some(1), "usage errors are 1; 2 means findings");
    assert!(stderr(&out).contains("severity 'severe' is unrecognized"));
    let out = keytriage(&["--accounts", "12345", "scan"]);
    assert!(stderr(&out).contains("account id '12345' is not 12 digits"));
}

#[test]
fn unwritable_output_fails_before_scanning() {
    let out = keytriage(&[
        "--endpoint-url",
        "http://127.0.0.1:9",
        "scan",
        "-o",
        "/nonexistent-dir/x.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot write --output /nonexistent-dir/x.json"),
        "{}",
        stderr(&out)
    );
}

fn keytriage_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keytriage"));
    cmd.args(args).stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run keytriage")
}

#[test]
fn headless_writes_need_write_and_yes_and_are_journaled() {
    let out = keytriage(&[
        "deactivate",
        "--account",
        "123456789012",
        "--user",
        "u",
        "--key",
        "AKIAX",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("writes are off: add --write to deactivate keys (nothing was changed)"),
        "{}",
        stderr(&out)
    );

    // A key of the demo's management account (ids repeat: the demo scenario seeds them).
    let scan = keytriage(&["--demo", "--accounts", "123456789012", "scan", "-q"]);
    let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let users = doc["accounts"][0]["users"].as_array().unwrap();
    let (user, key) = users
        .iter()
        .find_map(|u| {
            let k = u["access_keys"].as_array()?.iter().find(|k| k["status"] == "Active")?;
            Some((u["name"].as_str()?.to_owned(), k["id"].as_str()?.to_owned()))
        })
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("journal.jsonl");
    let env = [("KEYTRIAGE_JOURNAL", real.to_str().unwrap())];
    // The demo journals beside the real journal, never in it.
    let journal = dir.path().join("journal-demo.jsonl");
    let args = [
        "--demo",
        "deactivate",
        "--account",
        "123456789012",
        "--user",
        &user,
        "--key",
        &key,
    ];
    let out = keytriage_env(&args, &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("without --yes (no terminal to ask on)"),
        "{}",
        stderr(&out)
    );
    assert!(!journal.exists(), "nothing journaled, nothing done");

    let mut with_yes = args.to_vec();
    with_yes.push("--yes");
    let out = keytriage_env(&with_yes, &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "done: deactivate access key {key} (Active) of {user} in account 123456789012"
        )),
        "{}",
        stderr(&out)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["phase"].as_str(), lines[1]["result"].as_str()),
        (Some("intent"), Some("ok"))
    );
    assert_eq!(lines[1]["access_key_id"], key.as_str());
    assert!(!real.exists(), "the real journal is not written by the demo");
}

#[test]
fn a_ci_gate_does_not_pass_on_a_typo_or_an_unscanned_account() {
    let out = keytriage(&[
        "--demo",
        "--accounts",
        "111111111111",
        "scan",
        "-q",
        "--fail-on",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--accounts names accounts not in the organization: 111111111111"),
        "{}",
        stderr(&out)
    );

    // The demo's denied account alone: nothing found, but nothing could be seen either.
    let doc = keytriage(&["--demo", "scan", "-q"]);
    let doc: serde_json::Value = serde_json::from_slice(&doc.stdout).unwrap();
    let denied = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scan"]["status"] == "failed")
        .unwrap();
    let id = denied["id"].as_str().unwrap();
    let out = keytriage(&["--demo", "--accounts", id, "scan", "-q", "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 account(s) could not be scanned"),
        "{}",
        stderr(&out)
    );
    let out = keytriage(&["--demo", "--accounts", id, "scan", "-q"]);
    assert_eq!(out.status.code(), Some(0), "without a gate the document says it all");
}
