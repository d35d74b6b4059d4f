//! `scan --format ocsf` read by an external OCSF consumer: the `py-ocsf-models` classes
//! (what Prowler uses), installed from `assets/requirements-test.txt` (pinned, hashed) into
//! a cached test-only venv, run by `tests/ocsf_validate.py`.

use keytriage::audit::Rule;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const REQUIREMENTS: &str = include_str!("../assets/requirements-test.txt");
const VALIDATOR: &str = include_str!("ocsf_validate.py");

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The test venv's python: `<cache>/ocsf-validator/venv-<hash of the requirements>`,
/// created once under a file lock (parallel tests share it), with the isolated system
/// python (`-I`) and the cache directory as working directory, installed with
/// `pip install --require-hashes`.
fn validator_python() -> (PathBuf, PathBuf) {
    let base = std::env::var_os("KEYTRIAGE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| directories::ProjectDirs::from("", "", "keytriage").map(|d| d.cache_dir().to_path_buf()))
        .unwrap_or_else(|| std::env::temp_dir().join("keytriage-cache"));
    let dir = base.join("ocsf-validator");
    std::fs::create_dir_all(&dir).unwrap();
    let venv = dir.join(format!("venv-{:016x}", fnv(REQUIREMENTS)));
    let python = venv.join("bin").join("python");
    let done = venv.join(".keytriage-ready");
    if !done.exists() {
        let lock = std::fs::File::create(dir.join("venv.lock")).unwrap();
        lock.lock().unwrap();
        if !done.exists() {
            let _ = std::fs::remove_dir_all(&venv);
            let system = std::env::var("KEYTRIAGE_PYTHON").unwrap_or_else(|_| "python3".into());
            run(
                Command::new(&system)
                    .current_dir(&dir)
                    .args(["-I", "-m", "venv"])
                    .arg(&venv),
                "python3 -m venv (python3 with venv is a test prerequisite)",
            );
            let req = dir.join("requirements-test.txt");
            std::fs::write(&req, REQUIREMENTS).unwrap();
            run(
                Command::new(&python)
                    .current_dir(&dir)
                    .args(["-I", "-m", "pip", "install", "--disable-pip-version-check", "-q"])
                    .args(["--require-hashes", "-r"])
                    .arg(&req),
                "pip install -r requirements-test.txt",
            );
            std::fs::write(&done, REQUIREMENTS).unwrap();
        }
    }
    let script = dir.join("ocsf_validate.py");
    if std::fs::read_to_string(&script).ok().as_deref() != Some(VALIDATOR) {
        let tmp = dir.join(format!("ocsf_validate.py.{}", std::process::id()));
        std::fs::write(&tmp, VALIDATOR).unwrap();
        std::fs::rename(&tmp, &script).unwrap();
    }
    (python, script)
}

/// Runs the validator on `events` (a file holding a JSON array); its JSON verdict and
/// whether it exited 0.
fn validate(events: &Path) -> (serde_json::Value, bool) {
    let (python, script) = validator_python();
    let out = Command::new(&python)
        .current_dir(script.parent().unwrap())
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
    let out = Command::new(env!("CARGO_BIN_EXE_keytriage"))
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
