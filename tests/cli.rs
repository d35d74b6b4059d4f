//! The binary as a user runs it: `--demo scan`, formats, exit codes, bad input.

mod common;

use keytriage::emulator::Emulator;
use serde_json::json;
use std::process::{Command, Output};

fn keytriage(args: &[&str]) -> Output {
    common::keytriage_bin()
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
        serde_json::json!({"rotation_days": 90, "unused_days": 45, "stale_user_days": 90, "expiry_warning_days": 30, "unused_role_days": 90})
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
    // The role trusted by an account outside the organization is named.
    let outside: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "role-trusts-outside-org")
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        outside,
        ["trusts 1 account outside the organization without an sts:ExternalId condition: 999988887777"]
    );
    // The demo's developer with an old SSH key, an expiring certificate and a Bedrock key.
    let dev = accounts.iter().find(|a| a["name"] == "acme-dev").unwrap();
    let mike = dev["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "mike.dev")
        .unwrap();
    let kinds: Vec<&str> = mike["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ssh_public_key",
            "ssh_public_key",
            "signing_certificate",
            "service_specific",
            "service_specific"
        ]
    );
    assert_eq!(mike["credentials"][3]["service"], "bedrock.amazonaws.com");
    assert_eq!(mike["credentials"][3]["expires"], serde_json::Value::Null);
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
        Some("severity,rule,account_id,account_name,user,access_key_id,detail,controls,credential_kind,credential_id")
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
fn bad_account_id_in_the_config_file_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "rotation_days = 90\naccounts = [\"12345\"]\n").unwrap();
    let out = keytriage(&["--config", path.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains(&format!("config file {}", path.display())), "{e}");
    assert!(e.contains("line 2, column 12"), "{e}");
    assert!(e.contains("account id '12345' is not 12 digits"), "{e}");
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
    let mut cmd = common::keytriage_bin();
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
        stderr(&out).contains("1 account could not be scanned"),
        "{}",
        stderr(&out)
    );
    let out = keytriage(&["--demo", "--accounts", id, "scan", "-q"]);
    assert_eq!(out.status.code(), Some(0), "without a gate the document says it all");
}

/// Runs the binary against `emu` as a user would against AWS: the standard credential chain
/// from the environment (the emulator's dummy credentials), no AWS files, `--endpoint-url`.
fn against(emu: &Emulator, args: &[&str]) -> Output {
    common::keytriage_at(&emu.endpoint())
        .args(args)
        .output()
        .expect("run keytriage")
}

fn used_key(age: u32) -> serde_json::Value {
    json!({"age_days": age, "status": "Active", "last_used": {"days_ago": 1}})
}

/// Names an attacker (or automation) can give: IAM user names starting with formula
/// characters, an account named like a formula, an OU whose name holds a `/` beside two
/// nested OUs that print alike, and an account the audit role cannot enter.
/// Findings: `=1+2` and `-cmd` each have one 400/200-day-old key (key-not-rotated, high);
/// nothing else fires.
fn hostile_org() -> serde_json::Value {
    json!({
        "organization": true,
        "ous": [{"name": "EU/West", "parent": null}, {"name": "EU", "parent": null},
                {"name": "West", "parent": "EU"}],
        "accounts": [
            {"name": "mgmt", "management": true, "users": []},
            {"name": "=HYPERLINK(\"http://x\")", "ou": "EU/West", "users": [
                {"name": "=1+2", "created_days_ago": 400, "keys": [used_key(400)]},
                {"name": "@SUM", "created_days_ago": 10, "keys": [used_key(10)]},
                {"name": "-cmd", "created_days_ago": 200, "keys": [used_key(200)]},
                {"name": "+cmd", "created_days_ago": 10, "keys": []}
            ]},
            {"name": "nested", "ou": "West", "users": []},
            {"name": "denied", "users": []}
        ],
        "faults": [{"account": "denied", "action": "AssumeRole", "kind": "deny"}]
    })
}

