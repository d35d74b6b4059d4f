//! `scan --format ocsf` read by an external OCSF consumer: the `py-ocsf-models` classes
//! (what Prowler uses), installed from `assets/requirements-test.txt` (pinned, hashed) into
//! a cached venv made by `emulator::pinned_python`, run by `tests/ocsf_validate.py`.

mod common;

use keytriage::audit::Rule;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const REQUIREMENTS: &str = include_str!("../assets/requirements-test.txt");
const VALIDATOR: &str = include_str!("ocsf_validate.py");

/// Runs the validator on `events` (a file holding a JSON array); its JSON verdict and
/// whether it exited 0.
fn validate(events: &Path) -> (serde_json::Value, bool) {
    // The consumer's venv is made like the emulator's: pinned with hashes, cached, isolated.
    let python = keytriage::emulator::pinned_python(REQUIREMENTS).expect("the OCSF validator's venv");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ocsf_validate.py");
    std::fs::write(&script, VALIDATOR).unwrap();
    let out = Command::new(&python)
        .current_dir(dir.path())
        .arg("-I")
        .arg(&script)
        .arg(events)
        .output()
        .expect("run the OCSF validator");
    let verdict = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validator said no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (verdict, out.status.success())
}

#[test]
fn demo_ocsf_events_validate_for_every_rule_with_ocsf_severities() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.json");
    let out = common::keytriage_bin()
        .args(["--demo", "scan", "--quiet", "--format", "ocsf", "--output"])
        .arg(&path)
        .output()
        .expect("run keytriage");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let (verdict, ok) = validate(&path);
    assert!(ok, "{verdict}");
    assert_eq!(verdict["valid"].as_u64(), Some(events.len() as u64), "{verdict}");
    // The statuses a later scan gives (open since an earlier scan, excepted) are OCSF too.
    let mut later = events.clone();
    for (e, (id, name)) in later.iter_mut().zip([(2, "In Progress"), (3, "Suppressed")]) {
        e["status_id"] = id.into();
        e["status"] = name.into();
    }
    let later_path = dir.path().join("later.json");
    std::fs::write(&later_path, serde_json::to_string(&later).unwrap()).unwrap();
    let (later_verdict, later_ok) = validate(&later_path);
    assert!(later_ok, "{later_verdict}");
    let rules: BTreeSet<&str> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let all: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(rules, all, "every rule in the validated sample");
    // The consumer read each event's severity_id as the rule's severity maps to it.
    for e in &events {
        let rule = Rule::ALL
            .into_iter()
            .find(|r| r.id() == e["metadata"]["event_code"])
            .unwrap();
        let uid = e["finding_info"]["uid"].as_str().unwrap();
        assert_eq!(
            verdict["severity_ids"][uid].as_u64(),
            Some(u64::from(keytriage::report::ocsf::severity_id(rule.severity()))),
            "{uid}"
        );
        assert!(uid.starts_with(&format!(
            "keytriage/{}/{}/",
            e["resources"][0]["owner"]["account"]["uid"].as_str().unwrap(),
            rule.id()
        )));
    }
}

#[test]
fn the_validator_rejects_what_is_not_ocsf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let good = serde_json::json!({
        "metadata": {"version": "1.5.0", "product": {"vendor_name": "keytriage"}, "event_code": "x"},
        "category_uid": 2, "class_uid": 2003, "activity_id": 1, "type_uid": 200301,
        "severity_id": 3, "time": 1, "finding_info": {"uid": "u", "title": "t"},
        "compliance": {"standards": ["s"]}
    });
    let mut unknown = good.clone();
    unknown["finding_info"]["titel"] = "typo".into();
    let mut bad_severity = good.clone();
    bad_severity["severity_id"] = 7.into();
    std::fs::write(&path, serde_json::to_string(&[good, unknown, bad_severity]).unwrap()).unwrap();
    let (verdict, ok) = validate(&path);
    assert!(!ok);
    assert_eq!(
        (verdict["valid"].as_u64(), verdict["invalid"].as_u64()),
        (Some(1), Some(2)),
        "{verdict}"
    );
    assert!(
        verdict["errors"][0].as_str().unwrap().contains(".finding_info.titel"),
        "{verdict}"
    );
}