// See: issue 9 items 2, 6 and 7.
#[test]
fn csv_neutralises_formulas_lists_unaudited_accounts_and_exit_2_says_why() {
    let emu = common::emulator(&hostile_org());
    let out = against(&emu, &["scan", "-q", "--format", "csv", "--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "keytriage: 2 findings at or above high (2 high) in 1 account",
        "one line: how many, by severity, in how many accounts"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {row:?}"
            );
        }
    }
    let mut users: Vec<(&str, &str, &str)> = rows
        .iter()
        .filter(|r| &r[1] == "key-not-rotated")
        .map(|r| (&r[0], &r[3], &r[4]))
        .collect();
    users.sort();
    let account = "'=HYPERLINK(\"http://x\")";
    assert_eq!(users, [("high", account, "'-cmd"), ("high", account, "'=1+2")]);
    // The account the audit role could not enter has a row of its own, first.
    let denied: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[3] == "denied").collect();
    assert_eq!(denied.len(), 1, "{rows:?}");
    assert_eq!((&denied[0][0], &denied[0][1]), ("unknown", "account-not-scanned"));
    assert!(denied[0][6].starts_with("failed: AccessDenied: "), "{:?}", denied[0]);
    assert_eq!(&rows[0][3], "denied");
    assert_eq!(rows.len(), 3, "{rows:?}");
}

// See: issue 9 items 2, 3 and 11.
#[test]
fn json_keeps_names_exact_records_the_caller_and_tells_ou_paths_apart() {
    let emu = common::emulator(&hostile_org());
    let out = against(&emu, &["scan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let caller = doc["caller"].as_str().expect("caller is a string");
    assert!(
        caller.starts_with("arn:aws:") && caller.contains("123456789012"),
        "{caller}"
    );
    assert!(
        stderr(&out).contains(&format!("keytriage: scanning as {caller}\n")),
        "{}",
        stderr(&out)
    );
    let accounts = doc["accounts"].as_array().unwrap();
    let by_name = |n: &str| {
        accounts
            .iter()
            .find(|a| a["name"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let hostile = by_name("=HYPERLINK(\"http://x\")");
    let users: Vec<&str> = hostile["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["+cmd", "-cmd", "=1+2", "@SUM"], "JSON is exact");
    assert_eq!(hostile["ou_path"], "/EU\\/West");
    assert_eq!(by_name("nested")["ou_path"], "/EU/West");
    assert_eq!(by_name("mgmt")["ou_path"], "/");
    let parsed = keytriage::aws::org::path_names(hostile["ou_path"].as_str().unwrap());
    assert_eq!(parsed, ["EU/West"]);
}

// See: issue 9 item 4.
#[test]
fn a_failed_scan_creates_no_output_file() {
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [{"name": "mgmt", "management": true, "users": []}],
        "faults": [{"account": "*", "action": "DescribeOrganization", "kind": "deny"}]
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.json");
    let out = against(&emu, &["scan", "-q", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot list the organization's accounts"),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

// See: issue 9 item 5.
#[test]
fn a_selection_of_no_account_is_exit_1_with_or_without_a_gate() {
    let emu = common::emulator(&json!({
        "organization": true,
        "accounts": [{"name": "mgmt", "management": true, "users": []}]
    }));
    for gate in [&[][..], &["--fail-on", "low"][..]] {
        let mut args = vec![
            "--accounts",
            "123456789012",
            "--exclude-accounts",
            "123456789012",
            "scan",
            "-q",
        ];
        args.extend_from_slice(gate);
        let out = against(&emu, &args);
        assert_eq!(out.status.code(), Some(1), "{gate:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("keytriage: no account selected"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn bash_completions_load_in_bash_and_name_the_flags() {
    let out = keytriage(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["--security-hub", "--fail-on", "completions", "ocsf", "asff"] {
        assert!(script.contains(word), "completion lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keytriage.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash is installed");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Loaded for real, it registers the completion function.
    let load = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p keytriage", path.display()))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&load.stdout).contains("keytriage"), "{load:?}");
}

#[test]
fn the_man_page_renders() {
    let out = keytriage(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(roff.contains(".TH keytriage 1"), "{roff}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keytriage.1");
    std::fs::write(&path, &roff).unwrap();
    let rendered = ["man", "groff"].iter().find_map(|tool| {
        let mut cmd = Command::new(tool);
        if *tool == "man" {
            cmd.arg("-l").env("MANPAGER", "cat").env("MANWIDTH", "100");
        } else {
            cmd.args(["-man", "-Tutf8"]);
        }
        let o = cmd.arg(&path).output().ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    match rendered {
        Some(text) => {
            let plain = text.replace('\u{8}', "");
            for needle in ["NAME", "SYNOPSIS", "--security-hub", "completions"] {
                assert!(
                    plain.contains(needle) || text.contains(needle),
                    "rendered page lacks {needle}:\n{text}"
                );
            }
        }
        // No man or groff here: check the roff text itself.
        None => {
            for needle in [".SH NAME", ".SH SYNOPSIS", "\\-\\-demo", "completions"] {
                assert!(roff.contains(needle), "man page lacks {needle}");
            }
        }
    }
}

#[test]
fn demo_scan_to_security_hub_reads_back_the_same_count_by_severity() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.json");
    let out = common::keytriage_bin()
        .args([
            "--demo",
            "scan",
            "--quiet",
            "--security-hub",
            "--format",
            "json",
            "--output",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count();
    let by_severity: Vec<String> = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|s| format!("{} {s}", count(s)))
        .collect();
    let calls = findings.len().div_ceil(100);
    let expected = format!(
        "{n} findings imported, 0 archived, 0 refused in {calls} call{s}; {n} active: {}",
        by_severity.join(", "),
        n = findings.len(),
        s = if calls == 1 { "" } else { "s" }
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

/// Test hygiene: every run of the binary under test keeps its data (history, the demo's
/// history, journal, log) in the tests' own directory ([`common::isolated_dirs`]), never in
/// the data directory of the person running the tests. The run here has a fresh `HOME` as
/// well, so a file written by way of `HOME` (`~/.local/share/keytriage`, `~/.config`) would
/// show there.
#[test]
fn a_test_run_of_the_binary_keeps_its_data_in_the_tests_own_directory() {
    let home = tempfile::tempdir().unwrap();
    // The emulator's venv stays where it is (`KEYTRIAGE_CACHE_DIR`): no reinstall.
    let cache = std::env::var_os("KEYTRIAGE_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| directories::ProjectDirs::from("", "", "keytriage").map(|d| d.cache_dir().to_path_buf()))
        .unwrap();
    let out = common::keytriage_bin()
        .args(["--demo", "--accounts", "123456789012", "scan", "-q"])
        .env("HOME", home.path())
        .env("KEYTRIAGE_CACHE_DIR", &cache)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(doc["accounts"][0]["id"], "123456789012");

    let ours = common::isolated_dirs().0.join("keytriage");
    for file in ["history-demo.db", "keytriage.log"] {
        assert!(
            ours.join(file).is_file(),
            "{file} in {}: {}",
            ours.display(),
            stderr(&out)
        );
    }
    // Data and config by way of HOME (a cache, say pip's while a first run installs the
    // emulator, is not the point here).
    let mut leaked: Vec<String> = Vec::new();
    let mut stack: Vec<_> = [".local", ".config"]
        .iter()
        .map(|d| home.path().join(d))
        .filter(|d| d.exists())
        .collect();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                leaked.push(e.path().display().to_string());
            }
        }
    }
    assert_eq!(leaked, Vec::<String>::new(), "nothing written by way of HOME");
}

/// Every test file runs the binary through `common::keytriage_bin` / `keytriage_at` (or, in
/// tmux, `Tmux::start`), which isolate it: a bare `Command::new` of the binary would read and
/// write the real data and config directories.
#[test]
fn no_test_spawns_the_binary_without_isolation() {
    let needle = ["Command::new(env!(\"CARGO_BIN_EXE_", "keytriage\"))"].concat();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut offenders = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(&needle) {
                offenders.push(path.display().to_string());
            }
        }
    }
    assert_eq!(offenders, Vec::<String>::new(), "use common::keytriage_bin()");
}
